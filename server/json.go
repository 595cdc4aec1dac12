package server

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
)

// Answers as JSON. What a function returns is nearly always made of
// objects, arrays, strings, numbers and booleans; appendJSON writes those
// directly, byte for byte as encoding/json writes db.ToJSONValue of them,
// without the copy ToJSONValue makes and the reflection and key sorting
// encoding/json does, which cost more than the rest of a small answer.
// Anything else (dates, ObjectIDs, binary, float32 …) goes the long way.

// maxJSONDepth bounds appendJSON's recursion; deeper values go the long way.
const maxJSONDepth = 200

// marshalJSON appends v as JSON to b: dates as RFC 3339 strings, ObjectIDs
// as hex, NaN and infinities as null (db.ToJSONValue).
func marshalJSON(b []byte, v any) ([]byte, error) {
	if out, ok := appendJSON(b, v, 0); ok {
		return out, nil
	}
	enc, err := json.Marshal(jsonValue(v))
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

// appendJSON appends v as JSON, or reports false when v holds a value it
// leaves to encoding/json.
func appendJSON(b []byte, v any, depth int) ([]byte, bool) {
	if depth > maxJSONDepth {
		return b, false
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendJSONString(b, x), true
	case bool:
		return strconv.AppendBool(b, x), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true
	case float64:
		return appendJSONFloat(b, x), true
	case bson.M:
		return appendJSONObject(b, x, depth)
	case map[string]any:
		return appendJSONObject(b, x, depth)
	case bson.A:
		return appendJSONArray(b, x, depth)
	case []any:
		return appendJSONArray(b, x, depth)
	}
	return b, false
}

// appendJSONObject writes m with its keys sorted, as encoding/json does;
// nil is {} as db.ToJSONValue makes it.
func appendJSONObject(b []byte, m map[string]any, depth int) ([]byte, bool) {
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = appendJSON(b, m[k], depth+1); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendJSONArray writes a; nil is [] as db.ToJSONValue makes it.
func appendJSONArray(b []byte, a []any, depth int) ([]byte, bool) {
	b = append(b, '[')
	for i, v := range a {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendJSON(b, v, depth+1); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendJSONFloat writes f as encoding/json does (ES6 number formatting);
// NaN and infinities, which JSON cannot hold, are null.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s quoted as encoding/json does: <, > and &
// escaped for HTML, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
