package update

import (
	"sort"
	"strings"
)

// Input is what the image updater sends: the flat list of changes the rewrite made. Setter is
// the marker's policy (namespace:name[:field]), Image the full reference the policy chose.
type Input struct {
	Automation NamespacedName
	Values     map[string]string
	Changes    []struct {
		File, OldValue, NewValue, Setter, Image string
		Object                                  ResourceIdentifier
	}
}

// NewTemplateData groups the changes by file and object, as Flux's update does.
func NewTemplateData(in Input) TemplateData {
	files, changes, seen := map[string]FileResult{}, map[string]ObjectChanges{}, map[[3]any]bool{}
	for _, c := range in.Changes {
		id := ObjectIdentifier{c.Object}
		if changes[c.File] == nil {
			changes[c.File], files[c.File] = ObjectChanges{}, FileResult{map[ObjectIdentifier][]ImageRef{}}
		}
		changes[c.File][id] = append(changes[c.File][id], Change{c.OldValue, c.NewValue, c.Setter})
		policy := strings.Split(c.Setter+"::", ":")
		if ref := parseImageRef(c.Image, NamespacedName{policy[0], policy[1]}); !seen[[3]any{c.File, id, ref}] {
			seen[[3]any{c.File, id, ref}] = true
			files[c.File].Objects[id] = append(files[c.File].Objects[id], ref)
		}
	}
	if in.Values == nil {
		in.Values = map[string]string{}
	}
	return TemplateData{in.Automation, Result{files}, ResultV2{Result{files}, changes}, in.Values}
}

// Images returns every image used in at least one update.
func (r Result) Images() (out []ImageRef) {
	seen := map[ImageRef]bool{}
	walk(r.byFile(), func(_ ObjectIdentifier, refs []ImageRef) { out = appendNew(out, seen, refs...) })
	return out
}

// Objects returns each object's images, whichever files it appears in.
func (r Result) Objects() map[ObjectIdentifier][]ImageRef {
	out := map[ObjectIdentifier][]ImageRef{}
	walk(r.byFile(), func(id ObjectIdentifier, refs []ImageRef) { out[id] = append(out[id], refs...) })
	return out
}

func (r Result) byFile() map[string]map[ObjectIdentifier][]ImageRef {
	m := map[string]map[ObjectIdentifier][]ImageRef{}
	for f, result := range r.Files {
		m[f] = result.Objects
	}
	return m
}

// Changes returns every change made in at least one update.
func (r ResultV2) Changes() (out []Change) {
	seen := map[Change]bool{}
	walk(r.FileChanges, func(_ ObjectIdentifier, changes []Change) { out = appendNew(out, seen, changes...) })
	return out
}

// Objects returns each object's changes, whichever files it appears in.
func (r ResultV2) Objects() ObjectChanges {
	out := ObjectChanges{}
	walk(r.FileChanges, func(id ObjectIdentifier, changes []Change) { out[id] = append(out[id], changes...) })
	return out
}

func appendNew[T comparable](list []T, seen map[T]bool, items ...T) []T {
	for _, item := range items {
		if !seen[item] {
			seen[item] = true
			list = append(list, item)
		}
	}
	return list
}

// walk visits files, then objects, in the order a template's range does: where Flux ranges over
// Go maps (random order), the same data gives the same message every time. Struct keys sort
// field by field; NUL cannot occur in these names.
func walk[T any, M ~map[ObjectIdentifier][]T](files map[string]M, visit func(ObjectIdentifier, []T)) {
	for _, f := range sorted(files, func(f string) string { return f }) {
		for _, id := range sorted(files[f], func(id ObjectIdentifier) string {
			return strings.Join([]string{id.APIVersion, id.Kind, id.Name, id.Namespace}, "\x00")
		}) {
			visit(id, files[f][id])
		}
	}
}

func sorted[K comparable, V any](m map[K]V, key func(K) string) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return key(keys[i]) < key(keys[j]) })
	return keys
}
