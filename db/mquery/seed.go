package mquery

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// upsertSeed is UpsertSeed. It takes what it can: a filter it cannot read
// gives what was read before the fault (Compile reports the fault), and a
// path that conflicts with one already taken ("a" and "a.b") is skipped.
func upsertSeed(filter bson.M) bson.M {
	out := bson.M{}
	nf, err := normalize(filter)
	if err != nil {
		return out
	}
	f, _ := nf.(bson.M)
	seedFrom(out, f)
	return out
}

func seedFrom(out, f bson.M) {
	for _, k := range sortedKeys(f, nil) {
		v := f[k]
		if k == "$and" {
			list, _ := v.(bson.A)
			for _, e := range list {
				if d, ok := e.(bson.M); ok {
					seedFrom(out, d)
				}
			}
			continue
		}
		if strings.HasPrefix(k, "$") || checkFieldPath(k) != nil {
			continue
		}
		switch t := v.(type) {
		case bson.M:
			if isOps, err := operatorDoc(t, k); err != nil {
				continue
			} else if isOps {
				if eq, ok := t["$eq"]; ok {
					setSeed(out, k, eq)
				}
				continue
			}
		case primitive.Regex:
			continue // a pattern, not a value
		}
		setSeed(out, k, v)
	}
}

// setSeed sets a dotted path, creating documents on the way. Numeric
// components make fields, not arrays, as MongoDB does on insert.
func setSeed(out bson.M, path string, v any) {
	parts := splitPath(path)
	d := out
	for _, p := range parts[:len(parts)-1] {
		cur, ok := d[p]
		if !ok {
			child := bson.M{}
			d[p] = child
			d = child
			continue
		}
		child, ok := cur.(bson.M)
		if !ok {
			return
		}
		d = child
	}
	last := parts[len(parts)-1]
	if _, taken := d[last]; !taken {
		d[last] = deepCopy(v)
	}
}
