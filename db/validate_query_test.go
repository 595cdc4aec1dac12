package db

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestValidateFilterAccepts(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		filter bson.M
	}{
		{"nil", nil},
		{"empty", bson.M{}},
		{"equality", bson.M{"email": "ada@example.com", "age": int64(36), "profile.city": "London"}},
		{"equality to a document", bson.M{"address": bson.M{"city": "Paris", "zip": "75001"}}},
		{"equality to an empty document", bson.M{"meta": bson.M{}}},
		{"equality to an array", bson.M{"tags": bson.A{"a", "b"}}},
		{"comparisons", bson.M{"age": bson.M{"$gte": 18, "$lt": 65}, "name": bson.M{"$ne": nil}, "n": bson.M{"$eq": 1.5, "$gt": int32(0), "$lte": int64(9)}}},
		{"ObjectID and dates", bson.M{"_id": primitive.NewObjectID(), "at": bson.M{"$gt": primitive.DateTime(0)}}},
		{"$in and $nin", bson.M{"status": bson.M{"$in": bson.A{"a", "b"}}, "role": bson.M{"$nin": []any{}}, "x": bson.M{"$in": []string{"s"}}}},
		{"$in with a regex", bson.M{"name": bson.M{"$in": bson.A{primitive.Regex{Pattern: "^a"}, "b"}}}},
		{"$exists", bson.M{"deleted": bson.M{"$exists": false}}},
		{"$and $or $nor", bson.M{
			"$and": bson.A{bson.M{"a": 1}, bson.M{"b": bson.M{"$gt": 2}}},
			"$or":  []any{map[string]any{"c": 1}, bson.D{{Key: "d", Value: 2}}},
			"$nor": []bson.M{{"e": 1}},
		}},
		{"nested logic", bson.M{"$or": bson.A{bson.M{"$and": bson.A{bson.M{"a": 1}, bson.M{"$nor": bson.A{bson.M{"b": 1}}}}}}}},
		{"$not with operators", bson.M{"age": bson.M{"$not": bson.M{"$gt": 5}}}},
		{"$not with a regex operator", bson.M{"name": bson.M{"$not": bson.M{"$regex": "^x", "$options": "i"}}}},
		{"$not with a BSON regex", bson.M{"name": bson.M{"$not": primitive.Regex{Pattern: "^x", Options: "i"}}}},
		{"$regex", bson.M{"name": bson.M{"$regex": "^Ad+a$"}}},
		{"$regex with options", bson.M{"name": bson.M{"$regex": "^ada", "$options": "ims"}}},
		{"$regex BSON with empty $options", bson.M{"name": bson.M{"$regex": primitive.Regex{Pattern: "a", Options: "i"}, "$options": ""}}},
		{"BSON regex literal", bson.M{"name": primitive.Regex{Pattern: "a.b", Options: "i"}}},
		{"$size", bson.M{"tags": bson.M{"$size": 0}, "b": bson.M{"$size": int64(3)}, "c": bson.M{"$size": 2.0}, "d": bson.M{"$size": int32(1)}}},
		{"$all", bson.M{"tags": bson.M{"$all": bson.A{"a", "b"}}}},
		{"$all with $elemMatch", bson.M{"items": bson.M{"$all": bson.A{bson.M{"$elemMatch": bson.M{"qty": bson.M{"$gt": 5}}}}}}},
		{"$elemMatch on scalars", bson.M{"scores": bson.M{"$elemMatch": bson.M{"$gte": 80, "$lt": 85}}}},
		{"$elemMatch on documents", bson.M{"items": bson.M{"$elemMatch": bson.M{"product": "x", "score": bson.M{"$gt": 8}}}}},
		{"$elemMatch with logic", bson.M{"items": bson.M{"$elemMatch": bson.M{"$or": bson.A{bson.M{"a": 1}, bson.M{"b": 1}}, "c": 2}}}},
		{"$elemMatch empty", bson.M{"items": bson.M{"$elemMatch": bson.M{}}}},
		{"$elemMatch nested", bson.M{"a": bson.M{"$elemMatch": bson.M{"b": bson.M{"$elemMatch": bson.M{"$in": bson.A{1}}}}}}},
		{"bson.D condition", bson.M{"age": bson.D{{Key: "$gt", Value: 1}}}},
		{"dollar inside a name", bson.M{"price$": 1}},
		{"numeric path segment", bson.M{"items.0.qty": 1}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateFilter(s.filter, Limits{}); err != nil {
				t.Fatalf("ValidateFilter: %v", err)
			}
		})
	}
}

func TestValidateFilterRefuses(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		filter bson.M
		lim    Limits
		want   string
	}{
		// Operators that run code or are outside the allowlist.
		{"$where", bson.M{"$where": "this.a == 1"}, Limits{}, "invalid query: $where: operator not allowed"},
		{"$expr", bson.M{"$expr": bson.M{"$eq": bson.A{"$a", "$b"}}}, Limits{}, "invalid query: $expr: operator not allowed"},
		{"$function in a field", bson.M{"a": bson.M{"$function": bson.M{"body": "x"}}}, Limits{}, "invalid query: $function: operator not allowed"},
		{"$accumulator", bson.M{"a": bson.M{"$accumulator": 1}}, Limits{}, "invalid query: $accumulator: operator not allowed"},
		{"$text", bson.M{"$text": bson.M{"$search": "x"}}, Limits{}, "invalid query: $text: operator not allowed"},
		{"$type", bson.M{"a": bson.M{"$type": "string"}}, Limits{}, "invalid query: $type: operator not allowed"},
		{"$mod", bson.M{"a": bson.M{"$mod": bson.A{2, 0}}}, Limits{}, "invalid query: $mod: operator not allowed"},
		{"$comment", bson.M{"$comment": "x"}, Limits{}, "invalid query: $comment: operator not allowed"},
		{"unknown top-level", bson.M{"$foo": 1}, Limits{}, "invalid query: $foo: unknown operator"},
		{"unknown in a field", bson.M{"a": bson.M{"$gt": 1, "$bogus": 2}}, Limits{}, "invalid query: $bogus: unknown operator"},
		{"$where in $and", bson.M{"$and": bson.A{bson.M{"a": 1}, bson.M{"$where": "1"}}}, Limits{}, "invalid query: $where: operator not allowed"},
		{"$where in $or", bson.M{"$or": bson.A{bson.M{"$where": "1"}}}, Limits{}, "invalid query: $where: operator not allowed"},
		{"$where in $elemMatch", bson.M{"a": bson.M{"$elemMatch": bson.M{"$where": "1"}}}, Limits{}, "invalid query: $where: operator not allowed"},
		{"$where in $not", bson.M{"a": bson.M{"$not": bson.M{"$where": "1"}}}, Limits{}, "invalid query: $where: operator not allowed"},
		{"$expr in $elemMatch filter", bson.M{"a": bson.M{"$elemMatch": bson.M{"$and": bson.A{bson.M{"$expr": 1}}}}}, Limits{}, "invalid query: $expr: operator not allowed"},
		{"$function in $all", bson.M{"a": bson.M{"$all": bson.A{bson.M{"$elemMatch": bson.M{"$function": 1}}}}}, Limits{}, "invalid query: $function: operator not allowed"},
		{"$where in $eq value", bson.M{"a": bson.M{"$eq": bson.M{"$where": "1"}}}, Limits{}, "invalid query: $where: operator not allowed"},
		{"$where in $in value", bson.M{"a": bson.M{"$in": bson.A{bson.M{"$where": "1"}}}}, Limits{}, "invalid query: $where: operator not allowed"},
		{"$where deep in a literal", bson.M{"a": bson.M{"b": bson.M{"$where": "1"}}}, Limits{}, "invalid query: $where: operator not allowed"},
		{"operator in a literal", bson.M{"a": bson.A{bson.M{"$gt": 1}}}, Limits{}, "invalid query: $gt: operator not allowed inside a literal value"},
		{"bson.D with $where", bson.M{"a": bson.D{{Key: "$where", Value: "1"}}}, Limits{}, "invalid query: $where: operator not allowed"},
		// Operators in the wrong place.
		{"field operator at the top", bson.M{"$gt": 5}, Limits{}, "invalid query: $gt: operator not allowed at the top level of a filter; use {field: {$gt: …}}"},
		{"logical operator in a field", bson.M{"a": bson.M{"$or": bson.A{bson.M{"b": 1}}}}, Limits{}, "invalid query: $or: operator not allowed inside a field condition; put it at the top of the filter"},
		{"mixed condition", bson.M{"a": bson.M{"$gt": 1, "b": 2}}, Limits{}, "invalid query: a: cannot mix operators and field names in one condition"},
		// Operand shapes.
		{"$in string", bson.M{"a": bson.M{"$in": "x"}}, Limits{}, `invalid query: $in: needs an array, got a string (field "a")`},
		{"$nin document", bson.M{"a": bson.M{"$nin": bson.M{"x": 1}}}, Limits{}, `invalid query: $nin: needs an array, got a document (field "a")`},
		{"$all number", bson.M{"a": bson.M{"$all": 1}}, Limits{}, `invalid query: $all: needs an array, got a number (field "a")`},
		{"$and empty", bson.M{"$and": bson.A{}}, Limits{}, "invalid query: $and: needs a non-empty array of filters"},
		{"$or document", bson.M{"$or": bson.M{"a": 1}}, Limits{}, "invalid query: $or: needs a non-empty array of filters"},
		{"$nor of strings", bson.M{"$nor": bson.A{"a"}}, Limits{}, "invalid query: $nor: needs a non-empty array of filters, got an element of type a string"},
		{"$exists number", bson.M{"a": bson.M{"$exists": 1}}, Limits{}, `invalid query: $exists: needs true or false, got a number (field "a")`},
		{"$size negative", bson.M{"a": bson.M{"$size": -1}}, Limits{}, `invalid query: $size: needs a non-negative integer, got -1 (field "a")`},
		{"$size fraction", bson.M{"a": bson.M{"$size": 1.5}}, Limits{}, `invalid query: $size: needs a non-negative integer, got 1.5 (field "a")`},
		{"$size string", bson.M{"a": bson.M{"$size": "2"}}, Limits{}, `invalid query: $size: needs a non-negative integer, got a string (field "a")`},
		{"$regex number", bson.M{"a": bson.M{"$regex": 1}}, Limits{}, `invalid query: $regex: needs a string, got a number (field "a")`},
		{"$regex does not compile", bson.M{"a": bson.M{"$regex": "a(b"}}, Limits{}, `invalid query: $regex: missing closing ) "a(b" (field "a")`},
		{"$regex backreference", bson.M{"a": bson.M{"$regex": `(a)\1`}}, Limits{}, `invalid query: $regex: invalid escape sequence "\\1" (field "a")`},
		{"$regex too long", bson.M{"a": bson.M{"$regex": strings.Repeat("a", 11)}}, Limits{MaxRegexBytes: 10}, `invalid query: $regex: pattern is longer than 10 bytes (field "a")`},
		{"$options alone", bson.M{"a": bson.M{"$options": "i"}}, Limits{}, "invalid query: $options: needs $regex beside it"},
		{"$options unknown flag", bson.M{"a": bson.M{"$regex": "x", "$options": "ix"}}, Limits{}, `invalid query: $options: unsupported option 'x'; use i, m or s (field "a")`},
		{"$options twice", bson.M{"a": bson.M{"$regex": primitive.Regex{Pattern: "x", Options: "i"}, "$options": "m"}}, Limits{}, `invalid query: $options: options are set both in the regular expression and in $options (field "a")`},
		{"$regex with NUL", bson.M{"a": bson.M{"$regex": "a\x00"}}, Limits{}, `invalid query: $regex: pattern may not contain NUL (field "a")`},
		{"$all mixing $elemMatch and values", bson.M{"a": bson.M{"$all": bson.A{bson.M{"$elemMatch": bson.M{"$gt": 1}}, 5}}}, Limits{}, `invalid query: $all: cannot mix {$elemMatch: …} with plain values (field "a")`},
		{"$options number", bson.M{"a": bson.M{"$regex": "x", "$options": 1}}, Limits{}, `invalid query: $options: needs a string, got a number (field "a")`},
		{"$not scalar", bson.M{"a": bson.M{"$not": 5}}, Limits{}, `invalid query: $not: needs a document of operators such as {$not: {$gt: 5}} (field "a")`},
		{"$not empty", bson.M{"a": bson.M{"$not": bson.M{}}}, Limits{}, `invalid query: $not: needs a document of operators such as {$not: {$gt: 5}} (field "a")`},
		{"$not with a field", bson.M{"a": bson.M{"$not": bson.M{"b": 1}}}, Limits{}, `invalid query: $not: needs a document of operators such as {$not: {$gt: 5}} (field "a")`},
		{"$not with a bad operand", bson.M{"a": bson.M{"$not": bson.M{"$in": 1}}}, Limits{}, `invalid query: $in: needs an array, got a number (field "a")`},
		{"$elemMatch array", bson.M{"a": bson.M{"$elemMatch": bson.A{1}}}, Limits{}, `invalid query: $elemMatch: needs a document, got an array (field "a")`},
		{"$elemMatch mixed", bson.M{"a": bson.M{"$elemMatch": bson.M{"$gt": 1, "b": 2}}}, Limits{}, `invalid query: $elemMatch: cannot mix operators and field names (field "a")`},
		{"$elemMatch with a bad operand", bson.M{"a": bson.M{"$elemMatch": bson.M{"b": bson.M{"$size": -2}}}}, Limits{}, `invalid query: $size: needs a non-negative integer, got -2 (field "b")`},
		{"operator twice", bson.M{"a": bson.D{{Key: "$gt", Value: 1}, {Key: "$gt", Value: 2}}}, Limits{}, "invalid query: $gt: given twice in one document"},
		{"field twice", bson.M{"$or": bson.A{bson.D{{Key: "b", Value: 1}, {Key: "b", Value: 2}}}}, Limits{}, "invalid query: b: given twice in one document"},
		{"$where beside a field", bson.M{"a": bson.M{"b": 1, "$where": "1"}}, Limits{}, "invalid query: $where: operator not allowed"},
		{"$ne regex", bson.M{"a": bson.M{"$ne": primitive.Regex{Pattern: "x"}}}, Limits{}, `invalid query: $ne: cannot take a regular expression; use $not (field "a")`},
		{"$eq undefined", bson.M{"a": bson.M{"$eq": primitive.Undefined{}}}, Limits{}, `invalid query: $eq: cannot compare to undefined (field "a")`},
		// Field paths and values.
		{"empty field", bson.M{"": 1}, Limits{}, "invalid query: empty field name"},
		{"empty segment", bson.M{"a..b": 1}, Limits{}, "invalid query: a..b: empty segment in field path"},
		{"trailing dot", bson.M{"a.": 1}, Limits{}, "invalid query: a.: empty segment in field path"},
		{"dollar segment", bson.M{"a.$where": 1}, Limits{}, `invalid query: a.$where: field path segments may not start with "$"`},
		{"NUL in field", bson.M{"a\x00": 1}, Limits{}, `invalid query: "a\x00": field names may not contain NUL`},
		{"invalid UTF-8 field", bson.M{"\xff": 1}, Limits{}, `invalid query: "\xff": field names must be valid UTF-8`},
		{"unsupported value", bson.M{"a": struct{}{}}, Limits{}, "invalid query: unsupported value type struct {}"},
		// Limits.
		{"too deep", nest(5, 1), Limits{MaxDepth: 4}, "invalid query: nested deeper than 4 levels"},
		{"too deep through logic", bson.M{"$or": bson.A{bson.M{"$or": bson.A{bson.M{"a": 1}}}}}, Limits{MaxDepth: 4}, "invalid query: nested deeper than 4 levels"},
		{"too many keys", bson.M{"a": bson.M{"$in": bson.A{1, 2, 3, 4}}}, Limits{MaxKeys: 4}, "invalid query: more than 4 fields and array elements"},
		{"too many bytes", bson.M{"a": strings.Repeat("x", 200)}, Limits{MaxBytes: 100}, "invalid query: filter is more than 100 bytes"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			checkQueryError(t, ValidateFilter(s.filter, s.lim), s.want)
		})
	}
}

func TestValidateFilterDepthCountsEveryLevel(t *testing.T) {
	t.Parallel()
	// {a: {$elemMatch: {b: {$elemMatch: {$in: [[1]]}}}}} nests the filter,
	// the conditions, the operands and the array: depth 7.
	f := bson.M{"a": bson.M{"$elemMatch": bson.M{"b": bson.M{"$elemMatch": bson.M{"$in": bson.A{bson.A{1}}}}}}}
	checkQueryError(t, ValidateFilter(f, Limits{MaxDepth: 7}), "")
	checkQueryError(t, ValidateFilter(f, Limits{MaxDepth: 6}), "invalid query: nested deeper than 6 levels")
}

func TestIsAllowedOperator(t *testing.T) {
	t.Parallel()
	for _, op := range strings.Fields("$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or $nor $not $regex $options $elemMatch $size $all") {
		if !IsAllowedOperator(op) {
			t.Errorf("%s is not allowed", op)
		}
	}
	for _, op := range strings.Fields("$where $function $expr $accumulator $text $type $mod $jsonSchema $foo eq") {
		if IsAllowedOperator(op) {
			t.Errorf("%s is allowed", op)
		}
	}
}
