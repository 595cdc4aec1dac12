package db

import (
	"bytes"
	"math"
	"reflect"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Dates and ObjectIDs on the wire. JSON has neither, so the API writes
// them as MongoDB Extended JSON (relaxed form) wrappers, the notation the
// MongoDB tools and drivers already speak:
//
//	{"$date": "2026-01-01T00:00:00.000Z"}   a date (UTC, milliseconds)
//	{"$oid": "65a1f0c2e4b0a1b2c3d4e5f6"}    an ObjectID other than a document's _id
//
// A document's own _id is written as its hex string, as the URLs name it.
// On the way in, FromExtJSON turns the wrappers back into a
// primitive.DateTime and a primitive.ObjectID, so a date sent through the
// API is stored, compared and sorted as a date, and a document read and
// written back is unchanged.

// ExtJSONTimeFormat is how dates are written inside {"$date": …}: RFC 3339
// in UTC with milliseconds, the precision a BSON date keeps.
const ExtJSONTimeFormat = "2006-01-02T15:04:05.000Z"

// HasExtJSON reports whether a JSON text may hold an Extended JSON wrapper,
// so callers can skip FromExtJSON's walk for the usual body that holds
// none.
func HasExtJSON(b []byte) bool {
	return bytes.Contains(b, []byte(`"$date"`)) || bytes.Contains(b, []byte(`"$oid"`))
}

// FromExtJSON replaces, in place where it can, every {"$date": …} and
// {"$oid": …} object in v (as DecodeJSON and DecodeJSONValue make it) by
// the date or ObjectID it stands for, and returns the result. A $date takes
// an RFC 3339 / ISO 8601 string ("2026-01-01T00:00:00Z", fractions and
// offsets allowed), a number of milliseconds since 1970, or
// {"$numberLong": "<milliseconds>"}; an $oid takes 24 hexadecimal digits.
// A wrapper with another value, or with a field beside $date or $oid, is
// refused with a *DocumentError naming its path.
func FromExtJSON(v any) (any, error) { return fromExtJSON(v, "") }

func fromExtJSON(v any, path string) (any, error) {
	switch x := v.(type) {
	case bson.M:
		if w, ok, err := extWrapper(x, path); ok || err != nil {
			return w, err
		}
		for k, e := range x {
			nv, err := fromExtJSON(e, joinPath(path, k))
			if err != nil {
				return nil, err
			}
			x[k] = nv
		}
		return x, nil
	case bson.A:
		for i, e := range x {
			nv, err := fromExtJSON(e, joinPath(path, strconv.Itoa(i)))
			if err != nil {
				return nil, err
			}
			x[i] = nv
		}
		return x, nil
	}
	return v, nil
}

// FromExtJSONDoc is FromExtJSON for a top-level object.
func FromExtJSONDoc(doc bson.M) (bson.M, error) {
	if w, ok, err := extWrapper(doc, ""); ok || err != nil {
		if err == nil {
			err = &DocumentError{Msg: "expected a JSON object, got " + extKind(w)}
		}
		return nil, err
	}
	v, err := fromExtJSON(doc, "")
	if err != nil {
		return nil, err
	}
	return v.(bson.M), nil
}

func extKind(v any) string {
	if _, ok := v.(primitive.DateTime); ok {
		return "a $date"
	}
	return "an $oid"
}

// extWrapper reads m when it is a $date or $oid wrapper.
func extWrapper(m bson.M, path string) (any, bool, error) {
	d, isDate := m["$date"]
	o, isOID := m["$oid"]
	if !isDate && !isOID {
		return nil, false, nil
	}
	if len(m) != 1 {
		return nil, false, &DocumentError{Path: path, Msg: "a {\"$date\": …} or {\"$oid\": …} object holds that one field only"}
	}
	if isOID {
		s, ok := o.(string)
		oid, err := primitive.ObjectIDFromHex(s)
		if !ok || err != nil {
			return nil, false, &DocumentError{Path: path, Msg: `$oid takes 24 hexadecimal digits, as in {"$oid": "65a1f0c2e4b0a1b2c3d4e5f6"}`}
		}
		return oid, true, nil
	}
	dt, err := extDate(d)
	if err != nil {
		return nil, false, &DocumentError{Path: path, Msg: err.Error()}
	}
	return dt, true, nil
}

type extDateError struct{}

func (extDateError) Error() string {
	return `$date takes an ISO 8601 date-time string such as "2026-01-01T00:00:00.000Z", milliseconds since 1970, or {"$numberLong": "<milliseconds>"}`
}

// extDate reads the value of a $date.
func extDate(v any) (primitive.DateTime, error) {
	switch x := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return 0, extDateError{}
		}
		return primitive.NewDateTimeFromTime(t), nil
	case int64:
		return primitive.DateTime(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<62 {
			return 0, extDateError{}
		}
		return primitive.DateTime(int64(x)), nil
	case bson.M:
		s, ok := x["$numberLong"].(string)
		if !ok || len(x) != 1 {
			return 0, extDateError{}
		}
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, extDateError{}
		}
		return primitive.DateTime(ms), nil
	}
	return 0, extDateError{}
}

// ToExtJSON is ToJSONValue with dates as {"$date": "…Z"} and ObjectIDs as
// {"$oid": "…"}, except an ObjectID under the key _id, which is its hex
// string: the form the API answers in, which FromExtJSON reads back to the
// same values.
func ToExtJSON(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int, int32, int64, float64:
		return ToJSONValue(x)
	case bson.M:
		return extMap(x)
	case map[string]any:
		return extMap(x)
	case bson.D:
		out := make(map[string]any, len(x))
		for _, e := range x {
			out[e.Key] = extField(e.Key, e.Value)
		}
		return out
	case bson.A:
		return extSlice(x)
	case []any:
		return extSlice(x)
	case primitive.ObjectID:
		return map[string]any{"$oid": x.Hex()}
	case primitive.DateTime:
		return extDateValue(x.Time())
	case time.Time:
		return extDateValue(x)
	}
	rv := reflect.ValueOf(v)
	if v != nil && (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) {
		if _, isBytes := v.([]byte); !isBytes {
			out := make([]any, rv.Len())
			for i := range out {
				out[i] = ToExtJSON(rv.Index(i).Interface())
			}
			return out
		}
	}
	return ToJSONValue(v)
}

// ExtDate is t as the API writes a date: {"$date": "…Z"}.
func ExtDate(t time.Time) map[string]any { return extDateValue(t) }

func extDateValue(t time.Time) map[string]any {
	return map[string]any{"$date": t.UTC().Format(ExtJSONTimeFormat)}
}

func extField(k string, v any) any {
	if oid, ok := v.(primitive.ObjectID); ok && k == "_id" {
		return oid.Hex()
	}
	return ToExtJSON(v)
}

func extMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = extField(k, v)
	}
	return out
}

func extSlice(a []any) []any {
	out := make([]any, len(a))
	for i, v := range a {
		out[i] = ToExtJSON(v)
	}
	return out
}
