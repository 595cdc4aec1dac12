package mquery

import (
	"errors"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// wantQueryError checks that err is a *db.QueryError with exactly msg.
func wantQueryError(t *testing.T, err error, msg string) {
	t.Helper()
	var qe *db.QueryError
	if !errors.As(err, &qe) {
		t.Fatalf("error = %v (%T), want *db.QueryError %q", err, err, msg)
	}
	if !errors.Is(err, db.ErrInvalidQuery) {
		t.Errorf("errors.Is(%v, db.ErrInvalidQuery) = false", err)
	}
	if err.Error() != msg {
		t.Errorf("error = %q\n         want %q", err.Error(), msg)
	}
}

func nestedAnd(depth int) bson.M {
	f := bson.M{"a": 1}
	for range depth {
		f = bson.M{"$and": bson.A{f}}
	}
	return f
}

func nestedNot(depth int) bson.M {
	f := bson.M{"$gt": 1}
	for range depth {
		f = bson.M{"$not": f}
	}
	return bson.M{"a": f}
}

func TestCompileRefuses(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		filter bson.M
		msg    string
	}{
		{"$where", bson.M{"$where": "this.a > 1"}, "invalid query: $where: unknown or unsupported operator"},
		{"$expr", bson.M{"$expr": bson.M{"$gt": bson.A{"$a", 1}}}, "invalid query: $expr: unknown or unsupported operator"},
		{"$function", bson.M{"$function": bson.M{}}, "invalid query: $function: unknown or unsupported operator"},
		{"$text", bson.M{"$text": bson.M{"$search": "x"}}, "invalid query: $text: unknown or unsupported operator"},
		{"$comment", bson.M{"$comment": "hi"}, "invalid query: $comment: unknown or unsupported operator"},
		{"$where inside $or", bson.M{"$or": bson.A{bson.M{"$where": "1"}}}, "invalid query: $where: unknown or unsupported operator"},
		{"$near on a field", bson.M{"loc": bson.M{"$near": bson.A{0, 0}}}, "invalid query: $near: unknown or unsupported operator"},
		{"$mod on a field", bson.M{"n": bson.M{"$mod": bson.A{2, 0}}}, "invalid query: $mod: unknown or unsupported operator"},
		{"$and on a field", bson.M{"n": bson.M{"$and": bson.A{}}}, "invalid query: $and: unknown or unsupported operator"},
		{"unknown inside $elemMatch", bson.M{"n": bson.M{"$elemMatch": bson.M{"$where": "1"}}}, "invalid query: $where: unknown or unsupported operator"},
		{"unknown inside $not", bson.M{"n": bson.M{"$not": bson.M{"$bogus": 1}}}, "invalid query: $bogus: unknown or unsupported operator"},
		{"$and empty", bson.M{"$and": bson.A{}}, "invalid query: $and: needs a non-empty array of documents"},
		{"$or not an array", bson.M{"$or": bson.M{"a": 1}}, "invalid query: $or: needs a non-empty array of documents"},
		{"$nor of scalars", bson.M{"$nor": bson.A{1}}, "invalid query: $nor: needs a non-empty array of documents"},
		{"$and null", bson.M{"$and": nil}, "invalid query: $and: needs a non-empty array of documents"},
		{"$in scalar", bson.M{"a": bson.M{"$in": 1}}, "invalid query: $in: needs an array"},
		{"$nin document", bson.M{"a": bson.M{"$nin": bson.M{}}}, "invalid query: $nin: needs an array"},
		{"$in with operator", bson.M{"a": bson.M{"$in": bson.A{bson.M{"$gt": 1}}}}, "invalid query: $in: cannot contain operator documents such as $gt"},
		{"$in with undefined", bson.M{"a": bson.M{"$in": bson.A{primitive.Undefined{}}}}, "invalid query: $in: cannot contain undefined"},
		{"$in with bad regex", bson.M{"a": bson.M{"$in": bson.A{primitive.Regex{Pattern: "("}}}}, "invalid query: $in: invalid regular expression: missing closing ): `(`"},
		{"$size negative", bson.M{"a": bson.M{"$size": -1}}, "invalid query: $size: needs a non-negative whole number"},
		{"$size fraction", bson.M{"a": bson.M{"$size": 1.5}}, "invalid query: $size: needs a non-negative whole number"},
		{"$size string", bson.M{"a": bson.M{"$size": "2"}}, "invalid query: $size: needs a non-negative whole number"},
		{"$regex invalid", bson.M{"a": bson.M{"$regex": "a("}}, "invalid query: $regex: invalid regular expression: missing closing ): `a(`"},
		{"$regex lookahead", bson.M{"a": bson.M{"$regex": "a(?=b)"}}, "invalid query: $regex: invalid regular expression: invalid or unsupported Perl syntax: `(?=`"},
		{"$regex backreference", bson.M{"a": primitive.Regex{Pattern: `(a)\1`}}, "invalid query: $regex: invalid regular expression: invalid escape sequence: `\\1`"},
		{"$regex null byte", bson.M{"a": bson.M{"$regex": "a\x00"}}, "invalid query: $regex: regular expression cannot contain a null byte"},
		{"$regex number", bson.M{"a": bson.M{"$regex": 5}}, "invalid query: $regex: needs a string or a regular expression"},
		{"$options unknown flag", bson.M{"a": bson.M{"$regex": "a", "$options": "iu"}}, `invalid query: $options: invalid regular expression option "u" (use i, m, s or x)`},
		{"regex value with unknown flag", bson.M{"a": primitive.Regex{Pattern: "a", Options: "g"}}, `invalid query: $options: invalid regular expression option "g" (use i, m, s or x)`},
		{"$options alone", bson.M{"a": bson.M{"$options": "i"}}, "invalid query: $options: needs a $regex in the same document"},
		{"$options number", bson.M{"a": bson.M{"$regex": "a", "$options": 1}}, "invalid query: $options: needs a string"},
		{"options twice", bson.M{"a": bson.M{"$regex": primitive.Regex{Pattern: "a", Options: "i"}, "$options": "m"}}, "invalid query: $options: options are set both in $regex and in $options"},
		{"$not scalar", bson.M{"a": bson.M{"$not": 5}}, "invalid query: $not: needs a regex or a document of operators"},
		{"$not empty", bson.M{"a": bson.M{"$not": bson.M{}}}, "invalid query: $not: cannot be empty"},
		{"$not field", bson.M{"a": bson.M{"$not": bson.M{"b": 1}}}, `invalid query: $not: needs a regex or a document of operators, not field "b"`},
		{"$not bad regex", bson.M{"a": bson.M{"$not": primitive.Regex{Pattern: "["}}}, "invalid query: $not: invalid regular expression: missing closing ]: `[`"},
		{"$ne regex", bson.M{"a": bson.M{"$ne": primitive.Regex{Pattern: "a"}}}, "invalid query: $ne: cannot take a regex (use $not)"},
		{"$eq undefined", bson.M{"a": bson.M{"$eq": primitive.Undefined{}}}, "invalid query: $eq: cannot compare to undefined"},
		{"$gt undefined", bson.M{"a": bson.M{"$gt": primitive.Undefined{}}}, "invalid query: $gt: cannot compare to undefined"},
		{"$elemMatch scalar", bson.M{"a": bson.M{"$elemMatch": 1}}, "invalid query: $elemMatch: needs a document"},
		{"$elemMatch mixed", bson.M{"a": bson.M{"$elemMatch": bson.M{"$gt": 1, "b": 1}}}, "invalid query: $elemMatch: cannot mix operators such as $gt with field names or $and/$or/$nor"},
		{"$all scalar", bson.M{"a": bson.M{"$all": "x"}}, "invalid query: $all: needs an array"},
		{"$all mixed", bson.M{"a": bson.M{"$all": bson.A{bson.M{"$elemMatch": bson.M{"b": 1}}, 1}}}, "invalid query: $all: cannot mix $elemMatch with plain values"},
		{"$all operator", bson.M{"a": bson.M{"$all": bson.A{bson.M{"$gt": 1}}}}, "invalid query: $all: cannot contain operators other than $elemMatch"},
		{"$type unknown name", bson.M{"a": bson.M{"$type": "strin"}}, `invalid query: $type: unknown type name "strin"`},
		{"$type unknown code", bson.M{"a": bson.M{"$type": 99}}, "invalid query: $type: invalid type code 99"},
		{"$type fraction", bson.M{"a": bson.M{"$type": 2.5}}, "invalid query: $type: invalid type code 2.5"},
		{"$type empty", bson.M{"a": bson.M{"$type": bson.A{}}}, "invalid query: $type: needs at least one type"},
		{"$type bool", bson.M{"a": bson.M{"$type": true}}, "invalid query: $type: needs a type name or number, or an array of them"},
		{"operators mixed with fields", bson.M{"a": bson.M{"$gt": 1, "b": 2}}, "invalid query: a: cannot mix operators and field names in one document"},
		{"unsupported Go value", bson.M{"a": make(chan int)}, "invalid query: a: unsupported value of Go type chan int"},
		{"unsupported Go value in $in", bson.M{"a": bson.M{"$in": bson.A{1, func() {}}}}, "invalid query: a.$in.1: unsupported value of Go type func()"},
		{"unsupported Go value in $or", bson.M{"$or": []any{bson.M{"a": make(chan int)}}}, "invalid query: $or.0.a: unsupported value of Go type chan int"},
		{"duplicate key in bson.D", bson.M{"a": bson.D{{Key: "x", Value: 1}, {Key: "x", Value: 2}}}, "invalid query: a.x: field named twice in one document"},
		{"value too deep", nestedAnd(150), "invalid query: value nested more than 200 levels deep"},
		{"filter too deep", nestedNot(101), "invalid query: filter nested more than 100 levels deep"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			m, err := Compile(s.filter)
			if m != nil {
				t.Errorf("Compile returned a matcher with error %v", err)
			}
			wantQueryError(t, err, s.msg)
		})
	}
}
