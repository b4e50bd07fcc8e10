package update

import (
	"fmt"
	"sort"
	"strings"
)

// Input is the flat list of changes the rewrite made (model "commit"). Setter is the marker's
// policy (namespace:name[:field]), Image the full reference the policy chose.
type Input struct {
	Automation NamespacedName
	Values     map[string]string
	Changes    []struct {
		File, OldValue, NewValue, Setter, Image string
		Object                                  ResourceIdentifier
	}
}

// CompactInput is what the image updater sends (model "commit-compact"): the same changes with
// every distinct string once, so that a run of 20,000 changes is not megabytes of JSON to
// decode. An object is [file, apiVersion, kind, name, namespace] and a change [object, old
// value, new value, setter, image]: indices into Strings, and a change's object into Objects.
type CompactInput struct {
	Automation NamespacedName
	Values     map[string]string
	Strings    []string
	Objects    [][5]int
	Changes    [][5]int
}

// Compact gives the list's compact form.
func (in Input) Compact() CompactInput {
	out := CompactInput{Automation: in.Automation, Values: in.Values}
	strs, objects := map[string]int{}, map[[5]int]int{}
	str := func(s string) int {
		i, ok := strs[s]
		if !ok {
			i, strs[s] = len(out.Strings), len(out.Strings)
			out.Strings = append(out.Strings, s)
		}
		return i
	}
	for _, c := range in.Changes {
		o := c.Object
		key := [5]int{str(c.File), str(o.APIVersion), str(o.Kind), str(o.Name), str(o.Namespace)}
		i, ok := objects[key]
		if !ok {
			i, objects[key] = len(out.Objects), len(out.Objects)
			out.Objects = append(out.Objects, key)
		}
		out.Changes = append(out.Changes, [5]int{i, str(c.OldValue), str(c.NewValue), str(c.Setter), str(c.Image)})
	}
	return out
}

// NewTemplateData groups the changes by file and object, as Flux's update does. The work is
// done by index: each distinct image and policy is parsed once, and an object's images are kept
// once each.
func NewTemplateData(in CompactInput) (TemplateData, error) {
	at := func(i int) (string, error) {
		if i < 0 || i >= len(in.Strings) {
			return "", fmt.Errorf("string %d of %d", i, len(in.Strings))
		}
		return in.Strings[i], nil
	}
	type object struct {
		file string
		id   ObjectIdentifier
	}
	type grouped struct {
		object
		changes []Change
		refs    []ImageRef
		seen    map[int]bool
	}
	// One group per distinct file and object, whichever indices name it.
	var groups []*grouped
	byIndex := make([]*grouped, len(in.Objects))
	canonical := map[object]*grouped{}
	for i, o := range in.Objects {
		var parts [5]string
		for k, s := range o {
			var err error
			if parts[k], err = at(s); err != nil {
				return TemplateData{}, err
			}
		}
		key := object{parts[0], ObjectIdentifier{ResourceIdentifier{TypeMeta{parts[1], parts[2]}, NameMeta{parts[3], parts[4]}}}}
		if canonical[key] == nil {
			canonical[key] = &grouped{object: key, seen: map[int]bool{}}
			groups = append(groups, canonical[key])
		}
		byIndex[i] = canonical[key]
	}
	// Each image and setter's reference, parsed once, numbered by value: setters that differ only
	// in their field give the same reference, which an object lists once.
	type numbered struct {
		ImageRef
		n int
	}
	refs, numbers := map[[2]int]numbered{}, map[ImageRef]int{}
	for _, c := range in.Changes {
		if c[0] < 0 || c[0] >= len(byIndex) {
			return TemplateData{}, fmt.Errorf("object %d of %d", c[0], len(byIndex))
		}
		var parts [4]string
		for k, s := range c[1:] {
			var err error
			if parts[k], err = at(s); err != nil {
				return TemplateData{}, err
			}
		}
		g, setter, refKey := byIndex[c[0]], parts[2], [2]int{c[4], c[3]}
		g.changes = append(g.changes, Change{parts[0], parts[1], setter})
		ref, ok := refs[refKey]
		if !ok {
			policy := strings.Split(setter+"::", ":")
			ref.ImageRef = parseImageRef(parts[3], NamespacedName{policy[0], policy[1]})
			if ref.n, ok = numbers[ref.ImageRef]; !ok {
				ref.n = len(numbers)
				numbers[ref.ImageRef] = ref.n
			}
			refs[refKey] = ref
		}
		if !g.seen[ref.n] {
			g.seen[ref.n] = true
			g.refs = append(g.refs, ref.ImageRef)
		}
	}
	files, changes := map[string]FileResult{}, map[string]ObjectChanges{}
	for _, g := range groups {
		if len(g.changes) == 0 {
			continue
		}
		if changes[g.file] == nil {
			changes[g.file], files[g.file] = ObjectChanges{}, FileResult{map[ObjectIdentifier][]ImageRef{}}
		}
		changes[g.file][g.id], files[g.file].Objects[g.id] = g.changes, g.refs
	}
	if in.Values == nil {
		in.Values = map[string]string{}
	}
	return TemplateData{in.Automation, Result{files}, ResultV2{Result{files}, changes}, in.Values}, nil
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
