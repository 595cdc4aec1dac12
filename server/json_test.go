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
// db.ToJSONValue(v), the answer's encoding before the direct one.
func requireSameJSON(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(db.ToJSONValue(v))
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
	f.Fuzz(func(t *testing.T, s string, x float64, n int64) {
		requireSameJSON(t, bson.M{s: bson.A{s, x, n}, "k": s})
	})
}
