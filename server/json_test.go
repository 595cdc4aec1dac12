package server

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// requireSameJSON checks marshalJSON writes v as encoding/json writes
// db.ToExtJSON(v), the answer's encoding before the direct one.
func requireSameJSON(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(db.ToExtJSON(v))
	got, err := marshalJSON(nil, v)
	if (err != nil) != (wantErr != nil) || string(got) != string(want) {
		t.Errorf("%#v:\n got %s (%v)\nwant %s (%v)", v, got, err, want, wantErr)
	}
}

func TestMarshalJSON(t *testing.T) {
	t.Parallel()
	oid := primitive.NewObjectID()
	values := []any{
		nil, true, false, "", "hello", int64(-42), 7, int32(3), math.MaxInt64,
		0.0, -0.0, 1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, -2.5e-10, math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1), float32(1.1),
		"quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f nul \x00 unit \x1f del \x7f",
		"<script>&amp;</script>", "line\u2028sep\u2029", "bad \xff utf8 \xe2\x82", "héllo wörld ✓ 😀",
		bson.M{"message": "hello"},
		bson.M{"b": 1, "a": bson.A{1, "two", 3.5, nil, true}, "c": bson.M{"z": bson.M{}, "y": bson.A{}}, "<k>": "&"},
		map[string]any{"n": nil, "list": []any{bson.M{"x": int64(1)}}},
		bson.M(nil), bson.A(nil), []any(nil), map[string]any(nil),
		bson.M{"when": time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), "id": oid},
		bson.A{primitive.NewDateTimeFromTime(time.Unix(1700000000, 0)), []byte("bin"), bson.D{{Key: "k", Value: "v"}}},
		bson.M{"f32": float32(2.5), "nan": math.NaN()},
		[]string{"a", "b"},
		math.Copysign(0, -1), math.Nextafter(1e21, 0), math.Nextafter(1e-6, 0), math.Nextafter(1e-6, 1), 1e-5, 5e-324, -1e-7,
		0.1 + 0.2, 1e300 * 10, float64(1 << 53), math.MinInt64, int64(math.MinInt64), int32(math.MinInt32),
		"\x00\x01\x1f\x7f\u2027\u202a\ufeff\ufffe\ufffd", "\xed\xa0\x80 \xed\xbf\xbf \xf4\x90\x80\x80 \xc0\xaf", "\\u0000 \\/ </script> U+2028",
		bson.M{"": 1, "<": 2, "&": 3, ">": 4, "\xff": 5, "\u2028": 6, "a.b": 7, "$set": 8, "B": 9, "a": 10, "é": 11},
		bson.M{"k": bson.M(nil), "l": bson.A(nil), "m": []any{}, "n": map[string]any{}},
		bson.A{uint64(math.MaxUint64), int8(-1), uint(7), float32(math.Inf(1)), []any{(*int)(nil)}},
		bson.M{"typed": map[string]string{"a": "<b>"}, "ms": []bson.M{{"x": 1}, nil}, "null": primitive.Null{}},
		time.Time{}, time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600)),
	}
	for _, v := range values {
		requireSameJSON(t, v)
	}
	deep := any("bottom")
	for range maxJSONDepth + 10 {
		deep = bson.M{"d": deep}
	}
	requireSameJSON(t, deep)
	many := bson.M{}
	for i := range 100 {
		many[strings.Repeat("k", i%7)+string(rune('a'+i%26))+string(rune('A'+i/26))] = i
	}
	requireSameJSON(t, many)
}

func FuzzMarshalJSON(f *testing.F) {
	f.Add("hello", 1.5, int64(3))
	f.Add("<\u2028\xff>", 1e-7, int64(-1))
	f.Add("\x00\b\f\x1f\x7f&", math.Copysign(0, -1), int64(math.MinInt64))
	f.Add("\xed\xa0\x80\xf4\x90\x80\x80\xc0", 1e21, int64(math.MaxInt64))
	f.Add("\u2029\ufffd\\\"/", math.Nextafter(1e21, 0), int64(0))
	f.Add("", 5e-324, int64(1))
	f.Add("😀", math.MaxFloat64, int64(-1))
	f.Add("é", math.NaN(), int64(2))
	f.Add("\xe2\x80", math.Inf(-1), int64(3))
	f.Fuzz(func(t *testing.T, s string, x float64, n int64) {
		requireSameJSON(t, bson.M{s: bson.A{s, x, n}, "k": s})
	})
}

// FuzzMarshalJSONDecoded writes what bodies decode to, both as db decodes
// them and as encoding/json does: nesting, key order and every number a
// body can hold.
func FuzzMarshalJSONDecoded(f *testing.F) {
	for _, s := range []string{
		`{"b":1,"a":[1,2.5,-0,-0.0,1e21,1e-7,123456789012345678901234,"x",null,true,{"":{}}]}`,
		`{"<":"&","\u2028":"\ud83d","\u00ff":"\u0000","a.b":{"$x":[[]]}}`,
		`[9223372036854775807,-9223372036854775808,9223372036854775808,5e-324,1.7976931348623157e308]`,
		`"\ud800\udc00\udfff\/"`, "{\"\xff\":\"\xed\xa0\x80\"}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b string) {
		if v, err := db.DecodeJSONValue([]byte(b), db.Limits{}); err == nil {
			requireSameJSON(t, v)
		}
		var v any
		if json.Unmarshal([]byte(b), &v) == nil {
			requireSameJSON(t, v)
		}
	})
}
