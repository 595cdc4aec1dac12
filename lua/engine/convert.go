package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// All conversion between Lua, Go and BSON values happens in this file.
//
//	Lua value                        Go value (toGo)             from Go/BSON (toLua)
//	-------------------------------  --------------------------  ------------------------------------
//	nil                              nil                         nil; a nil field is left out
//	backend.null                     nil                         nil inside an array (keeps positions)
//	boolean                          bool                        bool
//	number, integral, in int64 range int64                       int, int8…int64, uint…uint64
//	number, otherwise                float64                     float32, float64, json.Number
//	                                 (NaN and ±Inf are refused)  (NaN and ±Inf are refused)
//	string (any bytes)               string                      string, []byte, Binary,
//	                                                             ObjectID (its 24-digit hex),
//	                                                             Decimal128 (its decimal text),
//	                                                             Symbol, JavaScript
//	date (backend.date, now)         primitive.DateTime          primitive.DateTime, time.Time,
//	                                 (millisecond precision)     Timestamp
//	table with keys 1..n             bson.A                      bson.A, []any, any other slice
//	table with string keys           bson.M                      bson.M, map[string]any, bson.D,
//	                                                             any map with string keys
//	{} (empty table)                 bson.A{} — an empty array
//	backend.object(t)                bson.M (number keys become  every document converted from Go
//	                                 strings), {} for empty      is marked this way, so {} stays {}
//	backend.array(t)                 bson.A, [] for empty
//
// Refused with an error naming where in the value: functions, coroutines,
// userdata other than dates and backend.null, tables mixing 1..n with named
// keys, arrays with holes, keys that are neither strings nor 1..n, a table
// that contains itself, nesting deeper than maxNesting, and (in Go → Lua)
// any Go type not in the table. Nothing is silently turned into nil.
//
// Integers above 2^53 lose precision in Lua, whose numbers are float64. An
// ObjectID read from the store reaches Lua as its hex string; the data calls
// turn an id argument (and an _id equality in a filter) that is 24 hex
// digits back into an ObjectID, as the data API does.

// maxNesting caps how deeply tables may nest in a converted value.
const maxNesting = 64

// convError is a refused conversion; path is where in the value, built
// as the error travels up.
type convError struct {
	path []string
	msg  string
}

func (e *convError) Error() string {
	if len(e.path) == 0 {
		return e.msg
	}
	var b strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		p := e.path[i]
		if strings.HasPrefix(p, "[") || i == len(e.path)-1 {
			b.WriteString(p)
		} else {
			b.WriteString("." + p)
		}
	}
	return "at " + b.String() + ": " + e.msg
}

func convErrorf(format string, args ...any) *convError {
	return &convError{msg: fmt.Sprintf(format, args...)}
}

// within adds one step of path to err when it is a convError.
func within(err error, step string) error {
	if ce, ok := err.(*convError); ok {
		ce.path = append(ce.path, step)
	}
	return err
}

// toGo converts a Lua value to Go, charging its size (roughly its JSON
// length) against maxBytes; what names the value in a size error.
func (v *vm) toGo(lv lua.LValue, maxBytes int64, what string) (any, error) {
	c := v.newToGoConv(maxBytes, what)
	defer v.endToGoConv(c)
	return c.value(lv, 1, false)
}

// newToGoConv starts a conversion, with the room for its stack the state's
// last conversion left.
func (v *vm) newToGoConv(maxBytes int64, what string) *toGoConv {
	c := &toGoConv{v: v, left: maxBytes, max: maxBytes, what: what, stack: v.convStack}
	v.convStack = nil
	return c
}

// endToGoConv keeps the room c's stack had for the next conversion.
func (v *vm) endToGoConv(c *toGoConv) { v.convStack = c.stack[:0] }

// toDoc converts a Lua table that must be a document: {} is an empty
// document here, and an array is refused.
func (v *vm) toDoc(lv lua.LValue, maxBytes int64, what string) (bson.M, error) {
	if _, ok := lv.(*lua.LTable); !ok {
		return nil, convErrorf("%s must be a table, got %s", what, typeName(lv))
	}
	c := v.newToGoConv(maxBytes, what)
	defer v.endToGoConv(c)
	out, err := c.value(lv, 1, true)
	if err != nil {
		return nil, err
	}
	doc, ok := out.(bson.M)
	if !ok {
		return nil, convErrorf("%s must be a table with named fields, got an array", what)
	}
	return doc, nil
}

type toGoConv struct {
	v     *vm
	left  int64
	max   int64
	what  string
	stack []*lua.LTable
}

func (c *toGoConv) charge(n int) error {
	c.left -= int64(n)
	if c.left < 0 {
		return convErrorf("%s is larger than the limit of %s", c.what, byteSize(c.max))
	}
	return nil
}

func (c *toGoConv) value(lv lua.LValue, depth int, wantDoc bool) (any, error) {
	switch x := lv.(type) {
	case *lua.LNilType:
		return nil, c.charge(4)
	case lua.LBool:
		return bool(x), c.charge(5)
	case lua.LNumber:
		if err := c.charge(8); err != nil {
			return nil, err
		}
		return numberToGo(float64(x))
	case lua.LString:
		return string(x), c.charge(len(x) + 2)
	case *lua.LTable:
		if x == c.v.ctx {
			x = c.v.ctxData // the read-only proxy converts as what it shows
		}
		return c.table(x, depth, wantDoc)
	case *lua.LUserData:
		switch {
		case x.Metatable == c.v.dateMT:
			t, _ := x.Value.(time.Time)
			return primitive.NewDateTimeFromTime(t), c.charge(26)
		case x == c.v.null:
			return nil, c.charge(4)
		case x.Metatable == c.v.responseMT:
			return nil, convErrorf("backend.response(...) can only be returned by the handler itself, not placed inside a value")
		}
		return nil, convErrorf("a userdata value cannot be converted")
	}
	return nil, convErrorf("a %s cannot be converted", typeName(lv))
}

// numberToGo keeps integers integers: an integral float64 in int64's range
// becomes int64, anything else float64.
func numberToGo(f float64) (any, error) {
	switch {
	case math.IsNaN(f):
		return nil, convErrorf("NaN is not a valid value")
	case math.IsInf(f, 0):
		return nil, convErrorf("infinity is not a valid value")
	case f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63:
		return int64(f), nil
	}
	return f, nil
}

func (c *toGoConv) table(t *lua.LTable, depth int, wantDoc bool) (any, error) {
	if depth > maxNesting {
		return nil, convErrorf("tables nest deeper than %d levels", maxNesting)
	}
	for _, seen := range c.stack {
		if seen == t {
			return nil, convErrorf("a table contains itself (a cycle)")
		}
	}
	c.stack = append(c.stack, t)
	defer func() {
		c.stack[len(c.stack)-1] = nil
		c.stack = c.stack[:len(c.stack)-1]
	}()
	if err := c.charge(2); err != nil {
		return nil, err
	}

	if t.Metatable == c.v.httpInMT {
		c.v.fillInput(t)
	}
	switch t.Metatable {
	case c.v.objectMT, c.v.ctxMT:
		return c.object(t, depth)
	case c.v.arrayMT:
		return c.array(t, depth, true)
	}
	// One pass classifies the keys and, optimistically, builds the object
	// a table of string keys is: most tables are one or the other, and
	// each pass over a table's array items costs an allocation per item.
	// (Next, unlike ForEach, gives string keys without allocating them.)
	var strKeys, intKeys int
	var badKey lua.LValue
	var obj bson.M
	var objErr error
	for k, val := t.Next(lua.LNil); k != lua.LNil; k, val = t.Next(k) {
		switch kk := k.(type) {
		case lua.LString:
			strKeys++
			if intKeys > 0 || badKey != nil || objErr != nil {
				continue
			}
			if obj == nil {
				obj = make(bson.M)
			}
			if objErr = c.charge(len(kk) + 3); objErr != nil {
				continue
			}
			e, err := c.value(val, depth+1, false)
			if err != nil {
				objErr = within(err, string(kk))
				continue
			}
			obj[string(kk)] = e
		case lua.LNumber:
			if f := float64(kk); f >= 1 && f == math.Trunc(f) && f <= math.MaxInt32 {
				intKeys++
			} else if badKey == nil {
				badKey = k
			}
		default:
			if badKey == nil {
				badKey = k
			}
		}
	}
	switch {
	case badKey != nil:
		return nil, convErrorf("a %s key cannot be converted (use string keys, or 1..n for an array)", typeName(badKey))
	case strKeys > 0 && intKeys > 0:
		return nil, convErrorf("the table mixes array items (1..n) and named fields; use one or the other")
	case strKeys > 0:
		return obj, objErr
	case intKeys == 0 && wantDoc:
		return bson.M{}, nil
	}
	return c.array(t, depth, false)
}

// array converts a table with the keys 1..n.
func (c *toGoConv) array(t *lua.LTable, depth int, marked bool) (any, error) {
	var n, maxInt int
	bad := false
	t.ForEach(func(k, _ lua.LValue) {
		kk, ok := k.(lua.LNumber)
		if f := float64(kk); !ok || f < 1 || f != math.Trunc(f) || f > math.MaxInt32 {
			bad = true
			return
		}
		n++
		maxInt = max(maxInt, int(kk))
	})
	if bad && marked {
		return nil, convErrorf("an array (backend.array) may only have the keys 1..n")
	}
	if n != maxInt {
		return nil, convErrorf("the array has holes: it has %d items but an index of %d (put backend.null where an item is missing)", n, maxInt)
	}
	out := make(bson.A, maxInt)
	for i := 1; i <= maxInt; i++ {
		e, err := c.value(t.RawGetInt(i), depth+1, false)
		if err != nil {
			return nil, within(err, "["+strconv.Itoa(i)+"]")
		}
		out[i-1] = e
	}
	return out, nil
}

// object converts a table marked as an object: string keys, and number
// keys written as strings.
func (c *toGoConv) object(t *lua.LTable, depth int) (any, error) {
	out := make(bson.M)
	var err error
	for k, val := t.Next(lua.LNil); k != lua.LNil && err == nil; k, val = t.Next(k) {
		var key string
		switch kk := k.(type) {
		case lua.LString:
			key = string(kk)
		case lua.LNumber:
			key = kk.String()
		default:
			err = convErrorf("a %s key cannot be a field name", typeName(k))
			continue
		}
		if err = c.charge(len(key) + 3); err != nil {
			continue
		}
		var e any
		if e, err = c.value(val, depth+1, false); err != nil {
			err = within(err, key)
			continue
		}
		out[key] = e
	}
	return out, err
}

// typeName is a Lua value's type as Lua's type() says it.
func typeName(lv lua.LValue) string {
	if lv == nil {
		return "nil"
	}
	return lv.Type().String()
}

// toLua converts a Go value (as the stores, encoding/json or the server
// produce them) to Lua.
func (v *vm) toLua(x any) (lua.LValue, error) { return v.goValue(x, 1) }

func (v *vm) goValue(x any, depth int) (lua.LValue, error) {
	switch y := x.(type) {
	case nil:
		return lua.LNil, nil
	case bool:
		return lua.LBool(y), nil
	case string:
		return lua.LString(y), nil
	case int:
		return lua.LNumber(y), nil
	case int8:
		return lua.LNumber(y), nil
	case int16:
		return lua.LNumber(y), nil
	case int32:
		return lua.LNumber(y), nil
	case int64:
		return lua.LNumber(y), nil
	case uint:
		return lua.LNumber(y), nil
	case uint8:
		return lua.LNumber(y), nil
	case uint16:
		return lua.LNumber(y), nil
	case uint32:
		return lua.LNumber(y), nil
	case uint64:
		return lua.LNumber(y), nil
	case float32:
		return floatToLua(float64(y))
	case float64:
		return floatToLua(y)
	case json.Number:
		f, err := y.Float64()
		if err != nil {
			return nil, convErrorf("number %q cannot be read", y.String())
		}
		return floatToLua(f)
	case []byte:
		return lua.LString(y), nil
	case primitive.ObjectID:
		return lua.LString(y.Hex()), nil
	case primitive.DateTime:
		return v.newDate(y.Time()), nil
	case time.Time:
		return v.newDate(y), nil
	case primitive.Timestamp:
		return v.newDate(time.Unix(int64(y.T), 0)), nil
	case primitive.Binary:
		return lua.LString(y.Data), nil
	case primitive.Decimal128:
		return lua.LString(y.String()), nil
	case primitive.Symbol:
		return lua.LString(y), nil
	case primitive.JavaScript:
		return lua.LString(y), nil
	case primitive.Null, primitive.Undefined:
		return lua.LNil, nil
	case bson.M:
		return v.goMap(y, depth)
	case map[string]any:
		return v.goMap(y, depth)
	case bson.D:
		if depth > maxNesting {
			return nil, convErrorf("the value nests deeper than %d levels", maxNesting)
		}
		t := v.L.CreateTable(0, len(y))
		t.Metatable = v.objectMT
		for _, e := range y {
			lv, err := v.goValue(e.Value, depth+1)
			if err != nil {
				return nil, within(err, e.Key)
			}
			t.RawSetString(e.Key, lv)
		}
		return t, nil
	case bson.A:
		return v.goSlice(y, depth)
	case []any:
		return v.goSlice(y, depth)
	case []string:
		t := v.L.CreateTable(len(y), 0)
		for _, s := range y {
			t.Append(lua.LString(s))
		}
		return t, nil
	case lua.LValue:
		return nil, convErrorf("a Lua value cannot be passed back in")
	}
	return v.goReflect(reflect.ValueOf(x), depth)
}

func floatToLua(f float64) (lua.LValue, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, convErrorf("%v is not a valid value", f)
	}
	return lua.LNumber(f), nil
}

func (v *vm) goMap(m map[string]any, depth int) (lua.LValue, error) {
	if depth > maxNesting {
		return nil, convErrorf("the value nests deeper than %d levels", maxNesting)
	}
	t := v.L.CreateTable(0, len(m))
	t.Metatable = v.objectMT
	for k, e := range m {
		lv, err := v.goValue(e, depth+1)
		if err != nil {
			return nil, within(err, k)
		}
		t.RawSetString(k, lv)
	}
	return t, nil
}

func (v *vm) goSlice(s []any, depth int) (lua.LValue, error) {
	if depth > maxNesting {
		return nil, convErrorf("the value nests deeper than %d levels", maxNesting)
	}
	t := v.L.CreateTable(len(s), 0)
	for i, e := range s {
		lv, err := v.goValue(e, depth+1)
		if err != nil {
			return nil, within(err, "["+strconv.Itoa(i+1)+"]")
		}
		if lv == lua.LNil {
			lv = v.null
		}
		t.Append(lv)
	}
	return t, nil
}

// goReflect converts the maps with string keys and the slices that the
// type switch does not name ([]int, map[string]string, []bson.M, …).
func (v *vm) goReflect(rv reflect.Value, depth int) (lua.LValue, error) {
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		m := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			m[iter.Key().String()] = iter.Value().Interface()
		}
		return v.goMap(m, depth)
	case reflect.Slice, reflect.Array:
		s := make([]any, rv.Len())
		for i := range s {
			s[i] = rv.Index(i).Interface()
		}
		return v.goSlice(s, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return lua.LNil, nil
		}
		return v.goValue(rv.Elem().Interface(), depth)
	}
	if !rv.IsValid() {
		return lua.LNil, nil
	}
	return nil, convErrorf("a Go value of type %s cannot be passed to Lua", rv.Type())
}
