package mquery

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// maxValueDepth bounds how deeply normalize and deepCopy descend, so a
// map that contains itself fails instead of recursing forever. It is above
// the nesting MongoDB allows in a stored document.
const maxValueDepth = 200

// normalize turns a value from Go code into the canonical form documents
// come in: nested documents bson.M, arrays bson.A, integers int32 or int64
// (as the driver encodes them), time.Time a primitive.DateTime. Containers
// are always rebuilt, so the result shares no map or slice with v.
func normalize(v any) (any, error) { return normalizeDepth(v, 0) }

// errTooDeep is normalize's refusal of a value nested beyond maxValueDepth.
// It is not annotated with a path, which would be as long as the nesting.
func errTooDeep() *db.QueryError {
	return &db.QueryError{Msg: fmt.Sprintf("value nested more than %d levels deep", maxValueDepth)}
}

// inField names the field (or array index) an error came from, so that
// {a: {$in: [f]}} with a func f reports "a.$in.0".
func inField(err error, key string) error {
	qe, ok := err.(*db.QueryError)
	if !ok || qe.Msg == errTooDeep().Msg {
		return err
	}
	if qe.Op == "" {
		return &db.QueryError{Op: key, Msg: qe.Msg}
	}
	return &db.QueryError{Op: key + "." + qe.Op, Msg: qe.Msg}
}

func normalizeDepth(v any, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, errTooDeep()
	}
	switch t := v.(type) {
	case nil, string, bool, int32, int64, float64,
		primitive.DateTime, primitive.ObjectID, primitive.Regex, primitive.Timestamp,
		primitive.Decimal128, primitive.MinKey, primitive.MaxKey, primitive.Undefined,
		primitive.Symbol, primitive.JavaScript, primitive.DBPointer:
		return v, nil
	case primitive.Null:
		return nil, nil
	case primitive.Binary:
		return primitive.Binary{Subtype: t.Subtype, Data: append([]byte(nil), t.Data...)}, nil
	case []byte:
		return primitive.Binary{Data: append([]byte(nil), t...)}, nil
	case bson.M:
		return normalizeMap(t, depth)
	case map[string]any:
		return normalizeMap(t, depth)
	case bson.D:
		return normalizeD(t, depth)
	case []bson.E:
		return normalizeD(t, depth)
	case bson.A:
		return normalizeSlice(t, depth)
	case []any:
		return normalizeSlice(t, depth)
	case int:
		return fromInt64(int64(t)), nil
	case int8:
		return int32(t), nil
	case int16:
		return int32(t), nil
	case uint8:
		return int32(t), nil
	case uint16:
		return int32(t), nil
	case uint32:
		return int64(t), nil
	case uint:
		return fromUint64(uint64(t))
	case uint64:
		return fromUint64(t)
	case float32:
		return float64(t), nil
	case time.Time:
		return primitive.NewDateTimeFromTime(t), nil
	case json.Number:
		// As the driver encodes it: an integer if it reads as one.
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, &db.QueryError{Msg: fmt.Sprintf("%q is not a number", string(t))}
		}
		return f, nil
	case bson.Raw:
		var m bson.M
		if err := bson.Unmarshal(t, &m); err != nil {
			return nil, &db.QueryError{Msg: "malformed BSON document: " + err.Error()}
		}
		return normalizeMap(m, depth)
	case primitive.CodeWithScope:
		scope, err := normalizeDepth(t.Scope, depth+1)
		if err != nil {
			return nil, err
		}
		return primitive.CodeWithScope{Code: t.Code, Scope: scope}, nil
	}
	return normalizeReflect(v, depth)
}

// isCanonical reports whether v is already in canonical form all the way
// down, so that normalize's copy can be skipped. It allocates nothing.
func isCanonical(v any, depth int) bool {
	if depth > maxValueDepth {
		return false
	}
	switch t := v.(type) {
	case bson.M:
		for _, e := range t {
			if !isCanonical(e, depth+1) {
				return false
			}
		}
		return true
	case bson.A:
		for _, e := range t {
			if !isCanonical(e, depth+1) {
				return false
			}
		}
		return true
	case primitive.CodeWithScope:
		return isCanonical(t.Scope, depth+1)
	}
	return rank(v) >= 0
}

// fromInt64 picks int32 when the value fits, as the driver does for Go's int.
func fromInt64(i int64) any {
	if i >= math.MinInt32 && i <= math.MaxInt32 {
		return int32(i)
	}
	return i
}

func fromUint64(u uint64) (any, error) {
	if u > math.MaxInt64 {
		return nil, &db.QueryError{Msg: fmt.Sprintf("integer %d does not fit in 64 bits", u)}
	}
	return int64(u), nil
}

func normalizeMap[M ~map[string]any](m M, depth int) (any, error) {
	if m == nil {
		return nil, nil // the driver encodes a nil map as null
	}
	out := make(bson.M, len(m))
	for k, e := range m {
		n, err := normalizeDepth(e, depth+1)
		if err != nil {
			return nil, inField(err, k)
		}
		out[k] = n
	}
	return out, nil
}

func normalizeD[D ~[]bson.E](d D, depth int) (any, error) {
	if d == nil {
		return nil, nil
	}
	out := make(bson.M, len(d))
	for _, e := range d {
		if _, dup := out[e.Key]; dup {
			return nil, &db.QueryError{Op: e.Key, Msg: "field named twice in one document"}
		}
		n, err := normalizeDepth(e.Value, depth+1)
		if err != nil {
			return nil, inField(err, e.Key)
		}
		out[e.Key] = n
	}
	return out, nil
}

func normalizeSlice[S ~[]any](s S, depth int) (any, error) {
	if s == nil {
		return nil, nil // the driver encodes a nil slice as null
	}
	out := make(bson.A, len(s))
	for i, e := range s {
		n, err := normalizeDepth(e, depth+1)
		if err != nil {
			return nil, inField(err, strconv.Itoa(i))
		}
		out[i] = n
	}
	return out, nil
}

// normalizeReflect handles named types (type Status string), typed
// slices and maps, pointers and structs, the way the driver would encode
// them; anything the driver cannot encode is refused.
func normalizeReflect(v any, depth int) (any, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return normalizeDepth(rv.Elem().Interface(), depth+1)
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.Kind() == reflect.Int64 {
			return rv.Int(), nil
		}
		return fromInt64(rv.Int()), nil
	case reflect.Uint8, reflect.Uint16:
		return int32(rv.Uint()), nil
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		return fromUint64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			// The driver writes byte slices and byte arrays as binary.
			data := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(data), rv)
			return primitive.Binary{Data: data}, nil
		}
		out := make(bson.A, rv.Len())
		for i := range out {
			n, err := normalizeDepth(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, inField(err, strconv.Itoa(i))
			}
			out[i] = n
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		if rv.IsNil() {
			return nil, nil
		}
		out := make(bson.M, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			n, err := normalizeDepth(iter.Value().Interface(), depth+1)
			if err != nil {
				return nil, inField(err, iter.Key().String())
			}
			out[iter.Key().String()] = n
		}
		return out, nil
	case reflect.Struct:
		raw, err := bson.Marshal(v)
		if err != nil {
			break
		}
		var m bson.M
		if err := bson.Unmarshal(raw, &m); err != nil {
			break
		}
		return normalizeMap(m, depth)
	}
	return nil, &db.QueryError{Msg: fmt.Sprintf("unsupported value of Go type %T", v)}
}

// deepCopy copies the containers of a canonical value so that changing the
// copy never changes the original.
func deepCopy(v any) any {
	switch t := v.(type) {
	case bson.M:
		return copyDoc(t)
	case bson.A:
		out := make(bson.A, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	case primitive.Binary:
		return primitive.Binary{Subtype: t.Subtype, Data: append([]byte(nil), t.Data...)}
	}
	return v
}

func copyDoc(d bson.M) bson.M {
	if d == nil {
		return nil
	}
	out := make(bson.M, len(d))
	for k, e := range d {
		out[k] = deepCopy(e)
	}
	return out
}

// truthy is BSON's notion of a true value, used by $exists and by
// projections: false, 0, null and undefined are false, anything else true.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil, primitive.Undefined:
		return false
	case bool:
		return t
	case int32:
		return t != 0
	case int64:
		return t != 0
	case float64:
		return t != 0
	case primitive.Decimal128:
		return !t.IsZero()
	}
	return true
}

// isNumber reports whether v is one of BSON's numeric types.
func isNumber(v any) bool {
	switch v.(type) {
	case int32, int64, float64, primitive.Decimal128:
		return true
	}
	return false
}

// typeName names a canonical value's BSON type the way MongoDB's errors do.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "bool"
	case int32:
		return "int"
	case int64:
		return "long"
	case float64:
		return "double"
	case primitive.Decimal128:
		return "decimal"
	case bson.M:
		return "object"
	case bson.A:
		return "array"
	case primitive.DateTime:
		return "date"
	case primitive.ObjectID:
		return "objectId"
	case primitive.Binary:
		return "binData"
	case primitive.Regex:
		return "regex"
	case primitive.Timestamp:
		return "timestamp"
	case primitive.MinKey:
		return "minKey"
	case primitive.MaxKey:
		return "maxKey"
	case primitive.Undefined:
		return "undefined"
	case primitive.Symbol:
		return "symbol"
	case primitive.JavaScript:
		return "javascript"
	case primitive.CodeWithScope:
		return "javascriptWithScope"
	case primitive.DBPointer:
		return "dbPointer"
	}
	return fmt.Sprintf("%T", v)
}
