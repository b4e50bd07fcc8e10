// Command commit-template renders a commit message template with Go's text/template and Sprig's
// hermetic functions over Flux's template data. Built for js/wasm it serves the image updater;
// built natively it is the reference the tests hold the module to.
package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"tidemark/commit-template/update"
)

// capped refuses the write that would take the output past max bytes (Execute returns that
// error as it is), so a runaway template stops early.
type capped struct {
	strings.Builder
	max int
}

func (w *capped) Write(p []byte) (int, error) {
	if w.Len()+len(p) > w.max {
		return 0, fmt.Errorf("template: commit message: output exceeds %d bytes", w.max)
	}
	return w.Builder.Write(p)
}

// render answers {template, data (absent: parse only), maxOutput} with {output} or
// {stage: "request" | "parse" | "execute", error}.
func render(raw []byte) []byte {
	var req struct {
		Template  string
		Data      *update.Input
		MaxOutput int
	}
	var t *template.Template
	w, stage := &capped{}, "request"
	err := json.Unmarshal(raw, &req)
	if err == nil {
		stage, w.max = "parse", req.MaxOutput
		t, err = template.New("commit message").Funcs(sprig.HermeticTxtFuncMap()).Parse(req.Template)
	}
	if err == nil && req.Data != nil {
		stage, err = "execute", t.Execute(w, update.NewTemplateData(*req.Data))
	}
	if err != nil {
		out, _ := json.Marshal(map[string]string{"stage": stage, "error": err.Error()})
		return out
	}
	out, _ := json.Marshal(map[string]string{"output": w.String()})
	return out
}
