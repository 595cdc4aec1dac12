package db

import (
	"math"
	"strconv"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
)

// JSON the quick way. The token decoder (jsonDecoder) reads a body token
// by token through encoding/json, which for a small body costs more than
// the rest of a function call's routing. decodeJSONQuick reads the bodies
// clients usually send (no escapes in strings, valid UTF-8, within the
// limits) in one pass into the same values the token decoder makes:
// bson.M, bson.A, int64 for an integer that fits, float64 for any other
// number, string, bool and nil. Anything else, including every body that
// is refused, it leaves to the token decoder, which says why.

// decodeJSONQuick decodes b, or reports false when the token decoder
// must. lim must have its defaults set.
func decodeJSONQuick(b []byte, lim Limits) (any, bool) {
	if len(b) > lim.MaxBytes {
		return nil, false
	}
	d := quickJSON{b: b, lim: lim}
	d.space()
	v, ok := d.value(1)
	if !ok {
		return nil, false
	}
	d.space()
	return v, d.i == len(b)
}

// quickJSON is the state of one decodeJSONQuick.
type quickJSON struct {
	b    []byte
	i    int
	lim  Limits
	keys int // fields and elements so far, against lim.MaxKeys
}

func (d *quickJSON) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value reads the value at d.i, depth levels down (the top is 1).
func (d *quickJSON) value(depth int) (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, ok := d.string()
		return s, ok
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	}
	return nil, false
}

func (d *quickJSON) literal(word string) bool {
	end := d.i + len(word)
	if end > len(d.b) || string(d.b[d.i:end]) != word {
		return false
	}
	d.i = end
	return true
}

// count counts one more field or element.
func (d *quickJSON) count() bool {
	d.keys++
	return d.keys <= d.lim.MaxKeys
}

// open reads the "{" or "[" at d.i, depth levels down, and the closing
// delimiter at once when nothing is between them.
func (d *quickJSON) open(depth int, closing byte) (empty, ok bool) {
	if depth > d.lim.MaxDepth {
		return false, false
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == closing {
		d.i++
		return true, true
	}
	return false, true
}

func (d *quickJSON) object(depth int) (any, bool) {
	empty, ok := d.open(depth, '}')
	if !ok {
		return nil, false
	}
	doc := bson.M{}
	if empty {
		return doc, true
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		key, ok := d.string()
		if !ok {
			return nil, false
		}
		if _, dup := doc[key]; dup || !d.count() {
			return nil, false
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		doc[key] = v
		if !d.next('}') {
			return nil, false
		}
		if d.b[d.i-1] == '}' {
			return doc, true
		}
	}
}

func (d *quickJSON) array(depth int) (any, bool) {
	empty, ok := d.open(depth, ']')
	if !ok {
		return nil, false
	}
	arr := bson.A{}
	if empty {
		return arr, true
	}
	for {
		if !d.count() {
			return nil, false
		}
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		arr = append(arr, v)
		if !d.next(']') {
			return nil, false
		}
		if d.b[d.i-1] == ']' {
			return arr, true
		}
	}
}

// next reads the "," before another member, or the closing delimiter,
// and the space around them.
func (d *quickJSON) next(closing byte) bool {
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != ',' && d.b[d.i] != closing {
		return false
	}
	d.i++
	if d.b[d.i-1] == ',' {
		d.space()
	}
	return true
}

// string reads a string without escapes or control characters, in valid
// UTF-8: as encoding/json would read it.
func (d *quickJSON) string() (string, bool) {
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			d.i = j + 1
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// number reads a number as jsonNumber does: an integer literal
// that fits in int64 as int64, anything else as float64.
func (d *quickJSON) number() (any, bool) {
	b, i := d.b, d.i
	digits := func() bool {
		from := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > from
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	integer := true
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
		integer = false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
		integer = false
	}
	lit := string(b[d.i:i])
	d.i = i
	if integer {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n, true
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, false
	}
	return f, true
}
