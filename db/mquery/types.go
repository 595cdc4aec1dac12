package mquery

import (
	"fmt"
	"math"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// BSON type codes as $type takes them.
const (
	codeDouble        = 1
	codeString        = 2
	codeObject        = 3
	codeArray         = 4
	codeBinary        = 5
	codeUndefined     = 6
	codeObjectID      = 7
	codeBool          = 8
	codeDate          = 9
	codeNull          = 10
	codeRegex         = 11
	codeDBPointer     = 12
	codeJavaScript    = 13
	codeSymbol        = 14
	codeCodeWithScope = 15
	codeInt           = 16
	codeTimestamp     = 17
	codeLong          = 18
	codeDecimal       = 19
	codeMinKey        = -1
	codeMaxKey        = 127
)

// typeAlias resolves the names $type accepts, as MongoDB spells them.
func typeAlias(name string) (int, bool) {
	switch name {
	case "double":
		return codeDouble, true
	case "string":
		return codeString, true
	case "object":
		return codeObject, true
	case "array":
		return codeArray, true
	case "binData":
		return codeBinary, true
	case "undefined":
		return codeUndefined, true
	case "objectId":
		return codeObjectID, true
	case "bool":
		return codeBool, true
	case "date":
		return codeDate, true
	case "null":
		return codeNull, true
	case "regex":
		return codeRegex, true
	case "dbPointer":
		return codeDBPointer, true
	case "javascript":
		return codeJavaScript, true
	case "symbol":
		return codeSymbol, true
	case "javascriptWithScope":
		return codeCodeWithScope, true
	case "int":
		return codeInt, true
	case "timestamp":
		return codeTimestamp, true
	case "long":
		return codeLong, true
	case "decimal":
		return codeDecimal, true
	case "minKey":
		return codeMinKey, true
	case "maxKey":
		return codeMaxKey, true
	}
	return 0, false
}

// typeBit maps a type code to one bit of a typeSet.
func typeBit(code int) uint32 {
	switch code {
	case codeMinKey:
		return 1 << 20
	case codeMaxKey:
		return 1 << 21
	}
	return 1 << uint(code)
}

// typeCode returns the BSON type code of a canonical value, 0 if unknown.
func typeCode(v any) int {
	switch v.(type) {
	case float64:
		return codeDouble
	case string:
		return codeString
	case bson.M:
		return codeObject
	case bson.A:
		return codeArray
	case primitive.Binary:
		return codeBinary
	case primitive.Undefined:
		return codeUndefined
	case primitive.ObjectID:
		return codeObjectID
	case bool:
		return codeBool
	case primitive.DateTime:
		return codeDate
	case nil:
		return codeNull
	case primitive.Regex:
		return codeRegex
	case primitive.DBPointer:
		return codeDBPointer
	case primitive.JavaScript:
		return codeJavaScript
	case primitive.Symbol:
		return codeSymbol
	case primitive.CodeWithScope:
		return codeCodeWithScope
	case int32:
		return codeInt
	case primitive.Timestamp:
		return codeTimestamp
	case int64:
		return codeLong
	case primitive.Decimal128:
		return codeDecimal
	case primitive.MinKey:
		return codeMinKey
	case primitive.MaxKey:
		return codeMaxKey
	}
	return 0
}

// parseTypeSet reads $type's operand: a type name, a type code, or an
// array of them. "number" stands for all four numeric types.
func parseTypeSet(v any) (uint32, error) {
	items, ok := v.(bson.A)
	if !ok {
		items = bson.A{v}
	} else if len(items) == 0 {
		return 0, &db.QueryError{Op: "$type", Msg: "needs at least one type"}
	}
	var set uint32
	for _, it := range items {
		switch t := it.(type) {
		case string:
			if t == "number" {
				set |= typeBit(codeDouble) | typeBit(codeInt) | typeBit(codeLong) | typeBit(codeDecimal)
				continue
			}
			code, ok := typeAlias(t)
			if !ok {
				return 0, &db.QueryError{Op: "$type", Msg: fmt.Sprintf("unknown type name %q", t)}
			}
			set |= typeBit(code)
		case int32, int64, float64, primitive.Decimal128:
			code, ok := wholeNumber(t)
			if !ok || !validTypeCode(code) {
				return 0, &db.QueryError{Op: "$type", Msg: fmt.Sprintf("invalid type code %v", t)}
			}
			set |= typeBit(int(code))
		default:
			return 0, &db.QueryError{Op: "$type", Msg: "needs a type name or number, or an array of them"}
		}
	}
	return set, nil
}

func validTypeCode(c int64) bool {
	return c == codeMinKey || c == codeMaxKey || (c >= codeDouble && c <= codeDecimal)
}

// wholeNumber converts a numeric value with no fractional part to int64.
func wholeNumber(v any) (int64, bool) {
	switch t := v.(type) {
	case int32:
		return int64(t), true
	case int64:
		return t, true
	case float64:
		if t != math.Trunc(t) || t < -(1<<63) || t >= 1<<63 {
			return 0, false
		}
		return int64(t), true
	case primitive.Decimal128:
		b := toBig(t)
		if b.class != classFinite || !b.rat.IsInt() || !b.rat.Num().IsInt64() {
			return 0, false
		}
		return b.rat.Num().Int64(), true
	}
	return 0, false
}
