package embedded

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestInsertRefusesInvalidDocuments(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	c := s.C("docs")
	deep := bson.M{}
	for i := 0; i < maxDepth+1; i++ {
		deep = bson.M{"d": deep}
	}
	scenarios := []struct {
		name string
		doc  bson.M
		want string
	}{
		{"nil", nil, "invalid document: the document is nil"},
		{"dollar", bson.M{"$set": 1}, `invalid document: field "$set" starts with "$"`},
		{"nested dollar", bson.M{"a": bson.M{"$b": 1}}, `invalid document: field "a.$b" starts with "$"`},
		{"dollar in array", bson.M{"a": bson.A{1, bson.M{"$b": 1}}}, `invalid document: field "a.1.$b" starts with "$"`},
		{"dot", bson.M{"a.b": 1}, `invalid document: field "a.b" contains "."`},
		{"nested dot", bson.M{"a": bson.M{"b.c": 1}}, `invalid document: field "a.b.c" contains "."`},
		{"empty name", bson.M{"": 1}, "invalid document: empty field name"},
		{"nested empty name", bson.M{"a": bson.M{"": 1}}, `invalid document: empty field name in "a"`},
		{"NUL", bson.M{"a\x00b": 1}, "invalid document: BSON element key cannot contain null bytes"},
		{"not UTF-8", bson.M{"a": bson.M{"b\xffc": 1}}, `invalid document: field "a.b\xffc" is not valid UTF-8`},
		{"array _id", bson.M{"_id": bson.A{1}}, "invalid document: _id cannot be of type array"},
		{"regex _id", bson.M{"_id": primitive.Regex{Pattern: "a"}}, "invalid document: _id cannot be of type regex"},
		{"too deep", deep, "invalid document: the document nests deeper than 100 levels"},
		{"unencodable", bson.M{"f": func() {}}, "invalid document: no encoder found for func()"},
		{"too big", bson.M{"big": strings.Repeat("x", maxDocumentSize)}, "invalid document: the document is 16777231 bytes, over the limit of 16777216"},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			_, err := c.InsertOne(context.Background(), sc.doc)
			if !errors.Is(err, db.ErrInvalidDocument) {
				t.Fatalf("InsertOne = %v, want ErrInvalidDocument", err)
			}
			if err.Error() != sc.want {
				t.Fatalf("error = %q, want %q", err, sc.want)
			}
		})
	}
	if n, err := c.Count(context.Background(), nil); err != nil || n != 0 {
		t.Fatalf("Count after refusals = %d, %v; want 0", n, err)
	}
}

func TestDocumentsKeepTheirTypes(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	c := s.C("types")
	ctx := context.Background()
	when := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	oid := primitive.NewObjectID()
	dec, _ := primitive.ParseDecimal128("12.345")
	in := bson.M{
		"i":     1,
		"big":   1 << 40,
		"i32":   int32(7),
		"i64":   int64(7),
		"f":     2.5,
		"nan":   math.NaN(),
		"s":     "text",
		"b":     true,
		"null":  nil,
		"when":  when,
		"dt":    primitive.NewDateTimeFromTime(when),
		"oid":   oid,
		"dec":   dec,
		"bin":   primitive.Binary{Subtype: 0, Data: []byte{1, 2}},
		"doc":   map[string]any{"x": 1, "y": bson.M{"z": "deep"}},
		"arr":   []any{1, "two", bson.M{"three": 3}},
		"strs":  []string{"a", "b"},
		"empty": bson.A{},
	}
	id, err := c.InsertOne(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := id.(primitive.ObjectID); !ok {
		t.Fatalf("new _id is %T, want primitive.ObjectID", id)
	}
	docs, err := c.Find(ctx, nil, nil)
	if err != nil || len(docs) != 1 {
		t.Fatalf("Find = %v, %v", docs, err)
	}
	got := docs[0]
	want := bson.M{
		"_id":   id,
		"i":     int32(1),
		"big":   int64(1 << 40),
		"i32":   int32(7),
		"i64":   int64(7),
		"f":     2.5,
		"s":     "text",
		"b":     true,
		"null":  nil,
		"when":  primitive.NewDateTimeFromTime(when),
		"dt":    primitive.NewDateTimeFromTime(when),
		"oid":   oid,
		"dec":   dec,
		"bin":   primitive.Binary{Subtype: 0, Data: []byte{1, 2}},
		"doc":   bson.M{"x": int32(1), "y": bson.M{"z": "deep"}},
		"arr":   bson.A{int32(1), "two", bson.M{"three": int32(3)}},
		"strs":  bson.A{"a", "b"},
		"empty": bson.A{},
	}
	if f, ok := got["nan"].(float64); !ok || !math.IsNaN(f) {
		t.Errorf("nan came back as %#v", got["nan"])
	}
	delete(got, "nan")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %#v\nwant %#v", got, want)
	}
}

func TestIDComesFirst(t *testing.T) {
	t.Parallel()
	for _, doc := range []bson.M{{"a": 1, "b": 2}, {"a": 1, "_id": "mine", "z": 3}} {
		st, err := encode(doc, true)
		if err != nil {
			t.Fatal(err)
		}
		first, err := st.raw.IndexErr(0)
		if err != nil || first.Key() != "_id" {
			t.Errorf("first field of %v is %q, want _id", doc, first.Key())
		}
		if n, _ := st.raw.Elements(); len(n) != len(doc)+btoi(doc["_id"] == nil) {
			t.Errorf("encoded %v has %d fields", doc, len(n))
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestDecodeMatchesTheDriver checks the hand-written decoder against the
// MongoDB driver's, type by type.
func TestDecodeMatchesTheDriver(t *testing.T) {
	t.Parallel()
	dec, _ := primitive.ParseDecimal128("-7.25")
	doc := bson.D{
		{Key: "d", Value: 1.5}, {Key: "s", Value: "str"}, {Key: "o", Value: bson.D{{Key: "x", Value: bson.A{1, bson.D{{Key: "y", Value: nil}}}}}},
		{Key: "a", Value: bson.A{}}, {Key: "bin", Value: primitive.Binary{Subtype: 0x80, Data: []byte("raw")}},
		{Key: "u", Value: primitive.Undefined{}}, {Key: "oid", Value: primitive.NewObjectID()}, {Key: "t", Value: true},
		{Key: "dt", Value: primitive.DateTime(-5)}, {Key: "n", Value: nil}, {Key: "re", Value: primitive.Regex{Pattern: "^a", Options: "i"}},
		{Key: "dbp", Value: primitive.DBPointer{DB: "db.c", Pointer: primitive.NewObjectID()}},
		{Key: "js", Value: primitive.JavaScript("f()")}, {Key: "sym", Value: primitive.Symbol("s")},
		{Key: "cws", Value: primitive.CodeWithScope{Code: "g()", Scope: bson.D{{Key: "v", Value: int32(1)}}}},
		{Key: "i32", Value: int32(-3)}, {Key: "ts", Value: primitive.Timestamp{T: 9, I: 2}}, {Key: "i64", Value: int64(1 << 50)},
		{Key: "dec", Value: dec}, {Key: "min", Value: primitive.MinKey{}}, {Key: "max", Value: primitive.MaxKey{}},
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var want bson.M
	if err := bson.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	got, err := decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("%s: decoded %#v, the driver %#v", k, got[k], want[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("decoded %d fields, the driver %d", len(got), len(want))
	}
	if _, err := decode(raw[:len(raw)-3]); err == nil {
		t.Error("a truncated document decoded")
	}
}
