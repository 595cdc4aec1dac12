package server

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
)

// requireQuickAgrees checks that decodeJSONQuick, when it decodes b at
// all, makes what db.DecodeJSONValue makes, and only of valid JSON; and
// that it decodes b when quick says it should.
func requireQuickAgrees(t *testing.T, b string, lim db.Limits, quick bool) {
	t.Helper()
	got, ok := decodeJSONQuick([]byte(b), lim)
	if quick && !ok {
		t.Errorf("%q: left to db", b)
	}
	if !ok {
		return
	}
	if !json.Valid([]byte(b)) {
		t.Fatalf("%q: decoded invalid JSON into %#v", b, got)
	}
	want, err := db.DecodeJSONValue([]byte(b), lim)
	if err != nil {
		t.Fatalf("%q: decoded %#v where db refuses: %v", b, got, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q:\n got %#v\nwant %#v", b, got, want)
	}
}

func TestDecodeJSONQuick(t *testing.T) {
	t.Parallel()
	lim := db.Limits{MaxDepth: 4, MaxKeys: 10}.WithDefaults()
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
			t.Errorf("%q: decoded %#v, should be left to db", b, v)
		}
	}
}

func FuzzDecodeJSONQuick(f *testing.F) {
	for _, s := range []string{`{"name":"bench"}`, `[1,2.5,-3e2,"x",null,true,{"a":[]}]`, `{"a":{"a":{"a":1}}}`, `"é"`} {
		f.Add(s)
	}
	lim := db.Limits{MaxDepth: 3, MaxKeys: 10}.WithDefaults()
	f.Fuzz(func(t *testing.T, b string) {
		requireQuickAgrees(t, b, lim, false)
	})
}
