package mquery

import (
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestCompileUpdateRefuses(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		update bson.M
		msg    string
	}{
		{"empty", bson.M{}, "invalid query: update is empty (use an operator such as $set)"},
		{"nil", nil, "invalid query: update is empty (use an operator such as $set)"},
		{"replacement document", bson.M{"name": "x"}, "invalid query: name: an update may only hold update operators such as $set; replacing a whole document is not an update"},
		{"operators and fields", bson.M{"$set": bson.M{"a": 1}, "b": 2}, "invalid query: b: an update may only hold update operators such as $set; replacing a whole document is not an update"},
		{"unknown operator", bson.M{"$rename": bson.M{"a": "b"}}, "invalid query: $rename: unknown or unsupported update operator"},
		{"$where", bson.M{"$where": "1"}, "invalid query: $where: unknown or unsupported update operator"},
		{"operand not a document", bson.M{"$set": "a"}, "invalid query: $set: needs a document of field paths and values"},
		{"operand an array", bson.M{"$inc": bson.A{1}}, "invalid query: $inc: needs a document of field paths and values"},
		{"same path twice", bson.M{"$set": bson.M{"a": 1}, "$inc": bson.M{"a": 1}}, `invalid query: $set: "a" conflicts with "a" of $inc in the same update`},
		{"path and its prefix", bson.M{"$set": bson.M{"a": 1, "a.b": 2}}, `invalid query: $set: "a.b" conflicts with "a" of $set in the same update`},
		{"prefix across operators", bson.M{"$unset": bson.M{"a.b.c": ""}, "$push": bson.M{"a.b": 1}}, `invalid query: $unset: "a.b.c" conflicts with "a.b" of $push in the same update`},
		{"with $setOnInsert", bson.M{"$set": bson.M{"a": 1}, "$setOnInsert": bson.M{"a": 2}}, `invalid query: $setOnInsert: "a" conflicts with "a" of $set in the same update`},
		{"unset _id", bson.M{"$unset": bson.M{"_id": ""}}, "invalid query: $unset: the _id field cannot be changed"},
		{"inc _id", bson.M{"$inc": bson.M{"_id": 1}}, "invalid query: $inc: the _id field cannot be changed"},
		{"push into _id", bson.M{"$push": bson.M{"_id.x": 1}}, "invalid query: $push: the _id field cannot be changed"},
		{"empty path", bson.M{"$set": bson.M{"": 1}}, `invalid query: $set: field "": field path cannot be empty`},
		{"empty component", bson.M{"$set": bson.M{"a..b": 1}}, `invalid query: $set: field "a..b": field path cannot contain an empty component`},
		{"trailing dot", bson.M{"$set": bson.M{"a.": 1}}, `invalid query: $set: field "a.": field path cannot contain an empty component`},
		{"positional", bson.M{"$set": bson.M{"a.$.b": 1}}, `invalid query: $set: field "a.$.b": field path component cannot start with $ (positional and $meta paths are not supported)`},
		{"all positional", bson.M{"$inc": bson.M{"a.$[].b": 1}}, `invalid query: $inc: field "a.$[].b": field path component cannot start with $ (positional and $meta paths are not supported)`},
		{"$inc string", bson.M{"$inc": bson.M{"n": "1"}}, `invalid query: $inc: field "n" needs a number to add, not string`},
		{"$inc null", bson.M{"$inc": bson.M{"n": nil}}, `invalid query: $inc: field "n" needs a number to add, not null`},
		{"$push modifier without $each", bson.M{"$push": bson.M{"t": bson.M{"$slice": 1}}}, `invalid query: $push: field "t": modifier $slice needs $each`},
		{"$push $each not an array", bson.M{"$push": bson.M{"t": bson.M{"$each": 1}}}, `invalid query: $push: field "t": $each needs an array`},
		{"$push unknown modifier", bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{}, "$bogus": 1}}}, `invalid query: $push: field "t": unknown or unsupported modifier $bogus`},
		{"$push $slice not a number", bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{}, "$slice": "1"}}}, `invalid query: $push: field "t": $slice needs a whole number`},
		{"$push $position fraction", bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{}, "$position": 1.5}}}, `invalid query: $push: field "t": $position needs a whole number`},
		{"$push $sort zero", bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{}, "$sort": 0}}}, `invalid query: $push: field "t": $sort needs 1, -1 or a document of fields with 1 or -1`},
		{"$push $sort bad field", bson.M{"$push": bson.M{"t": bson.M{"$each": bson.A{}, "$sort": bson.M{"a": "up"}}}}, `invalid query: $push: field "t": $sort needs 1, -1 or a document of fields with 1 or -1`},
		{"$addToSet $slice", bson.M{"$addToSet": bson.M{"t": bson.M{"$each": bson.A{}, "$slice": 1}}}, `invalid query: $addToSet: field "t": unknown or unsupported modifier $slice`},
		{"$pull mixed condition", bson.M{"$pull": bson.M{"t": bson.M{"$gt": 1, "a": 1}}}, `invalid query: $pull: field "t": cannot mix operators and field names in one condition`},
		{"$pull unknown operator", bson.M{"$pull": bson.M{"t": bson.M{"$where": "1"}}}, "invalid query: $where: unknown or unsupported operator"},
		{"$pull bad regex", bson.M{"$pull": bson.M{"t": primitive.Regex{Pattern: "("}}}, "invalid query: $pull: invalid regular expression: missing closing ): `(`"},
		{"bad Go value", bson.M{"$set": bson.M{"a": make(chan int)}}, "invalid query: $set.a: unsupported value of Go type chan int"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			u, err := CompileUpdate(s.update)
			if u != nil {
				t.Errorf("CompileUpdate returned an update with error %v", err)
			}
			wantQueryError(t, err, s.msg)
		})
	}
}

func TestApplyRefuses(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		doc    bson.M
		update bson.M
		msg    string
	}{
		{"$inc on a string", bson.M{"n": "1"}, bson.M{"$inc": bson.M{"n": 1}}, `invalid query: $inc: cannot add to "n", which holds string, not a number`},
		{"$inc on null", bson.M{"n": nil}, bson.M{"$inc": bson.M{"n": 1}}, `invalid query: $inc: cannot add to "n", which holds null, not a number`},
		{"$inc overflows int64", bson.M{"n": int64(math.MaxInt64)}, bson.M{"$inc": bson.M{"n": 1}}, `invalid query: $inc: adding to "n": the sum overflows a 64-bit integer`},
		{"$inc underflows int64", bson.M{"n": int64(math.MinInt64)}, bson.M{"$inc": bson.M{"n": int64(-1)}}, `invalid query: $inc: adding to "n": the sum overflows a 64-bit integer`},
		{"$push on a string", bson.M{"t": "a"}, bson.M{"$push": bson.M{"t": "b"}}, `invalid query: $push: "t" holds string, not an array`},
		{"$push on a document", bson.M{"t": bson.M{}}, bson.M{"$push": bson.M{"t": "b"}}, `invalid query: $push: "t" holds object, not an array`},
		{"$push on null", bson.M{"t": nil}, bson.M{"$push": bson.M{"t": "b"}}, `invalid query: $push: "t" holds null, not an array`},
		{"$addToSet on a number", bson.M{"t": int32(1)}, bson.M{"$addToSet": bson.M{"t": "b"}}, `invalid query: $addToSet: "t" holds int, not an array`},
		{"$pull on a string", bson.M{"t": "a"}, bson.M{"$pull": bson.M{"t": "a"}}, `invalid query: $pull: "t" holds string, not an array`},
		{"$set through a scalar", bson.M{"a": int32(1)}, bson.M{"$set": bson.M{"a.b": 1}}, `invalid query: $set: cannot create field "b" inside "a", which holds int`},
		{"$set through null", bson.M{"a": bson.M{"b": nil}}, bson.M{"$set": bson.M{"a.b.c": 1}}, `invalid query: $set: cannot create field "c" inside "a.b", which holds null`},
		{"$set a field of an array", bson.M{"a": bson.A{}}, bson.M{"$set": bson.M{"a.b": 1}}, `invalid query: $set: cannot create field "b" inside "a", which holds array`},
		{"$set through an array element scalar", bson.M{"a": bson.A{int32(1)}}, bson.M{"$set": bson.M{"a.0.b": 1}}, `invalid query: $set: cannot create field "b" inside "a.0", which holds int`},
		{"$inc through a string", bson.M{"a": "x"}, bson.M{"$inc": bson.M{"a.n": 1}}, `invalid query: $inc: cannot create field "n" inside "a", which holds string`},
		{"$set changes _id", bson.M{"_id": int32(1)}, bson.M{"$set": bson.M{"_id": 2}}, "invalid query: _id: the _id field cannot be changed"},
		{"$set changes part of _id", bson.M{"_id": bson.M{"k": "a"}}, bson.M{"$set": bson.M{"_id.k": "b"}}, "invalid query: _id: the _id field cannot be changed"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			u, err := CompileUpdate(s.update)
			if err != nil {
				t.Fatalf("CompileUpdate: %v", err)
			}
			before := copyDoc(s.doc)
			got, changed, err := u.Apply(s.doc)
			if got != nil || changed {
				t.Errorf("Apply returned %v, %v with its error", got, changed)
			}
			wantQueryError(t, err, s.msg)
			if !identical(s.doc, before) {
				t.Errorf("a refused Apply modified its input: %v", s.doc)
			}
		})
	}
}
