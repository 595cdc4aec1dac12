package db

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestLimitsDefaults(t *testing.T) {
	t.Parallel()
	got := Limits{MaxDepth: 5, MaxKeys: -1}.WithDefaults()
	want := Limits{MaxDepth: 5, MaxKeys: DefaultMaxKeys, MaxBytes: DefaultMaxBytes, MaxRegexBytes: DefaultMaxRegexBytes}
	if got != want {
		t.Fatalf("WithDefaults = %+v, want %+v", got, want)
	}
}

// nest wraps leaf in n levels of {"a": …}.
func nest(n int, leaf any) bson.M {
	doc := bson.M{"a": leaf}
	for i := 1; i < n; i++ {
		doc = bson.M{"a": doc}
	}
	return doc
}

func TestValidateDocumentAccepts(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		doc  bson.M
		lim  Limits
	}{
		{"empty", bson.M{}, Limits{}},
		{"every value type", bson.M{
			"_id": primitive.NewObjectID(), "s": "x", "i32": int32(1), "i64": int64(2), "i": 3,
			"big": math.MaxInt64, "f": 1.5, "nan": math.NaN(), "b": true, "null": nil,
			"date": primitive.NewDateTimeFromTime(time.Now()), "time": time.Now(),
			"bin": primitive.Binary{Data: []byte{1, 2}}, "raw": []byte("x"),
			"dec": primitive.NewDecimal128(1, 2), "re": primitive.Regex{Pattern: "a"},
			"ts": primitive.Timestamp{T: 1}, "u32": uint32(7),
		}, Limits{}},
		{"nested documents and arrays", bson.M{
			"profile": bson.M{"name": "Ada", "langs": bson.A{"en", bson.M{"code": "fr"}}},
			"m":       map[string]any{"k": []any{1, 2}}, "d": bson.D{{Key: "x", Value: 1}},
			"tags": []string{"a", "b"}, "docs": []bson.M{{"x": 1}},
		}, Limits{}},
		{"unicode and spaces in names", bson.M{"prénom": 1, "with space": 2, "a-b": 3}, Limits{}},
		{"dollar inside a name", bson.M{"price$": 1}, Limits{}},
		{"depth exactly at the cap", nest(4, 1), Limits{MaxDepth: 4}},
		{"keys exactly at the cap", bson.M{"a": 1, "b": bson.A{1, 2}}, Limits{MaxKeys: 4}},
		{"_id a document", bson.M{"_id": bson.M{"k": 1}}, Limits{}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateDocument(s.doc, s.lim); err != nil {
				t.Fatalf("ValidateDocument: %v", err)
			}
		})
	}
}

func TestValidateDocumentRefuses(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		doc  bson.M
		lim  Limits
		path string
		want string
	}{
		{"nil", nil, Limits{}, "", "invalid document: document is missing"},
		{"dollar key", bson.M{"$set": 1}, Limits{}, "$set", `invalid document: $set: field names may not start with "$"`},
		{"nested dollar key", bson.M{"profile": bson.M{"ok": 1, "$where": "x"}}, Limits{}, "profile.$where", `invalid document: profile.$where: field names may not start with "$"`},
		{"dollar key inside an array", bson.M{"tags": bson.A{"a", bson.M{"$x": 1}}}, Limits{}, "tags.1.$x", `invalid document: tags.1.$x: field names may not start with "$"`},
		{"dot in key", bson.M{"a.b": 1}, Limits{}, "a.b", `invalid document: a.b: field names may not contain "."`},
		{"NUL in key", bson.M{"a\x00b": 1}, Limits{}, "a\x00b", `invalid document: "a\x00b": field names may not contain NUL`},
		{"invalid UTF-8 key", bson.M{"a\xffb": 1}, Limits{}, "a\xffb", `invalid document: "a\xffb": field names must be valid UTF-8`},
		{"empty key", bson.M{"x": bson.M{"": 1}}, Limits{}, "x.", "invalid document: x.: empty field name"},
		{"array _id", bson.M{"_id": bson.A{1}}, Limits{}, "_id", "invalid document: _id: _id cannot be an array"},
		{"repeated key in bson.D", bson.M{"d": bson.D{{Key: "k", Value: 1}, {Key: "k", Value: 2}}}, Limits{}, "d.k", "invalid document: d.k: field appears twice"},
		{"unsupported type", bson.M{"ch": make(chan int)}, Limits{}, "ch", "invalid document: ch: unsupported value type chan int"},
		{"struct", bson.M{"x": bson.A{struct{}{}}}, Limits{}, "x.0", "invalid document: x.0: unsupported value type struct {}"},
		{"uint64 beyond int64", bson.M{"u": uint64(math.MaxUint64)}, Limits{}, "u", "invalid document: u: unsupported value type uint64"},
		{"too deep", nest(5, 1), Limits{MaxDepth: 4}, "a.a.a.a", "invalid document: a.a.a.a: nested deeper than 4 levels"},
		{"too deep by arrays", bson.M{"a": bson.A{bson.A{bson.A{1}}}}, Limits{MaxDepth: 3}, "a.0.0", "invalid document: a.0.0: nested deeper than 3 levels"},
		{"too many keys", bson.M{"a": 1, "b": bson.A{1, 2, 3}}, Limits{MaxKeys: 4}, "", "invalid document: more than 4 fields and array elements"},
		{"too big", bson.M{"s": strings.Repeat("x", 100)}, Limits{MaxBytes: 100}, "", "invalid document: document is more than the limit of 100 bytes"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateDocument(s.doc, s.lim)
			if err == nil {
				t.Fatal("ValidateDocument accepted it")
			}
			if err.Error() != s.want {
				t.Fatalf("error\n got %s\nwant %s", err, s.want)
			}
			var de *DocumentError
			if !errors.Is(err, ErrInvalidDocument) || !errors.As(err, &de) || de.Path != s.path {
				t.Fatalf("error %#v: want a *DocumentError at %q wrapping ErrInvalidDocument", err, s.path)
			}
		})
	}
}

func TestValidateDocumentSizeIsBSONSize(t *testing.T) {
	t.Parallel()
	doc := bson.M{"s": "hello", "n": int32(1), "l": int64(2), "f": 1.5, "a": bson.A{"x", true}, "d": bson.M{"k": nil}}
	raw, err := bson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateDocument(doc, Limits{MaxBytes: len(raw)}); err != nil {
		t.Fatalf("at its exact size %d: %v", len(raw), err)
	}
	if err := ValidateDocument(doc, Limits{MaxBytes: len(raw) - 1}); err == nil {
		t.Fatalf("accepted at %d bytes, one less than its size", len(raw)-1)
	}
}

func TestValidateDocumentCycleStops(t *testing.T) {
	t.Parallel()
	doc := bson.M{}
	doc["self"] = doc
	if err := ValidateDocument(doc, Limits{}); err == nil || !strings.Contains(err.Error(), "nested deeper than 32 levels") {
		t.Fatalf("cyclic document: %v", err)
	}
}

func TestValidateSort(t *testing.T) {
	t.Parallel()
	many := bson.D{}
	for i := range 33 {
		many = append(many, bson.E{Key: "f" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Value: 1})
	}
	scenarios := []struct {
		name string
		sort bson.D
		want string // empty: accepted
	}{
		{"nil", nil, ""},
		{"compound", bson.D{{Key: "age", Value: -1}, {Key: "name", Value: int32(1)}, {Key: "a.b", Value: 1.0}, {Key: "c", Value: int64(-1)}}, ""},
		{"direction 2", bson.D{{Key: "age", Value: 2}}, "invalid query: age: sort direction must be 1 or -1, got 2"},
		{"direction string", bson.D{{Key: "age", Value: "asc"}}, "invalid query: age: sort direction must be 1 or -1, got a string"},
		{"direction document", bson.D{{Key: "score", Value: bson.M{"$meta": "textScore"}}}, "invalid query: score: sort direction must be 1 or -1, got a document"},
		{"operator key", bson.D{{Key: "$natural", Value: 1}}, "invalid query: $natural: unknown operator"},
		{"dollar segment", bson.D{{Key: "a.$b", Value: 1}}, `invalid query: a.$b: field path segments may not start with "$"`},
		{"empty segment", bson.D{{Key: "a..b", Value: 1}}, "invalid query: a..b: empty segment in field path"},
		{"empty name", bson.D{{Key: "", Value: 1}}, "invalid query: empty field name"},
		{"twice", bson.D{{Key: "a", Value: 1}, {Key: "a", Value: -1}}, "invalid query: a: sorted on twice"},
		{"too many", many, "invalid query: sort: more than 32 sort keys"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			checkQueryError(t, ValidateSort(s.sort), s.want)
		})
	}
}

func TestValidateProjection(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		proj bson.M
		want string
	}{
		{"nil", nil, ""},
		{"inclusions", bson.M{"name": 1, "profile.email": true, "n": int64(1), "f": 1.0}, ""},
		{"exclusions", bson.M{"secret": 0, "profile.token": false}, ""},
		{"inclusions without _id", bson.M{"name": 1, "_id": 0}, ""},
		{"only _id excluded", bson.M{"_id": false}, ""},
		{"siblings sharing a prefix", bson.M{"a": 1, "ab": 1, "a-b.c": 1}, ""},
		{"mixed", bson.M{"name": 1, "secret": 0}, "invalid query: projection: cannot mix inclusion (name) and exclusion (secret); only _id may be excluded beside inclusions"},
		{"value 2", bson.M{"name": 2}, "invalid query: name: projection values are 1 or true (include) and 0 or false (exclude), got 2"},
		{"string value", bson.M{"name": "yes"}, "invalid query: name: projection values are 1 or true (include) and 0 or false (exclude), got a string"},
		{"$slice", bson.M{"comments": bson.M{"$slice": 5}}, `invalid query: $slice: operator not allowed in a projection (field "comments")`},
		{"$elemMatch", bson.M{"items": bson.M{"$elemMatch": bson.M{"a": 1}}}, `invalid query: $elemMatch: operator not allowed in a projection (field "items")`},
		{"operator key", bson.M{"$where": 1}, "invalid query: $where: operator not allowed"},
		{"positional", bson.M{"items.$": 1}, `invalid query: items.$: field path segments may not start with "$"`},
		{"collision", bson.M{"a": 1, "a.b": 1}, "invalid query: a.b: path collides with a"},
		{"deep collision", bson.M{"a.b": 0, "a.b.c.d": 0}, "invalid query: a.b.c.d: path collides with a.b"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			checkQueryError(t, ValidateProjection(s.proj), s.want)
		})
	}
}

// checkQueryError asserts err is nil when want is empty, and otherwise a
// *QueryError wrapping ErrInvalidQuery whose message is want.
func checkQueryError(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted; want %s", want)
	}
	if err.Error() != want {
		t.Fatalf("error\n got %s\nwant %s", err, want)
	}
	var qe *QueryError
	if !errors.Is(err, ErrInvalidQuery) || !errors.As(err, &qe) {
		t.Fatalf("error %#v is not a *QueryError wrapping ErrInvalidQuery", err)
	}
}
