// Package update mirrors the data Flux's image-automation-controller gives a commit message
// template (its update results, plus the v1beta1 .Updated that Tidemark keeps), so that templates
// print, range and fail as they do there.
package update

import (
	"encoding/json"
	"strings"
)

type TemplateData struct {
	AutomationObject NamespacedName
	Updated          Result
	Changed          ResultV2
	Values           map[string]string
}

// Result is v1beta1's .Updated (file -> object -> images); ResultV2 is v1beta2's .Changed.
type Result struct{ Files map[string]FileResult }
type FileResult struct {
	Objects map[ObjectIdentifier][]ImageRef
}
type ResultV2 struct {
	ImageResult Result
	FileChanges map[string]ObjectChanges
}
type ObjectChanges map[ObjectIdentifier][]Change
type Change struct{ OldValue, NewValue, Setter string }

// NamespacedName is k8s.io/apimachinery's: it prints as namespace/name.
type NamespacedName struct{ Namespace, Name string }

func (n NamespacedName) String() string { return n.Namespace + "/" + n.Name }

// ObjectIdentifier embeds kyaml's ResourceIdentifier: the nesting shows in %v, the tags in toJson.
type ObjectIdentifier struct{ ResourceIdentifier }
type ResourceIdentifier struct {
	TypeMeta `json:",inline"`
	NameMeta `json:",inline"`
}
type TypeMeta struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
}
type NameMeta struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// ImageRef is the image a policy chose, parsed with go-containerregistry's weak-validation
// defaults. Flux's has these as methods (templates cannot tell); Tag and Digest are Tidemark's.
type ImageRef struct {
	reference                                           string
	Registry, Repository, Tag, Digest, Identifier, Name string
	Policy                                              NamespacedName
}

func (r ImageRef) String() string { return r.reference }

// MarshalJSON: Flux's ImageRef embeds a name.Reference interface, so toJson gives {"Reference": ...}.
func (r ImageRef) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"Reference": r.reference})
}

func parseImageRef(s string, policy NamespacedName) ImageRef {
	r := ImageRef{reference: s, Registry: "index.docker.io", Repository: s, Identifier: "latest", Policy: policy}
	if at := strings.IndexByte(s, '@'); at >= 0 {
		r.Repository, r.Digest = s[:at], s[at+1:]
	}
	if c := strings.LastIndexByte(r.Repository, ':'); c >= 0 && !strings.Contains(r.Repository[c+1:], "/") {
		r.Repository, r.Tag = r.Repository[:c], r.Repository[c+1:]
	}
	// The first path component names the registry only when it looks like a host.
	if host, path, ok := strings.Cut(r.Repository, "/"); ok && strings.ContainsAny(host, ".:") {
		r.Registry, r.Repository = host, path
	}
	if r.Registry == "docker.io" {
		r.Registry = "index.docker.io"
	}
	if r.Registry == "index.docker.io" && !strings.Contains(r.Repository, "/") {
		r.Repository = "library/" + r.Repository
	}
	if r.Tag != "" {
		r.Identifier = r.Tag
	}
	if r.Name = r.Registry + "/" + r.Repository + ":" + r.Identifier; r.Digest != "" {
		r.Identifier, r.Name = r.Digest, r.Registry+"/"+r.Repository+"@"+r.Digest
	}
	return r
}
