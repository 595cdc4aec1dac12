package storetest

import (
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// findFixture is the collection every filter case runs on: numbers of
// every type, strings, nulls, missing fields, arrays of scalars and of
// documents, nested documents, dates and an ObjectID.
func findFixture(oid primitive.ObjectID) []bson.M {
	return []bson.M{
		{"_id": "d1", "n": int32(1), "s": "apple", "tags": bson.A{"red", "fruit"}, "nested": bson.M{"x": int32(1), "y": "a"},
			"items": bson.A{bson.M{"name": "a", "qty": int32(1)}, bson.M{"name": "b", "qty": int32(5)}},
			"at":    date("2024-01-01T00:00:00Z"), "flag": true},
		{"_id": "d2", "n": int64(2), "s": "banana", "tags": bson.A{"yellow", "fruit"}, "nested": bson.M{"x": int32(2)},
			"items": bson.A{bson.M{"name": "b", "qty": int32(2)}}, "at": date("2024-06-01T00:00:00Z"), "flag": false, "nul": nil},
		{"_id": "d3", "n": 3.5, "s": "Cherry", "tags": bson.A{"red"}, "nested": bson.M{"x": "2"}, "items": bson.A{},
			"at": date("2025-01-01T00:00:00Z"), "nul": nil},
		{"_id": "d4", "n": "4", "s": "date", "tags": bson.A{}, "scores": bson.A{int32(3), int32(9)}},
		{"_id": "d5", "n": nil, "s": "elderberry", "scores": bson.A{int32(5), int32(7)}},
		{"_id": "d6", "n": 2.0, "scores": bson.A{int32(1)}, "arr": bson.A{bson.M{"k": bson.A{int32(1), int32(2)}}}},
		{"_id": "d7", "n": bson.A{int32(1), int32(10)}, "s": ""},
		{"_id": "d8", "n": int32(-1), "oid": oid},
		{"_id": "d9", "s": "fig", "text": "line1\nline2\n"},
	}
}

type filterCase struct {
	name   string
	filter bson.M
	want   []string // _ids, in any order
}

func re(pattern string) primitive.Regex { return primitive.Regex{Pattern: pattern} }

func filterCases(oid primitive.ObjectID) []filterCase {
	all := []string{"d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9"}
	return []filterCase{
		{"Empty", bson.M{}, all},
		// Equality, and numbers equal across int32, int64 and double.
		{"EqInt32", bson.M{"n": int32(1)}, []string{"d1", "d7"}},
		{"EqInt64MatchesDouble", bson.M{"n": int64(2)}, []string{"d2", "d6"}},
		{"EqDoubleMatchesInt64", bson.M{"n": 2.0}, []string{"d2", "d6"}},
		{"EqGoInt", bson.M{"n": 2}, []string{"d2", "d6"}},
		{"EqStringIsNotNumber", bson.M{"n": "4"}, []string{"d4"}},
		{"EqNumberIsNotString", bson.M{"n": 4}, nil},
		{"EqOperator", bson.M{"n": bson.M{"$eq": 3.5}}, []string{"d3"}},
		{"EqString", bson.M{"s": "apple"}, []string{"d1"}},
		{"EqObjectID", bson.M{"oid": oid}, []string{"d8"}},
		{"EqDate", bson.M{"at": date("2024-06-01T00:00:00Z")}, []string{"d2"}},
		{"EqFalse", bson.M{"flag": false}, []string{"d2"}},
		// null matches null and missing; $exists tells them apart.
		{"NullMatchesNullAndMissing", bson.M{"n": nil}, []string{"d5", "d9"}},
		{"EqNullOperator", bson.M{"n": bson.M{"$eq": nil}}, []string{"d5", "d9"}},
		{"NullOnAbsentField", bson.M{"nul": nil}, all},
		{"ExistsFalse", bson.M{"n": bson.M{"$exists": false}}, []string{"d9"}},
		{"ExistsTrueIncludesNull", bson.M{"n": bson.M{"$exists": true}}, []string{"d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"}},
		{"ExistsTrueOnNullField", bson.M{"nul": bson.M{"$exists": true}}, []string{"d2", "d3"}},
		{"ExistsArrayField", bson.M{"scores": bson.M{"$exists": true}}, []string{"d4", "d5", "d6"}},
		{"NeNull", bson.M{"n": bson.M{"$ne": nil}}, []string{"d1", "d2", "d3", "d4", "d6", "d7", "d8"}},
		{"InNull", bson.M{"n": bson.M{"$in": bson.A{nil}}}, []string{"d5", "d9"}},
		{"InNullOrValue", bson.M{"n": bson.M{"$in": bson.A{nil, 1}}}, []string{"d1", "d5", "d7", "d9"}},
		// $ne and $nin match missing fields and exclude arrays holding the value.
		{"Ne", bson.M{"n": bson.M{"$ne": 1}}, []string{"d2", "d3", "d4", "d5", "d6", "d8", "d9"}},
		{"NeOnArray", bson.M{"tags": bson.M{"$ne": "red"}}, []string{"d2", "d4", "d5", "d6", "d7", "d8", "d9"}},
		{"NeTrue", bson.M{"flag": bson.M{"$ne": true}}, []string{"d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9"}},
		{"Nin", bson.M{"n": bson.M{"$nin": bson.A{1, 2}}}, []string{"d3", "d4", "d5", "d8", "d9"}},
		{"NinOnArray", bson.M{"tags": bson.M{"$nin": bson.A{"red", "yellow"}}}, []string{"d4", "d5", "d6", "d7", "d8", "d9"}},
		// Ranges compare within a type bracket: numbers with numbers,
		// strings with strings (by bytes), dates with dates.
		{"Gt", bson.M{"n": bson.M{"$gt": 1}}, []string{"d2", "d3", "d6", "d7"}},
		{"Gte", bson.M{"n": bson.M{"$gte": 1}}, []string{"d1", "d2", "d3", "d6", "d7"}},
		{"Lt", bson.M{"n": bson.M{"$lt": 2}}, []string{"d1", "d7", "d8"}},
		{"Lte", bson.M{"n": bson.M{"$lte": 2}}, []string{"d1", "d2", "d6", "d7", "d8"}},
		{"RangeOnArrayAnyElements", bson.M{"n": bson.M{"$gt": 1, "$lt": 3}}, []string{"d2", "d6", "d7"}},
		{"GtString", bson.M{"n": bson.M{"$gt": "3"}}, []string{"d4"}},
		{"StringRangeIsBinary", bson.M{"s": bson.M{"$gte": "b", "$lt": "d"}}, []string{"d2"}},
		{"UppercaseSortsFirst", bson.M{"s": bson.M{"$lt": "a"}}, []string{"d3", "d7"}},
		{"GtDate", bson.M{"at": bson.M{"$gt": date("2024-03-01T00:00:00Z")}}, []string{"d2", "d3"}},
		{"DateIsNotNumber", bson.M{"at": bson.M{"$lt": 5}}, nil},
		// $in and $all.
		{"InStrings", bson.M{"s": bson.M{"$in": bson.A{"apple", "fig"}}}, []string{"d1", "d9"}},
		{"InOnArray", bson.M{"tags": bson.M{"$in": bson.A{"red", "yellow"}}}, []string{"d1", "d2", "d3"}},
		{"InRegex", bson.M{"s": bson.M{"$in": bson.A{re("^b")}}}, []string{"d2"}},
		{"InMixedTypes", bson.M{"n": bson.M{"$in": bson.A{2, "4"}}}, []string{"d2", "d4", "d6"}},
		{"All", bson.M{"tags": bson.M{"$all": bson.A{"red", "fruit"}}}, []string{"d1"}},
		{"AllOne", bson.M{"tags": bson.M{"$all": bson.A{"red"}}}, []string{"d1", "d3"}},
		{"AllAnyOrder", bson.M{"n": bson.M{"$all": bson.A{10, 1}}}, []string{"d7"}},
		// Logical operators.
		{"And", bson.M{"$and": bson.A{bson.M{"tags": "red"}, bson.M{"tags": "fruit"}}}, []string{"d1"}},
		{"ImplicitAnd", bson.M{"tags": "red", "s": "apple"}, []string{"d1"}},
		{"Or", bson.M{"$or": bson.A{bson.M{"s": "apple"}, bson.M{"n": bson.M{"$gt": 3}}}}, []string{"d1", "d3", "d7"}},
		{"Nor", bson.M{"$nor": bson.A{bson.M{"tags": "red"}, bson.M{"n": bson.M{"$exists": false}}}}, []string{"d2", "d4", "d5", "d6", "d7", "d8"}},
		{"NestedLogic", bson.M{"$or": bson.A{
			bson.M{"$and": bson.A{bson.M{"n": bson.M{"$gte": 1}}, bson.M{"n": bson.M{"$lt": 2}}}},
			bson.M{"s": "fig"}}}, []string{"d1", "d7", "d9"}},
		{"AndBesideOr", bson.M{"$and": bson.A{bson.M{"n": bson.M{"$gte": 1}}},
			"$or": bson.A{bson.M{"flag": true}, bson.M{"flag": false}}}, []string{"d1", "d2"}},
		{"NotMatchesMissing", bson.M{"n": bson.M{"$not": bson.M{"$gt": 1}}}, []string{"d1", "d4", "d5", "d8", "d9"}},
		{"NotRegex", bson.M{"s": bson.M{"$not": re("^b")}}, []string{"d1", "d3", "d4", "d5", "d6", "d7", "d8", "d9"}},
		{"NotSize", bson.M{"tags": bson.M{"$not": bson.M{"$size": 1}}}, []string{"d1", "d2", "d4", "d5", "d6", "d7", "d8", "d9"}},
		// Regular expressions match strings only, array elements included.
		{"RegexOptions", bson.M{"s": bson.M{"$regex": "^c", "$options": "i"}}, []string{"d3"}},
		{"RegexSubstring", bson.M{"s": bson.M{"$regex": "an"}}, []string{"d2"}},
		{"RegexValue", bson.M{"s": re("^e")}, []string{"d5"}},
		{"RegexOnArray", bson.M{"tags": bson.M{"$regex": "^yel"}}, []string{"d2"}},
		{"RegexSkipsNumbers", bson.M{"n": bson.M{"$regex": "4"}}, []string{"d4"}},
		{"RegexEmptyString", bson.M{"s": bson.M{"$regex": "^$"}}, []string{"d7"}},
		{"RegexCaseInsensitive", bson.M{"s": bson.M{"$regex": "RR", "$options": "i"}}, []string{"d3", "d5"}},
		{"RegexDotIsAnyCharacter", bson.M{"s": bson.M{"$regex": "a.e"}}, []string{"d4"}},
		{"RegexValueOptions", bson.M{"s": primitive.Regex{Pattern: "^E", Options: "i"}}, []string{"d5"}},
		{"RegexCaretIsTextStart", bson.M{"text": bson.M{"$regex": "^line2"}}, nil},
		{"RegexMultiline", bson.M{"text": bson.M{"$regex": "^line2$", "$options": "m"}}, []string{"d9"}},
		{"RegexDollarBeforeFinalNewline", bson.M{"text": bson.M{"$regex": "line2$"}}, []string{"d9"}},
		{"RegexDotSkipsNewline", bson.M{"text": bson.M{"$regex": "line1.line2"}}, nil},
		{"RegexDotAll", bson.M{"text": bson.M{"$regex": "line1.line2", "$options": "s"}}, []string{"d9"}},
		// $size.
		{"Size", bson.M{"tags": bson.M{"$size": 2}}, []string{"d1", "d2"}},
		{"SizeZero", bson.M{"tags": bson.M{"$size": 0}}, []string{"d4"}},
		{"SizeMixedArray", bson.M{"n": bson.M{"$size": 2}}, []string{"d7"}},
		{"SizeOfString", bson.M{"s": bson.M{"$size": 0}}, nil},
		// $elemMatch needs one element to satisfy everything; plain
		// conditions on an array path may be met by different elements.
		{"ElemMatchDocuments", bson.M{"items": bson.M{"$elemMatch": bson.M{"name": "b", "qty": bson.M{"$gt": 3}}}}, []string{"d1"}},
		{"ElemMatchNoSingleElement", bson.M{"items": bson.M{"$elemMatch": bson.M{"name": "a", "qty": bson.M{"$gt": 3}}}}, nil},
		{"DottedAcrossElements", bson.M{"items.name": "a", "items.qty": bson.M{"$gt": 3}}, []string{"d1"}},
		{"ElemMatchScalars", bson.M{"scores": bson.M{"$elemMatch": bson.M{"$gte": 5, "$lt": 8}}}, []string{"d5"}},
		{"ElemMatchRangeNoSingleElement", bson.M{"n": bson.M{"$elemMatch": bson.M{"$gt": 1, "$lt": 3}}}, nil},
		{"ElemMatchNotArray", bson.M{"nested": bson.M{"$elemMatch": bson.M{"x": 1}}}, nil},
		// Dotted paths into documents and arrays.
		{"DottedNumber", bson.M{"nested.x": 1}, []string{"d1"}},
		{"DottedNumberNotString", bson.M{"nested.x": 2}, []string{"d2"}},
		{"DottedString", bson.M{"nested.x": "2"}, []string{"d3"}},
		{"DottedExists", bson.M{"nested.x": bson.M{"$exists": true}}, []string{"d1", "d2", "d3"}},
		{"DottedIntoArrayOfDocuments", bson.M{"items.name": "b"}, []string{"d1", "d2"}},
		{"DottedRangeIntoArray", bson.M{"items.qty": bson.M{"$gte": 5}}, []string{"d1"}},
		{"ArrayIndex", bson.M{"scores.1": 9}, []string{"d4"}},
		{"ArrayIndexFirst", bson.M{"tags.0": "red"}, []string{"d1", "d3"}},
		{"ArrayIndexThenField", bson.M{"items.0.name": "a"}, []string{"d1"}},
		{"NestedArrays", bson.M{"arr.k": 2}, []string{"d6"}},
		{"MissingDeepPathIsNull", bson.M{"missing.deep.path": nil}, all},
		// Whole values: an array matches exactly and in order, a document
		// exactly.
		{"WholeArray", bson.M{"tags": bson.A{"red", "fruit"}}, []string{"d1"}},
		{"WholeArrayOrderMatters", bson.M{"tags": bson.A{"fruit", "red"}}, nil},
		{"ArrayElement", bson.M{"tags": "fruit"}, []string{"d1", "d2"}},
		{"WholeDocument", bson.M{"nested": bson.M{"x": int32(2)}}, []string{"d2"}},
	}
}

func testFind(t *testing.T, s *suite) {
	st := s.open(t)
	oid := primitive.NewObjectID()
	c := coll(t, st)
	insert(t, c, findFixture(oid)...)

	t.Run("NilFilter", func(t *testing.T) {
		s.parallel(t)
		same(t, "documents found", len(find(t, c, nil, nil)), 9)
	})
	t.Run("ReturnsWholeDocuments", func(t *testing.T) {
		s.parallel(t)
		docs := find(t, c, bson.M{"_id": "d1"}, nil)
		if len(docs) != 1 {
			t.Fatalf("found %d documents, want 1", len(docs))
		}
		same(t, "document", docs[0], findFixture(oid)[0])
	})
	t.Run("FindOneNotFound", func(t *testing.T) {
		s.parallel(t)
		_, err := c.FindOne(t.Context(), bson.M{"s": "nothing"}, nil)
		isErr(t, "FindOne without a match", err, db.ErrNotFound)
		_, err = coll(t, st, "empty").FindOne(t.Context(), nil, nil)
		isErr(t, "FindOne in a collection that does not exist", err, db.ErrNotFound)
	})
	t.Run("FindInMissingCollection", func(t *testing.T) {
		s.parallel(t)
		same(t, "documents found", len(find(t, coll(t, st, "empty"), nil, nil)), 0)
	})
	t.Run("ArrayOfArrays", func(t *testing.T) {
		s.parallel(t)
		s.skipIf(t, "ferretdb-nested-arrays")
		c := coll(t, st)
		insert(t, c,
			bson.M{"_id": "g1", "grid": bson.A{bson.A{int32(1), int32(2)}, bson.A{int32(3)}}},
			bson.M{"_id": "g2", "grid": bson.A{bson.A{int32(3), int32(4)}}})
		// An array of arrays matches an array by its elements, but its
		// elements' elements are not unwound.
		sameIDSet(t, "{grid: [3]}", find(t, c, bson.M{"grid": bson.A{3}}, nil), "g1")
		sameIDSet(t, "{grid: [3, 4]}", find(t, c, bson.M{"grid": bson.A{3, 4}}, nil), "g2")
		sameIDSet(t, "{grid: 3}", find(t, c, bson.M{"grid": 3}, nil))
		sameIDSet(t, "{grid.0: [1, 2]}", find(t, c, bson.M{"grid.0": bson.A{1, 2}}, nil), "g1")
	})
	unsupported := map[string]string{
		"ElemMatchDocuments":            "ferretdb-elemmatch-documents",
		"ElemMatchNoSingleElement":      "ferretdb-elemmatch-documents",
		"ElemMatchScalars":              "ferretdb-elemmatch-any-element",
		"ElemMatchRangeNoSingleElement": "ferretdb-elemmatch-any-element",
		"RegexDollarBeforeFinalNewline": "ferretdb-regex-dollar",
	}
	for _, fc := range filterCases(oid) {
		t.Run(fc.name, func(t *testing.T) {
			s.parallel(t)
			if q := unsupported[fc.name]; q != "" {
				s.skipIf(t, q)
			}
			sameIDSet(t, describe(fc.filter), find(t, c, fc.filter, nil), fc.want...)
			same(t, "Count of "+describe(fc.filter), count(t, c, fc.filter), int64(len(fc.want)))
		})
	}
}
