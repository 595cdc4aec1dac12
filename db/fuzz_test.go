package db

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// allowlist is written out again here, apart from the validator's own
// table, so the fuzz property does not trust the code it checks.
var allowlist = strings.Fields("$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or $nor $not $regex $options $elemMatch $size $all")

// FuzzValidateFilter feeds arbitrary bytes through DecodeJSON and the
// validators. Nothing may panic, every refusal must be the typed error, and
// whatever ValidateFilter accepts may hold no "$" key outside the allowlist,
// no uncompilable $regex and no nesting beyond the cap; whatever
// ValidateDocument accepts may hold no "$"-prefixed or dotted key at all.
func FuzzValidateFilter(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"age":{"$gte":18,"$lt":65},"name":"Ada"}`,
		`{"$or":[{"a":1},{"b":{"$in":[1,2]}}]}`,
		`{"$where":"sleep(1000)"}`,
		`{"a":{"$elemMatch":{"b":{"$regex":"^x","$options":"i"}}}}`,
	} {
		f.Add([]byte(seed))
	}
	lim := Limits{MaxDepth: 12, MaxKeys: 500, MaxBytes: 1 << 14, MaxRegexBytes: 256}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := DecodeJSON(data, lim)
		if err != nil {
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("DecodeJSON error %v does not wrap ErrInvalidDocument", err)
			}
			return
		}
		if depth := nesting(doc); depth > lim.MaxDepth {
			t.Fatalf("DecodeJSON returned nesting %d beyond the cap %d", depth, lim.MaxDepth)
		}
		if err := ValidateFilter(doc, lim); err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("ValidateFilter error %#v is not a *QueryError", err)
			}
		} else {
			walkKeys(t, doc, func(key string, val any) {
				if strings.HasPrefix(key, "$") && !isAllowlisted(key) {
					t.Fatalf("accepted filter %s holds operator %s", data, key)
				}
				if s, ok := val.(string); ok && key == "$regex" {
					if _, err := regexp.Compile(s); err != nil {
						t.Fatalf("accepted filter %s holds a $regex that does not compile: %v", data, err)
					}
				}
			})
		}
		if err := ValidateDocument(doc, lim); err != nil {
			var de *DocumentError
			if !errors.As(err, &de) || !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("ValidateDocument error %#v is not a *DocumentError", err)
			}
		} else {
			walkKeys(t, doc, func(key string, _ any) {
				if strings.HasPrefix(key, "$") || strings.Contains(key, ".") || key == "" {
					t.Fatalf("accepted document %s holds field name %q", data, key)
				}
			})
		}
		_ = ValidateProjection(doc)
	})
}

func isAllowlisted(op string) bool {
	for _, a := range allowlist {
		if op == a {
			return true
		}
	}
	return false
}

// walkKeys calls fn for every key of every object in v, at any depth. v
// holds what DecodeJSON makes: bson.M, bson.A and scalars.
func walkKeys(t *testing.T, v any, fn func(key string, val any)) {
	t.Helper()
	switch x := v.(type) {
	case bson.M:
		for k, val := range x {
			fn(k, val)
			walkKeys(t, val, fn)
		}
	case bson.A:
		for _, e := range x {
			walkKeys(t, e, fn)
		}
	}
}

// nesting is the depth of the deepest object or array in v (v itself
// counts as 1).
func nesting(v any) int {
	deepest := 0
	switch x := v.(type) {
	case bson.M:
		for _, e := range x {
			deepest = max(deepest, nesting(e))
		}
	case bson.A:
		for _, e := range x {
			deepest = max(deepest, nesting(e))
		}
	default:
		return 0
	}
	return deepest + 1
}
