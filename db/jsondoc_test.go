package db

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		in   string
		want bson.M
	}{
		{"empty object", `{}`, bson.M{}},
		{"white space around", " \n\t{ } \n", bson.M{}},
		{"scalars", `{"s":"x","t":true,"f":false,"n":null}`, bson.M{"s": "x", "t": true, "f": false, "n": nil}},
		{"integers are int64", `{"a":1,"b":-7,"c":0,"d":-0,"max":9223372036854775807,"min":-9223372036854775808}`,
			bson.M{"a": int64(1), "b": int64(-7), "c": int64(0), "d": int64(0), "max": int64(math.MaxInt64), "min": int64(math.MinInt64)}},
		{"other numbers are float64", `{"a":1.0,"b":1e3,"c":2.5E-1,"d":-0.5,"tiny":1e-400}`,
			bson.M{"a": 1.0, "b": 1000.0, "c": 0.25, "d": -0.5, "tiny": 0.0}},
		{"integers beyond int64 become float64", `{"big":9223372036854775808,"neg":-9223372036854775809}`,
			bson.M{"big": 9223372036854775808.0, "neg": -9223372036854775809.0}},
		{"nested", `{"a":{"b":[1,"x",{"c":[]},[2.5]]}}`,
			bson.M{"a": bson.M{"b": bson.A{int64(1), "x", bson.M{"c": bson.A{}}, bson.A{2.5}}}}},
		{"operators pass through", `{"age":{"$gt":5},"$or":[{"a":1}]}`,
			bson.M{"age": bson.M{"$gt": int64(5)}, "$or": bson.A{bson.M{"a": int64(1)}}}},
		{"unicode escapes", `{"k\u00e9":"\ud83d\ude00"}`, bson.M{"ké": "😀"}},
		{"same key in different objects", `{"a":{"k":1},"b":{"k":2}}`, bson.M{"a": bson.M{"k": int64(1)}, "b": bson.M{"k": int64(2)}}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeJSON([]byte(s.in), Limits{})
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if !reflect.DeepEqual(got, s.want) {
				t.Fatalf("DecodeJSON\n got %#v\nwant %#v", got, s.want)
			}
		})
	}
}

func TestDecodeJSONRefuses(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		in   string
		lim  Limits
		path string
		want string
	}{
		{"empty body", ``, Limits{}, "", "invalid document: empty body: expected JSON"},
		{"only white space", "  \n", Limits{}, "", "invalid document: empty body: expected JSON"},
		{"array", `[1,2]`, Limits{}, "", "invalid document: expected a JSON object, got an array"},
		{"string", `"x"`, Limits{}, "", "invalid document: expected a JSON object, got a string"},
		{"number", `12`, Limits{}, "", "invalid document: expected a JSON object, got a number"},
		{"null", `null`, Limits{}, "", "invalid document: expected a JSON object, got null"},
		{"boolean", `true`, Limits{}, "", "invalid document: expected a JSON object, got a boolean"},
		{"truncated", `{"a":[1,`, Limits{}, "", "invalid document: malformed JSON: unexpected end of input"},
		{"missing value", `{"a":}`, Limits{}, "", "invalid document: malformed JSON at byte 5: invalid character '}' looking for beginning of value"},
		{"trailing comma", `{"a":1,}`, Limits{}, "", "invalid document: malformed JSON at byte 7: invalid character '}' looking for beginning of object key string"},
		{"single quotes", `{'a':1}`, Limits{}, "", "invalid document: malformed JSON at byte 1: invalid character '\\''"},
		{"NaN", `{"a":NaN}`, Limits{}, "", "invalid document: malformed JSON at byte 4: invalid character 'N' looking for beginning of value"},
		{"trailing object", `{"a":1}{"b":2}`, Limits{}, "", "invalid document: an object follows the JSON value; send one value only"},
		{"trailing garbage", `{"a":1} x`, Limits{}, "", "invalid document: data follows the JSON value; send one value only"},
		{"duplicate key", `{"a":1,"b":2,"a":3}`, Limits{}, "a", "invalid document: a: field appears twice"},
		{"nested duplicate key", `{"a":{"b":[{"c":1,"c":1}]}}`, Limits{}, "a.b.0.c", "invalid document: a.b.0.c: field appears twice"},
		{"number out of range", `{"a":{"b":1e400}}`, Limits{}, "a.b", "invalid document: a.b: number 1e400 is out of range"},
		{"negative out of range", `{"a":-1e309}`, Limits{}, "a", "invalid document: a: number -1e309 is out of range"},
		{"too big", `{"a":"` + strings.Repeat("x", 100) + `"}`, Limits{MaxBytes: 100}, "", "invalid document: body is 108 bytes, more than the limit of 100"},
		{"too deep", `{"a":{"b":{"c":{}}}}`, Limits{MaxDepth: 3}, "a.b.c", "invalid document: a.b.c: nested deeper than 3 levels"},
		{"too deep by arrays", `{"a":[[[]]]}`, Limits{MaxDepth: 3}, "a.0.0", "invalid document: a.0.0: nested deeper than 3 levels"},
		{"too many keys", `{"a":[1,2],"b":{"c":1}}`, Limits{MaxKeys: 4}, "", "invalid document: more than 4 fields and array elements"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeJSON([]byte(s.in), s.lim)
			if err == nil {
				t.Fatal("DecodeJSON accepted it")
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

func TestDecodeJSONDeepNestingStopsEarly(t *testing.T) {
	t.Parallel()
	// A million open brackets: refused at the cap without descending
	// further (encoding/json alone would reject it only at depth 10,000).
	in := strings.Repeat("[", 1_000_000)
	_, err := DecodeJSONValue([]byte(in), Limits{MaxBytes: 2_000_000})
	if err == nil || !strings.HasSuffix(err.Error(), "nested deeper than 32 levels") {
		t.Fatalf("DecodeJSONValue: %v", err)
	}
}

func TestDecodeJSONValue(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		in   string
		want any
	}{
		{`[1, "a", {"b": null}]`, bson.A{int64(1), "a", bson.M{"b": nil}}},
		{`"text"`, "text"},
		{`42`, int64(42)},
		{`4.5`, 4.5},
		{`true`, true},
		{`null`, nil},
		{`{"a":1}`, bson.M{"a": int64(1)}},
	}
	for _, s := range scenarios {
		got, err := DecodeJSONValue([]byte(s.in), Limits{})
		if err != nil {
			t.Fatalf("DecodeJSONValue(%s): %v", s.in, err)
		}
		if !reflect.DeepEqual(got, s.want) {
			t.Fatalf("DecodeJSONValue(%s) = %#v, want %#v", s.in, got, s.want)
		}
	}
	for in, want := range map[string]string{
		`[1,1e999]`:       "invalid document: 1: number 1e999 is out of range",
		`[{"a":1,"a":2}]`: "invalid document: 0.a: field appears twice",
		`1 2`:             "invalid document: a number follows the JSON value; send one value only",
		`[`:               "invalid document: malformed JSON: unexpected end of input",
	} {
		_, err := DecodeJSONValue([]byte(in), Limits{})
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalidDocument) {
			t.Errorf("DecodeJSONValue(%s): %v, want %s", in, err, want)
		}
	}
}

func TestToJSONValue(t *testing.T) {
	t.Parallel()
	oid, _ := primitive.ObjectIDFromHex("65a1b2c3d4e5f60718293a4b")
	at := time.Date(2024, 3, 1, 9, 30, 15, 123_456_789, time.FixedZone("CET", 3600))
	dec, _ := primitive.ParseDecimal128("12.50")
	doc := bson.M{
		"_id":   oid,
		"date":  primitive.NewDateTimeFromTime(at),
		"time":  at,
		"i32":   int32(7),
		"i64":   int64(1) << 60,
		"f":     2.5,
		"nan":   math.NaN(),
		"inf":   math.Inf(-1),
		"bin":   primitive.Binary{Data: []byte("hi")},
		"bytes": []byte{0xff},
		"dec":   dec,
		"null":  nil,
		"ts":    primitive.Timestamp{T: 5, I: 2},
		"re":    primitive.Regex{Pattern: "^a", Options: "i"},
		"nest":  bson.D{{Key: "ids", Value: bson.A{oid, map[string]any{"at": primitive.DateTime(0)}}}},
		"strs":  []string{"x"},
	}
	got, err := json.Marshal(ToJSONValue(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_id":"65a1b2c3d4e5f60718293a4b","bin":"aGk=","bytes":"/w==","date":"2024-03-01T08:30:15.123Z",` +
		`"dec":"12.50","f":2.5,"i32":7,"i64":1152921504606846976,"inf":null,"nan":null,` +
		`"nest":{"ids":["65a1b2c3d4e5f60718293a4b",{"at":"1970-01-01T00:00:00.000Z"}]},"null":null,` +
		`"re":"/^a/i","strs":["x"],"time":"2024-03-01T08:30:15.123Z","ts":{"i":2,"t":5}}`
	if string(got) != want {
		t.Fatalf("ToJSONValue marshals to\n%s\nwant\n%s", got, want)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	in := `{"a":[1,2.5,"x",true,null,{"b":{"c":-3}}],"d":"é"}`
	doc, err := DecodeJSON([]byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(ToJSONValue(doc))
	if err != nil {
		t.Fatal(err)
	}
	again, err := DecodeJSON(out, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc, again) {
		t.Fatalf("round trip changed the document:\n%#v\n%#v", doc, again)
	}
}
