package mquery

import (
	"slices"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// sortField is one compiled entry of a sort spec.
type sortField struct {
	parts []string
	desc  bool
}

// compileSort checks a sort spec: field paths, each with 1 or -1 (of any
// numeric type), none twice.
func compileSort(spec bson.D) ([]sortField, error) {
	fields := make([]sortField, 0, len(spec))
	seen := make(map[string]bool, len(spec))
	for _, e := range spec {
		if err := checkFieldPath(e.Key); err != nil {
			return nil, err
		}
		if seen[e.Key] {
			return nil, &db.QueryError{Op: e.Key, Msg: "sort field named twice"}
		}
		seen[e.Key] = true
		v, err := normalize(e.Value)
		if err != nil {
			return nil, inField(err, e.Key)
		}
		dir, ok := wholeNumber(v)
		if !ok || (dir != 1 && dir != -1) {
			return nil, &db.QueryError{Op: e.Key, Msg: "sort order must be 1 or -1"}
		}
		fields = append(fields, sortField{parts: splitPath(e.Key), desc: dir == -1})
	}
	return fields, nil
}

// checkFieldPath refuses field paths MongoDB refuses in sorts, updates and
// projections: empty ones, empty components ("a..b") and components that
// start with "$" (positional operators, which are not supported).
func checkFieldPath(path string) error {
	if path == "" {
		return &db.QueryError{Op: path, Msg: "field path cannot be empty"}
	}
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			return &db.QueryError{Op: path, Msg: "field path cannot contain an empty component"}
		}
		if strings.HasPrefix(part, "$") {
			return &db.QueryError{Op: path, Msg: "field path component cannot start with $ (positional and $meta paths are not supported)"}
		}
	}
	return nil
}

// sortDocs is Sort. Each document's keys are computed once, not in every
// comparison.
func sortDocs(docs []bson.M, spec bson.D) error {
	fields, err := compileSort(spec)
	if err != nil || len(fields) == 0 || len(docs) < 2 {
		return err
	}
	type entry struct {
		doc  bson.M
		keys []any
	}
	entries := make([]entry, len(docs))
	keys := make([]any, len(docs)*len(fields))
	for i, d := range docs {
		entries[i] = entry{doc: d, keys: keys[i*len(fields) : (i+1)*len(fields)]}
		for j, f := range fields {
			entries[i].keys[j] = sortKey(d, f.parts, f.desc)
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		for j, f := range fields {
			c := compareValues(a.keys[j], b.keys[j])
			if f.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	for i := range entries {
		docs[i] = entries[i].doc
	}
	return nil
}

// keyPicker keeps the smallest (ascending) or largest (descending) of the
// values a path reaches.
type keyPicker struct {
	best  any
	found bool
	desc  bool
}

func (k *keyPicker) offer(v any) {
	if !k.found {
		k.best, k.found = v, true
		return
	}
	c := compareValues(v, k.best)
	if (k.desc && c > 0) || (!k.desc && c < 0) {
		k.best = v
	}
}

// sortKey is the value a document sorts by, with MongoDB's rules: a
// missing field is null, an array contributes its elements (the smallest
// ascending, the largest descending), and an empty array sorts below null.
func sortKey(doc bson.M, parts []string, desc bool) any {
	k := keyPicker{desc: desc}
	keyInDoc(doc, parts, &k)
	if !k.found {
		return nil
	}
	return k.best
}

func keyInDoc(d bson.M, parts []string, k *keyPicker) {
	v, ok := d[parts[0]]
	if !ok {
		k.offer(nil)
		return
	}
	keyAt(v, parts[1:], k)
}

func keyAt(v any, rest []string, k *keyPicker) {
	if len(rest) == 0 {
		arr, ok := v.(bson.A)
		switch {
		case !ok:
			k.offer(v)
		case len(arr) == 0:
			k.offer(primitive.Undefined{}) // the class just below null
		default:
			for _, e := range arr {
				k.offer(e)
			}
		}
		return
	}
	switch t := v.(type) {
	case bson.M:
		keyInDoc(t, rest, k)
	case bson.A:
		if i, ok := arrayIndex(rest[0]); ok && i < len(t) {
			keyAt(t[i], rest[1:], k)
		}
		for _, e := range t {
			if d, ok := e.(bson.M); ok {
				keyInDoc(d, rest, k)
			}
		}
	default:
		k.offer(nil)
	}
}
