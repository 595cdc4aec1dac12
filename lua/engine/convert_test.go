package engine

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Every Go/BSON type crosses into Lua and back as the table in convert.go
// says.
func TestConversionRoundTrips(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	v := r.newVM()
	defer v.close()
	oid := primitive.NewObjectID()
	when := time.Date(2024, 5, 1, 9, 30, 15, 123456789, time.UTC)
	dec, _ := primitive.ParseDecimal128("12.50")
	scenarios := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"true", true, true},
		{"false", false, false},
		{"int64", int64(42), int64(42)},
		{"negative int64", int64(-7), int64(-7)},
		{"int64 at 2^53", int64(1 << 53), int64(1 << 53)},
		{"int32", int32(7), int64(7)},
		{"int", -3, int64(-3)},
		{"uint8", uint8(200), int64(200)},
		{"float64", 1.5, 1.5},
		{"small float64", 1e-300, 1e-300},
		{"large float64", 1e300, 1e300},
		{"integral float64 becomes an integer", 2.0, int64(2)},
		{"float32", float32(0.25), 0.25},
		{"json.Number integer", json.Number("12"), int64(12)},
		{"json.Number float", json.Number("1.25"), 1.25},
		{"string", "héllo", "héllo"},
		{"binary string", "a\x00b\xff", "a\x00b\xff"},
		{"empty string", "", ""},
		{"[]byte", []byte{0, 1, 2}, "\x00\x01\x02"},
		{"Binary", primitive.Binary{Data: []byte("raw")}, "raw"},
		{"DateTime", primitive.DateTime(1714555815123), primitive.DateTime(1714555815123)},
		{"time.Time keeps milliseconds", when, primitive.NewDateTimeFromTime(when.Truncate(time.Millisecond))},
		{"Timestamp", primitive.Timestamp{T: 1714555815}, primitive.DateTime(1714555815000)},
		{"ObjectID becomes its hex", oid, oid.Hex()},
		{"Decimal128 becomes its text", dec, "12.50"},
		{"Null", primitive.Null{}, nil},
		{"array", bson.A{int64(1), "a", true, 2.5}, bson.A{int64(1), "a", true, 2.5}},
		{"[]any", []any{1, "b"}, bson.A{int64(1), "b"}},
		{"[]string", []string{"x", "y"}, bson.A{"x", "y"}},
		{"[]int", []int{1, 2}, bson.A{int64(1), int64(2)}},
		{"empty array", bson.A{}, bson.A{}},
		{"null inside an array keeps its place", bson.A{nil, int64(1), nil}, bson.A{nil, int64(1), nil}},
		{"document", bson.M{"a": int64(1), "b": "x"}, bson.M{"a": int64(1), "b": "x"}},
		{"map[string]any", map[string]any{"a": 1}, bson.M{"a": int64(1)}},
		{"map[string]string", map[string]string{"k": "v"}, bson.M{"k": "v"}},
		{"bson.D", bson.D{{Key: "x", Value: 1}, {Key: "y", Value: "z"}}, bson.M{"x": int64(1), "y": "z"}},
		{"empty document stays a document", bson.M{}, bson.M{}},
		{"nil field is left out", bson.M{"a": nil, "b": int64(1)}, bson.M{"b": int64(1)}},
		{"document with number-like keys", bson.M{"1": "one", "2": "two"}, bson.M{"1": "one", "2": "two"}},
		{"nested", bson.M{"a": bson.M{"b": bson.A{bson.M{}, bson.A{}, bson.M{"c": primitive.DateTime(0)}}}},
			bson.M{"a": bson.M{"b": bson.A{bson.M{}, bson.A{}, bson.M{"c": primitive.DateTime(0)}}}}},
		{"pointer", ptr(5), int64(5)},
		{"nil pointer", (*int)(nil), nil},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			lv, err := v.toLua(s.in)
			if err != nil {
				t.Fatalf("to Lua: %v", err)
			}
			got, err := v.toGo(lv, 1<<20, "the value")
			if err != nil {
				t.Fatalf("back to Go: %v", err)
			}
			if !reflect.DeepEqual(got, s.want) {
				t.Errorf("got %#v, want %#v", got, s.want)
			}
		})
	}
}

func ptr[T any](x T) *T { return &x }

func TestConversionRefusesGoValues(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	v := r.newVM()
	defer v.close()
	deep := any("leaf")
	for range 70 {
		deep = bson.A{deep}
	}
	scenarios := []struct {
		name string
		in   any
		want string
	}{
		{"NaN", math.NaN(), "NaN is not a valid value"},
		{"infinity", bson.M{"x": math.Inf(1)}, "at x: +Inf is not a valid value"},
		{"struct", struct{ A int }{1}, "a Go value of type struct { A int } cannot be passed to Lua"},
		{"channel", bson.A{make(chan int)}, "at [1]: a Go value of type chan int cannot be passed to Lua"},
		{"map with int keys", map[int]string{1: "a"}, "a Go value of type map[int]string cannot be passed to Lua"},
		{"too deep", deep, "at " + strings.Repeat("[1]", 64) + ": the value nests deeper than 64 levels"},
		{"MinKey", primitive.MinKey{}, "a Go value of type primitive.MinKey cannot be passed to Lua"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			_, err := v.toLua(s.in)
			if err == nil || err.Error() != s.want {
				t.Errorf("error\n got: %v\nwant: %s", err, s.want)
			}
		})
	}
}

func TestConversionRefusesLuaValues(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	const prefix = `function "t" failed: cannot send what the handler returned: `
	scenarios := []struct{ name, ret, want string }{
		{"function", `function() end`, "a function cannot be converted"},
		{"coroutine", `coroutine.create(function() end)`, "a thread cannot be converted"},
		{"NaN", `{x = 0/0}`, "at x: NaN is not a valid value"},
		{"infinity", `{1, 1/0}`, "at [2]: infinity is not a valid value"},
		{"mixed table", `{1, 2, x = 3}`, "the table mixes array items (1..n) and named fields; use one or the other"},
		{"array with holes", `{1, nil, 3}`, "the array has holes: it has 2 items but an index of 3 (put backend.null where an item is missing)"},
		{"boolean key", `{[true] = 1}`, "a boolean key cannot be converted (use string keys, or 1..n for an array)"},
		{"fractional key", `{[1.5] = 1}`, "a number key cannot be converted (use string keys, or 1..n for an array)"},
		{"table key", `{[{}] = 1}`, "a table key cannot be converted (use string keys, or 1..n for an array)"},
		{"marked array with names", `backend.array({1, x = 2})`, "an array (backend.array) may only have the keys 1..n"},
		{"response inside a value", `{backend.response(200)}`, "at [1]: backend.response(...) can only be returned by the handler itself, not placed inside a value"},
		{"cycle through an array", `(function() local t = {} t[1] = {t} return t end)()`, "at [1][1]: a table contains itself (a cycle)"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			got := runErr(t, r, "function handle() return "+s.ret+" end")
			if got != prefix+s.want {
				t.Errorf("error\n got: %s\nwant: %s", got, prefix+s.want)
			}
		})
	}
}

// What a Lua function sees of the types, and what it returns of its own.
func TestConversionFromLua(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	oid := primitive.NewObjectID()
	input := bson.M{
		"n": int64(3), "f": 2.5, "s": "x", "b": true, "d": primitive.DateTime(1714555815123),
		"id": oid, "list": bson.A{int64(1), nil, int64(3)}, "empty": bson.M{}, "none": bson.A{},
	}
	src := `function handle(input)
  assert(input.n == 3 and input.f == 2.5 and input.s == "x" and input.b == true)
  assert(getmetatable(input.d) == "date" and input.d:unixMs() == 1714555815123)
  assert(type(input.id) == "string" and #input.id == 24)
  assert(#input.list == 3 and input.list[2] == backend.null and input.list[3] == 3)
  assert(getmetatable(input.empty) == "object" and next(input.empty) == nil)
  return {
    echo = input,
    int = 7, float = 7.25, negzero = -0, big = 2^53,
    emptyTable = {}, emptyObject = backend.object(), emptyArray = backend.array(),
    keyed = backend.object({[1] = "a", [2] = "b"}),
    date = backend.date("2024-05-01T09:00:00.5Z"),
    nested = {{{}}},
  }
end`
	res, err := runSource(t, r, src, input, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := bson.M{
		"echo": bson.M{
			"n": int64(3), "f": 2.5, "s": "x", "b": true, "d": primitive.DateTime(1714555815123),
			"id": oid.Hex(), "list": bson.A{int64(1), nil, int64(3)}, "empty": bson.M{}, "none": bson.A{},
		},
		"int": int64(7), "float": 7.25, "negzero": int64(0), "big": int64(1 << 53),
		"emptyTable": bson.A{}, "emptyObject": bson.M{}, "emptyArray": bson.A{},
		"keyed":  bson.M{"1": "a", "2": "b"},
		"date":   primitive.DateTime(1714554000500),
		"nested": bson.A{bson.A{bson.A{}}},
	}
	if !reflect.DeepEqual(res.Value, want) {
		t.Errorf("got  %#v\nwant %#v", res.Value, want)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct{ name, src, want string }{
		{"round trip keeps {} [] null and integers",
			`return backend.json.encode(backend.json.decode('{"a":[1,null,2.5],"b":{},"c":[],"d":"<x>","e":12345678901234}'))`,
			`{"a":[1,null,2.5],"b":{},"c":[],"d":"<x>","e":12345678901234}`},
		{"keys are sorted", `return backend.json.encode({b = 1, a = {c = true}})`, `{"a":{"c":true},"b":1}`},
		{"empty table is an array", `return backend.json.encode({list = {}})`, `{"list":[]}`},
		{"dates are RFC 3339", `return backend.json.encode({at = backend.date(0)})`, `{"at":"1970-01-01T00:00:00.000Z"}`},
		{"pretty", `return backend.json.encode({a = 1}, {pretty = true})`, "{\n  \"a\": 1\n}"},
		{"scalars", `return backend.json.encode("x") .. backend.json.encode(1.5) .. backend.json.encode(backend.null)`, `"x"1.5null`},
		{"decoded null field is absent", `local v = backend.json.decode('{"a":null}') return tostring(v.a)`, "nil"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res, err := runSource(t, r, "function handle() "+s.src+" end", nil, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Value != s.want {
				t.Errorf("got %q, want %q", res.Value, s.want)
			}
		})
	}
	for src, want := range map[string]string{
		`backend.json.decode("{")`:             `function "t" failed at line 1: backend.json.decode: invalid document: malformed JSON: unexpected end of input`,
		`backend.json.encode({f = print})`:     `function "t" failed at line 1: backend.json.encode: at f: a function cannot be converted`,
		`backend.json.encode({x = 0/0})`:       `function "t" failed at line 1: backend.json.encode: at x: NaN is not a valid value`,
		`backend.json.decode('{"a":1,"a":2}')`: `function "t" failed at line 1: backend.json.decode: invalid document: a: field appears twice`,
	} {
		if got := runErr(t, r, "function handle() return "+src+" end"); got != want {
			t.Errorf("%s\n got: %s\nwant: %s", src, got, want)
		}
	}
}
