package db

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// requireQuickAgrees checks that decodeJSONQuick, when it decodes b at
// all, makes what the token decoder makes, and only of valid JSON; and
// that it decodes b when quick says it should.
func requireQuickAgrees(t *testing.T, b string, lim Limits, quick bool) {
	t.Helper()
	got, ok := decodeJSONQuick([]byte(b), lim)
	if quick && !ok {
		t.Errorf("%q: left to the token decoder", b)
	}
	if !ok {
		return
	}
	if !json.Valid([]byte(b)) {
		t.Fatalf("%q: decoded invalid JSON into %#v", b, got)
	}
	want, err := decodeJSONTokens([]byte(b), lim)
	if err != nil {
		t.Fatalf("%q: decoded %#v where the token decoder refuses: %v", b, got, err)
	}
	// DeepEqual takes -0 for 0; %#v tells them apart.
	if !reflect.DeepEqual(got, want) || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("%q:\n got %#v\nwant %#v", b, got, want)
	}
}

func TestDecodeJSONQuick(t *testing.T) {
	t.Parallel()
	lim := Limits{MaxDepth: 4, MaxKeys: 10}.WithDefaults()
	decoded := []string{
		`{"name":"bench"}`, ` { "a" : 1 , "b" : [ 1 , 2.5 , -3 , 0 , -0 , 1e3 , 2E-2 , -0.5e+1 ] } `,
		`[]`, `{}`, `[{}]`, `"héllo ✓"`, `true`, `false`, `null`, `42`, `-9223372036854775808`,
		`9223372036854775808`, `1e308`, `{"a":{"b":{"c":[1]}}}`, "\t\n\r[null]\n", `{"":""}`,
		`{"tags":["x","y"],"n":null,"ok":true}`, `{"a":{"b":{"c":{"d":1}}}}`, `[1,2,3,4,5,6,7,8,9,10]`,
	}
	for _, b := range decoded {
		requireQuickAgrees(t, b, lim, true)
	}
	leftToDB := []string{
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{"a":1 "b":2}`, `{a:1}`,
		`"esc\"aped"`, `"tab\there"`, `"\u00e9"`, "\"raw\ttab\"", "\"bad \xff\"", "\"\xed\xa0\x80\"",
		`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `1e309`, `-1e309`, `NaN`, `tru`, `nul`, `truex`,
		`{"a":1}{}`, `[1] 2`, `{"a":1,"a":2}`,
		`{"a":{"b":{"c":{"d":{}}}}}`, `[[[[[]]]]]`, `[1,2,3,4,5,6,7,8,9,10,11]`, `{"a":[1,2,3,4,5,6,7,8,9,10]}`,
		strings.Repeat(" ", lim.MaxBytes+1) + "1",
	}
	for _, b := range leftToDB {
		if v, ok := decodeJSONQuick([]byte(b), lim); ok {
			t.Errorf("%q: decoded %#v, should be left to the token decoder", b, v)
		}
	}
}

// TestDecodeJSONQuickEdges holds bodies at the edges of JSON and of the
// limits: whatever quick makes of them must be what db makes.
func TestDecodeJSONQuickEdges(t *testing.T) {
	t.Parallel()
	lim := Limits{MaxDepth: 3, MaxKeys: 4, MaxBytes: 24}.WithDefaults()
	scenarios := []struct {
		body  string
		quick bool
	}{
		{`-0`, true}, {`-0.0`, true}, {`[-0,0.0,-0e0,0e-5]`, true}, {`1e-400`, true}, {`-1e-400`, true},
		{`4.9e-324`, true}, {`2.5e-324`, true}, {`1.7976931348623157e308`, true}, {`1.7976931348623159e308`, false},
		{`1e400`, false}, {`-1e400`, false}, {`9223372036854775807`, true}, {`-9223372036854775809`, true},
		{`18446744073709551616`, true}, {`123456789012345678901234`, true}, {`1.0`, true}, {`1E2`, true}, {`1e+2`, true},
		{`00`, false}, {`-01`, false}, {`0.`, false}, {`-.5`, false}, {`1.e1`, false}, {`0e`, false}, {`- 1`, false},
		{`"\u0000"`, false}, {`"\ud83d\ude00"`, false}, {`"\ud83d"`, false}, {`"\/"`, false}, {"\"\x00\"", false},
		{"\"\x7f\"", true}, {"\"\u2028\ufffe\"", true}, {"\"\xed\xa0\x80\"", false}, {"\"\xc0\xaf\"", false},
		{"\"\xf4\x90\x80\x80\"", false}, {"\"\xef\xbf\xbd\"", true}, {`"<a>&amp;"`, true},
		{"\ufeff{}", false}, {"\v{}", false}, {"\f{}", false}, {"\u00a0{}", false}, {"{}\x00", false}, {" \t\r\n{ }\r\n", true},
		{`{"$set":{"a.b":1}}`, true}, {`{"\u0024set":1}`, false}, {`{"a":1,"a":1}`, false}, {`{"a":1,"\u0061":1}`, false},
		{`{"a":{"b":[]}}`, true}, {`{"a":{"b":[[]]}}`, false}, {`[1,2,3,4]`, true}, {`[1,2,3,4,5]`, false},
		{`{"a":[1,2,3]}`, true}, {`{"a":[1,2,3,4]}`, false}, {`{"k":"` + strings.Repeat("x", 16) + `"}`, true}, {`{"k":"` + strings.Repeat("x", 17) + `"}`, false},
	}
	for _, s := range scenarios {
		requireQuickAgrees(t, s.body, lim, s.quick)
		if _, ok := decodeJSONQuick([]byte(s.body), lim); ok && !s.quick {
			t.Errorf("%q: decoded, should be left to the token decoder", s.body)
		}
	}
}

func FuzzDecodeJSONQuick(f *testing.F) {
	for _, s := range []string{
		`{"name":"bench"}`, `[1,2.5,-3e2,"x",null,true,{"a":[]}]`, `{"a":{"a":{"a":1}}}`, `"é"`,
		`-0`, `[-0.0,1e-400,1e400,9223372036854775808,-9223372036854775809,00,01.5]`, `"\u0000\/\ud83d\ude00\udc00"`,
		"\"\xed\xa0\x80\xff\"", `{"a":1,"a":2}`, `{"$x":{"a.b":[]}}`, "\t\r\n [ ] \n", `"<>&\u2028"`,
		`[1,2,3,4,5,6,7,8,9,10]`, `[[[]]]`, `{"a":{"b":{"c":{}}}}`, `1E+308`, `0.000000000000000000000000001`,
	} {
		f.Add(s)
	}
	lim := Limits{MaxDepth: 3, MaxKeys: 10}.WithDefaults()
	small := Limits{MaxDepth: 2, MaxKeys: 3, MaxBytes: 16}.WithDefaults()
	f.Fuzz(func(t *testing.T, b string) {
		requireQuickAgrees(t, b, lim, false)
		requireQuickAgrees(t, b, small, false)
	})
}
