// Command marker-oracle says, for YAML files, which scalars Flux's image automation would set for
// `$imagepolicy` markers. It reads the files the way Flux does and applies Flux's rule, using
// go-yaml v3 (the parser kyaml wraps), so the marker scan can be held to it on generated inputs.
//
// Emulated from the sources, without kyaml (not packaged for Debian):
//   - fluxcd/image-automation-controller pkg/update/filereader.go: each file goes through
//     kio.ByteReader; a file the reader fails on is skipped whole.
//   - kustomize kyaml/kio/byteio_reader.go: CRLF becomes LF, the text is split on lines that start
//     with `---` (anything but a comment after it fails the file), and only the first document of
//     each part is decoded; empty and null documents are dropped. Every document is annotated
//     (metadata.annotations), which needs a mapping at its root.
//   - pkg/update/filter.go `accept`: mapping values and sequence elements are walked (never keys,
//     never aliases); each scalar's schema comes from kyaml/fieldmeta.FieldMeta.Read.
//   - kyaml/fieldmeta.FieldMeta.Read: the line comment, else the head comment; the first non-empty
//     one alone decides. Leading `#`s are trimmed and the rest must unmarshal as a JSON object of
//     strings whose "$imagepolicy" names a setter (every name counts as known here).
//
// Input on stdin: a JSON array of {id, text}. Output on stdout: a JSON array of {id, sets, rejected}
// where each set is {setter, line, column, value}: the 1-based line and column (in characters) of
// the value's first character (after any anchor or tag) and its value before the set.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

type input struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type set struct {
	Setter string `json:"setter"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Value  string `json:"value"`
}

type output struct {
	ID       string `json:"id"`
	Sets     []set  `json:"sets"`
	Rejected string `json:"rejected,omitempty"`
}

// The same expression kyaml's splitDocuments uses.
var separator = regexp.MustCompile(`\n---.*\n`)

type part struct {
	text string
	// Lines of the file before this part, so node lines map back to the file.
	lineOffset int
}

func split(s string) ([]part, error) {
	var parts []part
	if s == "" {
		return parts, nil
	}
	prev := 0
	for _, loc := range separator.FindAllStringIndex(s, -1) {
		after := strings.TrimSpace(s[loc[0]+4 : loc[1]])
		if after != "" && after[0] != '#' {
			return nil, fmt.Errorf("invalid document separator: %s", strings.TrimSpace(s[loc[0]:loc[1]]))
		}
		parts = append(parts, part{text: s[prev:loc[0]], lineOffset: strings.Count(s[:prev], "\n")})
		prev = loc[1]
	}
	parts = append(parts, part{text: s[prev:], lineOffset: strings.Count(s[:prev], "\n")})
	return parts, nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// setterOf is FieldMeta.Read followed by the short-hand lookup: "" when the node sets nothing.
func setterOf(n *yaml.Node) string {
	for _, c := range []string{n.LineComment, n.HeadComment} {
		if c == "" {
			continue
		}
		fields := map[string]string{}
		if err := json.Unmarshal([]byte(strings.TrimLeft(c, "#")), &fields); err != nil {
			return ""
		}
		return fields["$imagepolicy"]
	}
	return ""
}

// valueStart moves from a node's mark (which is at its anchor or tag, when it has one) to the
// first character of the value itself, in the part's text.
func valueStart(text string, line, column int) (int, int) {
	lines := strings.SplitAfter(text, "\n")
	// go-yaml does not count a byte order mark as a column.
	lines[0] = strings.TrimPrefix(lines[0], "\ufeff")
	l, c := line-1, column-1
	rest := func() []rune { return []rune(lines[l])[c:] }
	inProps := true
	for l < len(lines) {
		r := rest()
		if len(r) == 0 || r[0] == '\n' || r[0] == '#' {
			l, c = l+1, 0
			continue
		}
		switch {
		case r[0] == ' ' || r[0] == '\t' || r[0] == '\ufeff':
			c++
		case inProps && (r[0] == '&' || r[0] == '!'):
			for len(r) > 0 && r[0] != ' ' && r[0] != '\t' && r[0] != '\n' {
				c++
				r = r[1:]
			}
		default:
			return l + 1, c + 1
		}
	}
	return line, column
}

func walk(n *yaml.Node, p part, sets *[]set) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			walk(n.Content[0], p, sets)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			walk(n.Content[i], p, sets)
		}
	case yaml.SequenceNode:
		for _, e := range n.Content {
			walk(e, p, sets)
		}
	case yaml.ScalarNode:
		if name := setterOf(n); name != "" {
			line, column := n.Line, n.Column
			if n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
				line, column = valueStart(p.text, line, column)
			}
			*sets = append(*sets, set{Setter: name, Line: line + p.lineOffset, Column: column, Value: n.Value})
		}
	}
}

func oracle(text string) output {
	var out output
	out.Sets = []set{}
	parts, err := split(strings.ReplaceAll(text, "\r\n", "\n"))
	if err != nil {
		out.Rejected = err.Error()
		return out
	}
	var docs []*yaml.Node
	for i, p := range parts {
		if i != len(parts)-1 {
			parts[i].text += "\n"
			p.text += "\n"
		}
		var doc yaml.Node
		err := yaml.NewDecoder(strings.NewReader(p.text)).Decode(&doc)
		if errors.Is(err, io.EOF) {
			docs = append(docs, nil)
			continue
		}
		if err != nil {
			out.Rejected = err.Error()
			return out
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			docs = append(docs, nil)
			continue
		}
		if doc.Content[0].Kind != yaml.MappingNode {
			out.Rejected = "document root is not a mapping (the reader cannot annotate it)"
			return out
		}
		docs = append(docs, &doc)
	}
	for i, doc := range docs {
		if doc != nil {
			walk(doc, parts[i], &out.Sets)
		}
	}
	sort.SliceStable(out.Sets, func(a, b int) bool {
		if out.Sets[a].Line != out.Sets[b].Line {
			return out.Sets[a].Line < out.Sets[b].Line
		}
		return out.Sets[a].Column < out.Sets[b].Column
	})
	return out
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var cases []input
	if err := json.Unmarshal(raw, &cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	results := make([]output, 0, len(cases))
	for _, c := range cases {
		if !utf8.ValidString(c.Text) {
			fmt.Fprintf(os.Stderr, "case %s: not UTF-8\n", c.ID)
			os.Exit(1)
		}
		r := oracle(c.Text)
		r.ID = c.ID
		results = append(results, r)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
