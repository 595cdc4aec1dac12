package db

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// JSONTimeFormat is how ToJSONValue writes dates: RFC 3339 in UTC with
// milliseconds, the precision a BSON date keeps.
const JSONTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// DecodeJSON reads a JSON object into a document. Objects become bson.M,
// arrays bson.A; an integer literal (no ".", no exponent) that fits in int64
// becomes int64 and every other number float64. The body may be at most
// lim.MaxBytes long, nest at most lim.MaxDepth deep and hold at most
// lim.MaxKeys fields and elements; a key repeated within one object, a
// number out of float64's range, trailing data and anything but an object
// at the top are refused, and so is text that is not valid Unicode (a
// *TextError, see CheckJSONText). Every other refusal is a *DocumentError;
// errors.Is(err, ErrInvalidDocument) holds for all of them.
//
// DecodeJSON does not apply ValidateDocument's field-name rules, because the
// same bodies carry filters and updates whose keys start with "$".
func DecodeJSON(b []byte, lim Limits) (bson.M, error) {
	lim = lim.WithDefaults()
	if err := CheckJSONText(b); err != nil {
		return nil, err
	}
	if v, ok := decodeJSONQuick(b, lim); ok {
		if doc, ok := v.(bson.M); ok {
			return doc, nil
		}
	}
	d, err := newJSONDecoder(b, lim)
	if err != nil {
		return nil, err
	}
	tok, err := d.token("")
	if err != nil {
		return nil, err
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, &DocumentError{Msg: "expected a JSON object, got " + jsonKind(tok)}
	}
	doc, err := d.object("", 1)
	if err != nil {
		return nil, err
	}
	return doc, d.end()
}

// DecodeJSONValue reads any JSON value with DecodeJSON's rules.
func DecodeJSONValue(b []byte, lim Limits) (any, error) {
	lim = lim.WithDefaults()
	if err := CheckJSONText(b); err != nil {
		return nil, err
	}
	if v, ok := decodeJSONQuick(b, lim); ok {
		return v, nil
	}
	return decodeJSONTokens(b, lim)
}

// decodeJSONTokens is DecodeJSONValue through the token decoder, which
// reads every body decodeJSONQuick leaves to it and says why it refuses
// one.
func decodeJSONTokens(b []byte, lim Limits) (any, error) {
	d, err := newJSONDecoder(b, lim)
	if err != nil {
		return nil, err
	}
	tok, err := d.token("")
	if err != nil {
		return nil, err
	}
	v, err := d.value(tok, "", 1)
	if err != nil {
		return nil, err
	}
	return v, d.end()
}

// jsonDecoder walks JSON tokens, so nesting is checked before it is
// descended into and a hostile body cannot recurse without bound.
type jsonDecoder struct {
	dec  *json.Decoder
	lim  Limits
	keys int
}

func newJSONDecoder(b []byte, lim Limits) (*jsonDecoder, error) {
	lim = lim.WithDefaults()
	if len(b) > lim.MaxBytes {
		return nil, &DocumentError{Msg: fmt.Sprintf("body is %d bytes, more than the limit of %d", len(b), lim.MaxBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return &jsonDecoder{dec: dec, lim: lim}, nil
}

// token reads the next token, turning the decoder's errors into ours.
func (d *jsonDecoder) token(path string) (json.Token, error) {
	tok, err := d.dec.Token()
	if err == nil {
		return tok, nil
	}
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF) && d.dec.InputOffset() == 0:
		return nil, &DocumentError{Msg: "empty body: expected JSON"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, &DocumentError{Msg: "malformed JSON: unexpected end of input"}
	case errors.As(err, &syn):
		return nil, &DocumentError{Msg: fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())}
	}
	return nil, &DocumentError{Path: path, Msg: "malformed JSON: " + err.Error()}
}

// end refuses anything after the top-level value but white space.
func (d *jsonDecoder) end() error {
	tok, err := d.dec.Token()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err == nil {
		return &DocumentError{Msg: fmt.Sprintf("%s follows the JSON value; send one value only", jsonKind(tok))}
	}
	return &DocumentError{Msg: "data follows the JSON value; send one value only"}
}

func (d *jsonDecoder) value(tok json.Token, path string, depth int) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return d.object(path, depth)
		}
		if t == '[' {
			return d.array(path, depth)
		}
		return nil, &DocumentError{Path: path, Msg: fmt.Sprintf("malformed JSON: unexpected %q", rune(t))}
	case json.Number:
		return jsonNumber(path, string(t))
	case string, bool, nil:
		return t, nil
	}
	return nil, &DocumentError{Path: path, Msg: fmt.Sprintf("malformed JSON: unexpected token %v", tok)}
}

// object reads the members of an object whose "{" was just read.
func (d *jsonDecoder) object(path string, depth int) (bson.M, error) {
	if depth > d.lim.MaxDepth {
		return nil, &DocumentError{Path: path, Msg: fmt.Sprintf("nested deeper than %d levels", d.lim.MaxDepth)}
	}
	doc := bson.M{}
	for d.dec.More() {
		tok, err := d.token(path)
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, &DocumentError{Path: path, Msg: "malformed JSON: expected a field name"}
		}
		p := joinPath(path, key)
		if _, dup := doc[key]; dup {
			return nil, &DocumentError{Path: p, Msg: "field appears twice"}
		}
		if err := d.count(); err != nil {
			return nil, err
		}
		if tok, err = d.token(p); err != nil {
			return nil, err
		}
		v, err := d.value(tok, p, depth+1)
		if err != nil {
			return nil, err
		}
		doc[key] = v
	}
	if _, err := d.token(path); err != nil { // the closing "}"
		return nil, err
	}
	return doc, nil
}

// array reads the elements of an array whose "[" was just read.
func (d *jsonDecoder) array(path string, depth int) (bson.A, error) {
	if depth > d.lim.MaxDepth {
		return nil, &DocumentError{Path: path, Msg: fmt.Sprintf("nested deeper than %d levels", d.lim.MaxDepth)}
	}
	arr := bson.A{}
	for d.dec.More() {
		if err := d.count(); err != nil {
			return nil, err
		}
		p := joinPath(path, strconv.Itoa(len(arr)))
		tok, err := d.token(p)
		if err != nil {
			return nil, err
		}
		v, err := d.value(tok, p, depth+1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	if _, err := d.token(path); err != nil { // the closing "]"
		return nil, err
	}
	return arr, nil
}

func (d *jsonDecoder) count() error {
	if d.keys++; d.keys > d.lim.MaxKeys {
		return &DocumentError{Msg: fmt.Sprintf("more than %d fields and array elements", d.lim.MaxKeys)}
	}
	return nil
}

// jsonNumber keeps integers exact as int64 and makes every other number a
// float64.
func jsonNumber(path, s string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, &DocumentError{Path: path, Msg: fmt.Sprintf("number %s is out of range", s)}
	}
	return f, nil
}

// jsonKind names a token's JSON kind for an error message.
func jsonKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
		return strconv.QuoteRune(rune(t))
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// ToJSONValue turns a document value as a store returns it into something
// encoding/json writes well: bson.M and bson.D become map[string]any (a
// bson.D's order is not kept), bson.A and other slices []any, ObjectIDs
// their hex string, dates (primitive.DateTime, time.Time) RFC 3339 strings
// in UTC with milliseconds, Binary and []byte base64 strings, Decimal128 its
// decimal string, NaN and ±Inf null, and int32/int64/float64 stay numbers.
// Note that JavaScript reads integers beyond ±2^53 inexactly. A type it does
// not know is returned unchanged for encoding/json to handle.
func ToJSONValue(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int, int32, int64:
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
		return x
	case bson.M:
		return jsonMap(x)
	case map[string]any:
		return jsonMap(x)
	case bson.D:
		out := make(map[string]any, len(x))
		for _, e := range x {
			out[e.Key] = ToJSONValue(e.Value)
		}
		return out
	case bson.A:
		return jsonSlice(x)
	case []any:
		return jsonSlice(x)
	case primitive.ObjectID:
		return x.Hex()
	case primitive.DateTime:
		return x.Time().UTC().Format(JSONTimeFormat)
	case time.Time:
		return x.UTC().Format(JSONTimeFormat)
	case primitive.Binary:
		return base64.StdEncoding.EncodeToString(x.Data)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case primitive.Decimal128:
		return x.String()
	case primitive.Timestamp:
		return map[string]any{"t": x.T, "i": x.I}
	case primitive.Regex:
		return "/" + x.Pattern + "/" + x.Options
	case primitive.Null, primitive.Undefined:
		return nil
	case primitive.Symbol:
		return string(x)
	case primitive.JavaScript:
		return string(x)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = ToJSONValue(rv.Index(i).Interface())
		}
		return out
	}
	return v
}

func jsonMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = ToJSONValue(v)
	}
	return out
}

func jsonSlice(a []any) []any {
	out := make([]any, len(a))
	for i, v := range a {
		out[i] = ToJSONValue(v)
	}
	return out
}
