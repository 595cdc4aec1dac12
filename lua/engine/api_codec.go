package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/moonbase-dev/moonbase/db"
)

// jsonText writes a converted value as JSON the way the data API does
// (dates as RFC 3339 strings with milliseconds), without escaping <, >
// and &, keys sorted.
func jsonText(val any, pretty bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(db.ToJSONValue(val)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// jsonEncode is backend.json.encode(value, {pretty}?). The empty table
// encodes as [] unless made with backend.object().
func (v *vm) jsonEncode(L *lua.LState) int {
	pretty := false
	if o := L.OptTable(2, nil); o != nil {
		pretty = lua.LVAsBool(o.RawGetString("pretty"))
	}
	val, err := v.toGo(L.CheckAny(1), v.reg.cfg.MaxStringBytes, "the value to encode")
	if err != nil {
		v.raise(L, "backend.json.encode", err)
	}
	b, err := jsonText(val, pretty)
	if err != nil {
		v.raise(L, "backend.json.encode", err)
	}
	L.Push(lua.LString(b))
	return 1
}

// jsonDecode is backend.json.decode(text): objects become tables marked
// as objects, arrays tables 1..n, null nil (backend.null inside arrays),
// integers integers.
func (v *vm) jsonDecode(L *lua.LState) int {
	text := L.CheckString(1)
	lim := dataLimits()
	lim.MaxBytes = int(v.reg.cfg.MaxStringBytes)
	val, err := db.DecodeJSONValue([]byte(text), lim)
	if err != nil {
		v.raise(L, "backend.json.decode", err)
	}
	v.push(L, "backend.json.decode", val)
	return 1
}

func (v *vm) base64Encode(L *lua.LState) int {
	s := L.CheckString(1)
	v.checkEncoded(L, "backend.base64.encode", base64.StdEncoding.EncodedLen(len(s)))
	L.Push(lua.LString(base64.StdEncoding.EncodeToString([]byte(s))))
	return 1
}

func (v *vm) base64Decode(L *lua.LState) int {
	return v.decodeBase64(L, "backend.base64.decode", base64.StdEncoding)
}

func (v *vm) base64URLEncode(L *lua.LState) int {
	s := L.CheckString(1)
	v.checkEncoded(L, "backend.base64.urlEncode", base64.RawURLEncoding.EncodedLen(len(s)))
	L.Push(lua.LString(base64.RawURLEncoding.EncodeToString([]byte(s))))
	return 1
}

func (v *vm) base64URLDecode(L *lua.LState) int {
	return v.decodeBase64(L, "backend.base64.urlDecode", base64.URLEncoding)
}

// decodeBase64 accepts the text with or without its padding.
func (v *vm) decodeBase64(L *lua.LState, call string, enc *base64.Encoding) int {
	s := strings.TrimRight(strings.TrimSpace(L.CheckString(1)), "=")
	b, err := enc.WithPadding(base64.NoPadding).DecodeString(s)
	if err != nil {
		v.raise(L, call, err)
	}
	L.Push(lua.LString(b))
	return 1
}

func (v *vm) hexEncode(L *lua.LState) int {
	s := L.CheckString(1)
	v.checkEncoded(L, "backend.hex.encode", hex.EncodedLen(len(s)))
	L.Push(lua.LString(hex.EncodeToString([]byte(s))))
	return 1
}

func (v *vm) hexDecode(L *lua.LState) int {
	b, err := hex.DecodeString(strings.TrimSpace(L.CheckString(1)))
	if err != nil {
		v.raise(L, "backend.hex.decode", err)
	}
	L.Push(lua.LString(b))
	return 1
}

// checkEncoded refuses an encoding whose text would pass
// Config.MaxStringBytes, before it is made.
func (v *vm) checkEncoded(L *lua.LState, fn string, size int) {
	if int64(size) > v.reg.cfg.MaxStringBytes {
		v.tooLong(L, fn, int64(size))
	}
	v.built(L, int64(size))
}
