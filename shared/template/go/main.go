// Command commit-template renders a template with Go's text/template and Sprig's hermetic
// functions over Flux's data: an image update automation's commit message data (model "commit",
// the default) or an Alert's event (model "event"). Built for js/wasm it serves the image updater
// and the notification program; built natively it is the reference the tests hold the module to.
package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"tidemark/commit-template/event"
	"tidemark/commit-template/update"
)

// capped refuses the write that would take the output past max bytes (Execute returns that
// error as it is), so a runaway template stops early.
type capped struct {
	strings.Builder
	name string
	max  int
}

func (w *capped) Write(p []byte) (int, error) {
	if w.Len()+len(p) > w.max {
		return 0, fmt.Errorf("template: %s: output exceeds %d bytes", w.name, w.max)
	}
	return w.Builder.Write(p)
}

// templateData decodes the request's data into the model's Go types.
func templateData(model string, raw json.RawMessage) (any, error) {
	switch model {
	case "", "commit":
		var in update.Input
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, err
		}
		return update.NewTemplateData(in.Compact())
	case "commit-compact":
		var in update.CompactInput
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, err
		}
		return update.NewTemplateData(in)
	case "event":
		var e event.Event
		err := json.Unmarshal(raw, &e)
		return e, err
	}
	return nil, fmt.Errorf("unknown data model %q", model)
}

// render answers {template, data (absent: parse only), maxOutput, name (default "commit
// message"), model (default "commit"; "commit-compact" or "event")} with {output} or {stage: "request" | "parse" | "execute", error}.
func render(raw []byte) []byte {
	var req struct {
		Template  string
		Data      json.RawMessage
		MaxOutput int
		Name      string
		Model     string
	}
	var t *template.Template
	w, stage := &capped{}, "request"
	err := json.Unmarshal(raw, &req)
	if req.Name == "" {
		req.Name = "commit message"
	}
	if err == nil {
		stage, w.name, w.max = "parse", req.Name, req.MaxOutput
		t, err = template.New(req.Name).Funcs(sprig.HermeticTxtFuncMap()).Parse(req.Template)
	}
	if err == nil && len(req.Data) > 0 && string(req.Data) != "null" {
		var data any
		if data, err = templateData(req.Model, req.Data); err != nil {
			stage = "request"
		} else {
			stage, err = "execute", t.Execute(w, data)
		}
	}
	if err != nil {
		out, _ := json.Marshal(map[string]string{"stage": stage, "error": err.Error()})
		return out
	}
	out, _ := json.Marshal(map[string]string{"output": w.String()})
	return out
}
