package db

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Default limits for client-supplied documents and filters.
const (
	DefaultMaxDepth      = 32
	DefaultMaxKeys       = 20_000
	DefaultMaxBytes      = 1 << 20
	DefaultMaxRegexBytes = 1024
)

// maxSortKeys matches MongoDB's own cap on compound sort keys.
const maxSortKeys = 32

// Limits bound what one client-supplied document, filter or JSON body may
// cost. A zero or negative field takes its default, so Limits{} is the
// default set.
type Limits struct {
	// MaxDepth caps the nesting of documents and arrays; the top-level
	// document is depth 1. Default 32 (MongoDB itself stops at 100).
	MaxDepth int
	// MaxKeys caps the fields and array elements counted over the whole
	// value, at every level. Default 20,000.
	MaxKeys int
	// MaxBytes caps the JSON text DecodeJSON reads, the encoded (BSON)
	// size of a document ValidateDocument accepts, and the bytes of keys
	// and values in a filter ValidateFilter accepts. Default 1 MiB.
	MaxBytes int
	// MaxRegexBytes caps the length of a $regex pattern. Default 1024.
	MaxRegexBytes int
}

// WithDefaults returns l with every unset field at its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = DefaultMaxKeys
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxRegexBytes <= 0 {
		l.MaxRegexBytes = DefaultMaxRegexBytes
	}
	return l
}

// DocumentError says which field of a document was refused and why.
// errors.Is(err, ErrInvalidDocument) holds for it.
type DocumentError struct {
	Path string // dotted path of the offending field ("tags.2.$x"); empty for the whole document
	Msg  string
}

func (e *DocumentError) Error() string {
	if e.Path == "" {
		return "invalid document: " + e.Msg
	}
	return "invalid document: " + quotePath(e.Path) + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrInvalidDocument) hold.
func (e *DocumentError) Unwrap() error { return ErrInvalidDocument }

// quotePath leaves a readable path alone and quotes one holding control
// characters or invalid UTF-8, so an error message never carries them raw.
func quotePath(p string) string {
	if !utf8.ValidString(p) || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return strconv.Quote(p)
	}
	return p
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// ValidateDocument checks a document a client wants stored: field names
// may not be empty, start with "$", or contain "." or NUL, and must be valid
// UTF-8, as must every string value; _id may not be an array; values must be of a type the stores keep;
// nesting, the number of fields and the encoded size stay within lim. A
// refusal is a *DocumentError naming the offending field's path.
func ValidateDocument(doc bson.M, lim Limits) error {
	if doc == nil {
		return &DocumentError{Msg: "document is missing"}
	}
	lim = lim.WithDefaults()
	if id, ok := doc["_id"]; ok {
		if _, isArr := elems(id); isArr {
			return &DocumentError{Path: "_id", Msg: "_id cannot be an array"}
		}
	}
	w := docWalker{lim: lim}
	size, err := w.value("", doc, 1)
	if err != nil {
		return err
	}
	if size > lim.MaxBytes {
		return &DocumentError{Msg: fmt.Sprintf("document is %d bytes, more than the limit of %d", size, lim.MaxBytes)}
	}
	return nil
}

// docWalker walks a document counting fields against the limits and
// computing its BSON size.
type docWalker struct {
	lim  Limits
	keys int
}

// value validates v at path (depth counts the documents and arrays that
// enclose it, v included) and returns its encoded BSON size without the
// element header.
func (w *docWalker) value(path string, v any, depth int) (int, error) {
	if fs, ok := fields(v); ok {
		if depth > w.lim.MaxDepth {
			return 0, &DocumentError{Path: path, Msg: fmt.Sprintf("nested deeper than %d levels", w.lim.MaxDepth)}
		}
		size := 5
		for i, f := range fs {
			p := joinPath(path, f.key)
			if err := checkFieldName(f.key); err != nil {
				return 0, &DocumentError{Path: p, Msg: err.Error()}
			}
			if i > 0 && fs[i-1].key == f.key {
				return 0, &DocumentError{Path: p, Msg: "field appears twice"}
			}
			if w.keys++; w.keys > w.lim.MaxKeys {
				return 0, &DocumentError{Msg: fmt.Sprintf("more than %d fields and array elements", w.lim.MaxKeys)}
			}
			n, err := w.value(p, f.val, depth+1)
			if err != nil {
				return 0, err
			}
			size += 2 + len(f.key) + n
			if size > w.lim.MaxBytes {
				return 0, &DocumentError{Msg: fmt.Sprintf("document is more than the limit of %d bytes", w.lim.MaxBytes)}
			}
		}
		return size, nil
	}
	if es, ok := elems(v); ok {
		if depth > w.lim.MaxDepth {
			return 0, &DocumentError{Path: path, Msg: fmt.Sprintf("nested deeper than %d levels", w.lim.MaxDepth)}
		}
		size := 5
		for i, e := range es {
			if w.keys++; w.keys > w.lim.MaxKeys {
				return 0, &DocumentError{Msg: fmt.Sprintf("more than %d fields and array elements", w.lim.MaxKeys)}
			}
			key := strconv.Itoa(i)
			n, err := w.value(joinPath(path, key), e, depth+1)
			if err != nil {
				return 0, err
			}
			size += 2 + len(key) + n
			if size > w.lim.MaxBytes {
				return 0, &DocumentError{Msg: fmt.Sprintf("document is more than the limit of %d bytes", w.lim.MaxBytes)}
			}
		}
		return size, nil
	}
	n, ok := scalarSize(v)
	if !ok {
		return 0, &DocumentError{Path: path, Msg: fmt.Sprintf("unsupported value type %T", v)}
	}
	if s, isStr := v.(string); isStr && !utf8.ValidString(s) {
		// Stored as given it could not be sent back as JSON; replaced, it
		// could not be found or written back by what the client holds.
		return 0, &DocumentError{Path: path, Msg: "string is not valid UTF-8"}
	}
	return n, nil
}

// checkFieldName applies the rules for a field name in a stored document.
func checkFieldName(k string) error {
	switch {
	case k == "":
		return errString("empty field name")
	case k[0] == '$':
		return errString(`field names may not start with "$"`)
	case strings.IndexByte(k, '.') >= 0:
		return errString(`field names may not contain "."`)
	case strings.IndexByte(k, 0) >= 0:
		return errString("field names may not contain NUL")
	case !utf8.ValidString(k):
		return errString("field names must be valid UTF-8")
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

// scalarSize returns the BSON size of a scalar the stores keep, and false
// for a type they do not.
func scalarSize(v any) (int, bool) {
	switch x := v.(type) {
	case nil, primitive.Null, primitive.Undefined, primitive.MinKey, primitive.MaxKey:
		return 0, true
	case string:
		return 5 + len(x), true
	case primitive.Symbol:
		return 5 + len(x), true
	case primitive.JavaScript:
		return 5 + len(x), true
	case bool:
		return 1, true
	case int8, int16, int32, uint8, uint16:
		return 4, true
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return 4, true
		}
		return 8, true
	case int64, uint32, float32, float64, time.Time, primitive.DateTime, primitive.Timestamp:
		return 8, true
	case uint:
		return 8, uint64(x) <= math.MaxInt64
	case uint64:
		return 8, x <= math.MaxInt64
	case primitive.ObjectID:
		return 12, true
	case primitive.Decimal128:
		return 16, true
	case primitive.Binary:
		return 5 + len(x.Data), true
	case []byte:
		return 5 + len(x), true
	case primitive.Regex:
		return 2 + len(x.Pattern) + len(x.Options), true
	}
	return 0, false
}

// kv is one key/value pair of a document.
type kv struct {
	key string
	val any
}

// fields returns the fields of a document value (bson.M, bson.D or
// map[string]any), maps in key order so errors are deterministic, and false
// for anything else. A bson.D keeps its order; repeated keys are adjacent
// only after sorting, so callers that look for them get a sorted copy.
func fields(v any) ([]kv, bool) {
	var m map[string]any
	switch x := v.(type) {
	case bson.M:
		m = x
	case map[string]any:
		m = x
	case bson.D:
		fs := make([]kv, len(x))
		for i, e := range x {
			fs[i] = kv{e.Key, e.Value}
		}
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].key < fs[j].key })
		return fs, true
	default:
		return nil, false
	}
	fs := make([]kv, 0, len(m))
	for k, val := range m {
		fs = append(fs, kv{k, val})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].key < fs[j].key })
	return fs, true
}

// elems returns the elements of an array value (bson.A, []any or any other
// slice or array except []byte, which is binary) and false for anything
// else.
func elems(v any) ([]any, bool) {
	switch x := v.(type) {
	case bson.A:
		return x, true
	case []any:
		return x, true
	case []byte, nil:
		return nil, false
	case []bson.M:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out, true
	case []string:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out, true
	}
	if _, scalar := scalarSize(v); scalar { // ObjectID is a [12]byte
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	if rv.Kind() == reflect.Slice && rv.IsNil() {
		return []any{}, true
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// typeName names a value's kind in the words of JSON, for error messages.
func typeName(v any) string {
	if _, ok := fields(v); ok {
		return "a document"
	}
	if _, ok := elems(v); ok {
		return "an array"
	}
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// describe shows a scalar's value and a composite's kind.
func describe(v any) string {
	switch x := v.(type) {
	case int, int32, int64, float64:
		return fmt.Sprint(x)
	}
	return typeName(v)
}
