package mquery

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestMatchIn(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"strings", bson.M{"s": bson.M{"$in": bson.A{"a", "b"}}},
			[]bson.M{{"s": "a"}, {"s": "b"}, {"s": bson.A{"x", "b"}}, {"s": primitive.Symbol("a")}},
			[]bson.M{{"s": "c"}, {}, {"s": nil}, {"s": bson.A{}}}},
		{"numbers across types", bson.M{"n": bson.M{"$in": []int{1, 2}}},
			[]bson.M{{"n": int64(1)}, {"n": 2.0}, {"n": bson.A{5, 2}}}, []bson.M{{"n": "1"}, {"n": 3}}},
		{"mixed types", bson.M{"v": bson.M{"$in": bson.A{"1", 2, true}}}, []bson.M{{"v": "1"}, {"v": 2}, {"v": true}}, []bson.M{{"v": 1}, {"v": "2"}}},
		{"regex members", bson.M{"s": bson.M{"$in": bson.A{primitive.Regex{Pattern: "^a", Options: "i"}, "zed"}}},
			[]bson.M{{"s": "Apple"}, {"s": "zed"}, {"s": bson.A{"b", "art"}}}, []bson.M{{"s": "bat"}, {"s": "zed!"}}},
		{"documents", bson.M{"d": bson.M{"$in": bson.A{bson.M{"x": 1}}}}, []bson.M{{"d": bson.M{"x": int64(1)}}}, []bson.M{{"d": bson.M{"x": 1, "y": 2}}}},
		{"whole arrays", bson.M{"d": bson.M{"$in": bson.A{bson.A{1, 2}}}}, []bson.M{{"d": bson.A{1, 2}}, {"d": bson.A{bson.A{1, 2}}}}, []bson.M{{"d": bson.A{2, 1}}, {"d": 1}}},
		{"long list", bson.M{"s": bson.M{"$in": bson.A{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", 7}}},
			[]bson.M{{"s": "a"}, {"s": "r"}, {"s": "j"}, {"s": 7.0}, {"s": bson.A{"z", "q"}}}, []bson.M{{"s": "s"}, {"s": "A"}, {"s": 8}}},
		{"empty list matches nothing", bson.M{"s": bson.M{"$in": bson.A{}}}, nil, []bson.M{{}, {"s": nil}, {"s": "a"}}},
		{"$nin", bson.M{"s": bson.M{"$nin": bson.A{"a", "b"}}}, []bson.M{{"s": "c"}, {}, {"s": bson.A{"c"}}}, []bson.M{{"s": "a"}, {"s": bson.A{"c", "b"}}}},
		{"$nin empty matches everything", bson.M{"s": bson.M{"$nin": bson.A{}}}, []bson.M{{}, {"s": "a"}}, nil},
		{"dotted $in", bson.M{"a.b": bson.M{"$in": bson.A{1, 3}}}, []bson.M{{"a": bson.A{bson.M{"b": 2}, bson.M{"b": 3}}}}, []bson.M{{"a": bson.A{bson.M{"b": 2}}}}},
	})
}

func TestMatchInManyObjectIDs(t *testing.T) {
	t.Parallel()
	var ids bson.A
	for i := range 40 {
		ids = append(ids, primitive.ObjectID{byte(i)})
	}
	for _, list := range []bson.A{ids[:3], ids} {
		runMatchScenarios(t, []matchScenario{
			{"ids", bson.M{"_id": bson.M{"$in": append(bson.A{"s", nil}, list...)}},
				[]bson.M{{"_id": primitive.ObjectID{2}}, {"_id": "s"}, {}, {"_id": bson.A{primitive.ObjectID{1}}}},
				[]bson.M{{"_id": primitive.ObjectID{200}}, {"_id": int32(2)}}},
		})
	}
}

func TestMatchExists(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"true", bson.M{"a": bson.M{"$exists": true}}, []bson.M{{"a": nil}, {"a": 0}, {"a": bson.A{}}}, []bson.M{{}, {"b": 1}}},
		{"false", bson.M{"a": bson.M{"$exists": false}}, []bson.M{{}, {"b": 1}}, []bson.M{{"a": nil}, {"a": false}}},
		{"numbers as flags", bson.M{"a": bson.M{"$exists": 1}}, []bson.M{{"a": 1}}, []bson.M{{}}},
		{"zero as flag", bson.M{"a": bson.M{"$exists": 0}}, []bson.M{{}}, []bson.M{{"a": 1}}},
		{"dotted through arrays", bson.M{"a.b": bson.M{"$exists": true}},
			[]bson.M{{"a": bson.A{bson.M{"c": 1}, bson.M{"b": nil}}}, {"a": bson.M{"b": 1}}},
			[]bson.M{{"a": bson.A{1, 2}}, {"a": bson.A{bson.M{"c": 1}}}, {"a": 5}}},
		{"array index", bson.M{"a.1": bson.M{"$exists": true}}, []bson.M{{"a": bson.A{1, 2}}}, []bson.M{{"a": bson.A{1}}}},
	})
}

func TestMatchRegex(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"regex value", bson.M{"s": primitive.Regex{Pattern: "^ab"}},
			[]bson.M{{"s": "abc"}, {"s": bson.A{"x", "abx"}}, {"s": primitive.Regex{Pattern: "^ab"}}},
			[]bson.M{{"s": "cab"}, {"s": "ABC"}, {"s": 5}, {}, {"s": primitive.Regex{Pattern: "^ab", Options: "i"}}}},
		{"$regex string", bson.M{"s": bson.M{"$regex": "b+c"}}, []bson.M{{"s": "abbc"}}, []bson.M{{"s": "ac"}}},
		{"$options i", bson.M{"s": bson.M{"$regex": "^ab", "$options": "i"}}, []bson.M{{"s": "ABc"}}, []bson.M{{"s": "cab"}}},
		{"regex flags kept", bson.M{"s": bson.M{"$regex": primitive.Regex{Pattern: "^ab", Options: "i"}}}, []bson.M{{"s": "Abc"}}, nil},
		{"m anchors lines", bson.M{"s": bson.M{"$regex": "^b", "$options": "m"}}, []bson.M{{"s": "a\nb"}}, []bson.M{{"s": "ab"}}},
		{"without m anchors text", bson.M{"s": bson.M{"$regex": "^b"}}, nil, []bson.M{{"s": "a\nb"}}},
		{"s lets dot match newline", bson.M{"s": bson.M{"$regex": "a.b", "$options": "s"}}, []bson.M{{"s": "a\nb"}}, nil},
		{"dot stops at newline", bson.M{"s": bson.M{"$regex": "a.b"}}, nil, []bson.M{{"s": "a\nb"}}},
		{"x ignores spaces and comments", bson.M{"s": bson.M{"$regex": "a b # letters\n c [ ]", "$options": "x"}}, []bson.M{{"s": "abc "}}, []bson.M{{"s": "a b c "}}},
		{"x keeps escaped space", bson.M{"s": bson.M{"$regex": `a\ b`, "$options": "x"}}, []bson.M{{"s": "a b"}}, []bson.M{{"s": "ab"}}},
		{"$ also before a final newline", bson.M{"s": bson.M{"$regex": "^ab$"}}, []bson.M{{"s": "ab"}, {"s": "ab\n"}}, []bson.M{{"s": "ab\nc"}, {"s": "ab\n\n"}}},
		{"\\Z like $", bson.M{"s": bson.M{"$regex": `b\Z`}}, []bson.M{{"s": "ab\n"}}, []bson.M{{"s": "b\nc"}}},
		{"\\z only at the end", bson.M{"s": bson.M{"$regex": `b\z`}}, []bson.M{{"s": "ab"}}, []bson.M{{"s": "ab\n"}}},
		{"m keeps line ends", bson.M{"s": bson.M{"$regex": "a$", "$options": "m"}}, []bson.M{{"s": "a\nb"}}, []bson.M{{"s": "ab"}}},
		{"escaped and classed dollars are literal", bson.M{"s": bson.M{"$regex": `^\$[$]\Q$x\E$`}}, []bson.M{{"s": "$$$x"}}, []bson.M{{"s": "$$"}}},
		{"symbol values", bson.M{"s": primitive.Regex{Pattern: "x"}}, []bson.M{{"s": primitive.Symbol("x")}}, nil},
		{"dotted", bson.M{"a.s": primitive.Regex{Pattern: "^z"}}, []bson.M{{"a": bson.A{bson.M{"s": "y"}, bson.M{"s": "zz"}}}}, []bson.M{{"a": bson.A{bson.M{"s": "y"}}}}},
		{"$eq regex is exact", bson.M{"s": bson.M{"$eq": primitive.Regex{Pattern: "a"}}}, []bson.M{{"s": primitive.Regex{Pattern: "a"}}}, []bson.M{{"s": "a"}}},
		{"$not regex", bson.M{"s": bson.M{"$not": primitive.Regex{Pattern: "^a"}}}, []bson.M{{"s": "ba"}, {}, {"s": 1}}, []bson.M{{"s": "ab"}, {"s": bson.A{"b", "a"}}}},
	})
}

func TestMatchNot(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"$not $gt", bson.M{"n": bson.M{"$not": bson.M{"$gt": 5}}}, []bson.M{{"n": 5}, {}, {"n": "x"}, {"n": bson.A{1, 2}}}, []bson.M{{"n": 6}, {"n": bson.A{1, 9}}}},
		{"$not of a range", bson.M{"n": bson.M{"$not": bson.M{"$gt": 1, "$lt": 5}}}, []bson.M{{"n": 5}, {"n": 0}}, []bson.M{{"n": 3}}},
		{"$not $regex with options", bson.M{"s": bson.M{"$not": bson.M{"$regex": "^a", "$options": "i"}}}, []bson.M{{"s": "b"}}, []bson.M{{"s": "Ab"}}},
		{"$not $in", bson.M{"s": bson.M{"$not": bson.M{"$in": bson.A{"a"}}}}, []bson.M{{"s": "b"}}, []bson.M{{"s": "a"}}},
		{"$not $all", bson.M{"s": bson.M{"$not": bson.M{"$all": bson.A{"a", "b"}}}}, []bson.M{{"s": bson.A{"a"}}}, []bson.M{{"s": bson.A{"b", "a"}}}},
		{"$not $not", bson.M{"n": bson.M{"$not": bson.M{"$not": bson.M{"$gt": 1}}}}, []bson.M{{"n": 2}}, []bson.M{{"n": 1}, {}}},
	})
}

func TestMatchElemMatch(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"value form needs one element for all", bson.M{"n": bson.M{"$elemMatch": bson.M{"$gt": 5, "$lt": 8}}},
			[]bson.M{{"n": bson.A{1, 6}}}, []bson.M{{"n": bson.A{1, 10}}, {"n": 6}, {}}},
		{"value form does not descend into nested arrays", bson.M{"n": bson.M{"$elemMatch": bson.M{"$gt": 5}}}, nil, []bson.M{{"n": bson.A{bson.A{6}}}}},
		{"value form with $ne", bson.M{"n": bson.M{"$elemMatch": bson.M{"$ne": 1}}}, []bson.M{{"n": bson.A{1, 2}}}, []bson.M{{"n": bson.A{1}}, {"n": bson.A{}}}},
		{"value form with $in and $nin", bson.M{"s": bson.M{"$elemMatch": bson.M{"$in": bson.A{"a", "b"}, "$nin": bson.A{"b"}}}}, []bson.M{{"s": bson.A{"b", "a"}}}, []bson.M{{"s": bson.A{"b"}}}},
		{"value form with regex", bson.M{"s": bson.M{"$elemMatch": bson.M{"$regex": "^x"}}}, []bson.M{{"s": bson.A{"a", "xa"}}}, []bson.M{{"s": "xa"}}},
		{"value form with $not", bson.M{"n": bson.M{"$elemMatch": bson.M{"$not": bson.M{"$gte": 3}}}}, []bson.M{{"n": bson.A{5, 2}}}, []bson.M{{"n": bson.A{5, 3}}}},
		{"document form", bson.M{"items": bson.M{"$elemMatch": bson.M{"sku": "x", "qty": bson.M{"$gt": 1}}}},
			[]bson.M{{"items": bson.A{bson.M{"sku": "y", "qty": 5}, bson.M{"sku": "x", "qty": 2}}}},
			[]bson.M{{"items": bson.A{bson.M{"sku": "x", "qty": 1}, bson.M{"sku": "y", "qty": 5}}}, {"items": bson.M{"sku": "x", "qty": 2}}}},
		{"document form with $or", bson.M{"items": bson.M{"$elemMatch": bson.M{"$or": bson.A{bson.M{"a": 1}, bson.M{"b": 1}}}}},
			[]bson.M{{"items": bson.A{bson.M{"b": 1}}}}, []bson.M{{"items": bson.A{bson.M{"c": 1}}}}},
		{"document form skips scalars", bson.M{"items": bson.M{"$elemMatch": bson.M{"a": nil}}}, []bson.M{{"items": bson.A{1, bson.M{}}}}, []bson.M{{"items": bson.A{1, 2}}}},
		{"document form reads arrays by index", bson.M{"m": bson.M{"$elemMatch": bson.M{"0": "x"}}}, []bson.M{{"m": bson.A{bson.A{"x", "y"}}}}, []bson.M{{"m": bson.A{bson.A{"y", "x"}}}}},
		{"empty document form", bson.M{"m": bson.M{"$elemMatch": bson.M{}}}, []bson.M{{"m": bson.A{1, bson.M{}}}}, []bson.M{{"m": bson.A{1, 2}}, {"m": bson.M{}}}},
		{"nested $elemMatch", bson.M{"m": bson.M{"$elemMatch": bson.M{"$elemMatch": bson.M{"$eq": 2}}}}, []bson.M{{"m": bson.A{bson.A{1, 2}}}}, []bson.M{{"m": bson.A{1, 2}}}},
		{"dotted", bson.M{"a.b": bson.M{"$elemMatch": bson.M{"$gt": 1}}}, []bson.M{{"a": bson.A{bson.M{"b": bson.A{0}}, bson.M{"b": bson.A{2}}}}}, []bson.M{{"a": bson.M{"b": 2}}}},
	})
}

func TestMatchSize(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"two", bson.M{"a": bson.M{"$size": 2}}, []bson.M{{"a": bson.A{1, bson.A{2, 3}}}}, []bson.M{{"a": bson.A{1}}, {"a": "ab"}, {}, {"a": bson.A{bson.A{1, 2}}}}},
		{"zero", bson.M{"a": bson.M{"$size": 0}}, []bson.M{{"a": bson.A{}}}, []bson.M{{}, {"a": nil}, {"a": bson.M{}}}},
		{"double operand", bson.M{"a": bson.M{"$size": 1.0}}, []bson.M{{"a": bson.A{1}}}, nil},
		{"through arrays", bson.M{"a.b": bson.M{"$size": 1}}, []bson.M{{"a": bson.A{bson.M{"b": bson.A{1}}}}}, []bson.M{{"a": bson.A{bson.M{"b": 1}}}}},
	})
}

func TestMatchAll(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"values", bson.M{"t": bson.M{"$all": bson.A{"a", "b"}}}, []bson.M{{"t": bson.A{"b", "c", "a"}}}, []bson.M{{"t": bson.A{"a"}}, {"t": "a"}, {}}},
		{"single value on scalar", bson.M{"t": bson.M{"$all": bson.A{"a"}}}, []bson.M{{"t": "a"}, {"t": bson.A{"a"}}}, nil},
		{"empty matches nothing", bson.M{"t": bson.M{"$all": bson.A{}}}, nil, []bson.M{{"t": bson.A{}}, {}}},
		{"nested array value", bson.M{"t": bson.M{"$all": bson.A{bson.A{"a", "b"}}}}, []bson.M{{"t": bson.A{"a", "b"}}, {"t": bson.A{bson.A{"a", "b"}}}}, []bson.M{{"t": bson.A{"a", "b", "c"}}}},
		{"regex values", bson.M{"t": bson.M{"$all": bson.A{primitive.Regex{Pattern: "^a"}, "zz"}}}, []bson.M{{"t": bson.A{"ab", "zz"}}}, []bson.M{{"t": bson.A{"ba", "zz"}}}},
		{"$elemMatch elements", bson.M{"q": bson.M{"$all": bson.A{
			bson.M{"$elemMatch": bson.M{"size": "M", "n": bson.M{"$gt": 50}}},
			bson.M{"$elemMatch": bson.M{"n": bson.M{"$lt": 5}}},
		}}},
			[]bson.M{{"q": bson.A{bson.M{"size": "M", "n": 60}, bson.M{"size": "S", "n": 1}}}},
			[]bson.M{{"q": bson.A{bson.M{"size": "M", "n": 60}}}, {"q": bson.A{bson.M{"size": "S", "n": 60}, bson.M{"n": 1}}}}},
		{"dotted through arrays", bson.M{"a.b": bson.M{"$all": bson.A{1, 2}}}, []bson.M{{"a": bson.A{bson.M{"b": 1}, bson.M{"b": 2}}}}, []bson.M{{"a": bson.A{bson.M{"b": 1}}}}},
	})
}

func TestMatchType(t *testing.T) {
	t.Parallel()
	runMatchScenarios(t, []matchScenario{
		{"string name", bson.M{"v": bson.M{"$type": "string"}}, []bson.M{{"v": "x"}, {"v": bson.A{1, "x"}}}, []bson.M{{"v": 1}, {}, {"v": primitive.Symbol("x")}}},
		{"code", bson.M{"v": bson.M{"$type": 2}}, []bson.M{{"v": "x"}}, []bson.M{{"v": 1}}},
		{"double code as double", bson.M{"v": bson.M{"$type": 16.0}}, []bson.M{{"v": int32(1)}}, []bson.M{{"v": int64(1)}, {"v": 1.0}}},
		{"long", bson.M{"v": bson.M{"$type": "long"}}, []bson.M{{"v": int64(1)}}, []bson.M{{"v": int32(1)}}},
		{"number", bson.M{"v": bson.M{"$type": "number"}}, []bson.M{{"v": int32(1)}, {"v": int64(1)}, {"v": 1.5}, {"v": dec(t, "1")}}, []bson.M{{"v": "1"}}},
		{"array matches the array itself", bson.M{"v": bson.M{"$type": "array"}}, []bson.M{{"v": bson.A{}}, {"v": bson.A{1}}}, []bson.M{{"v": 1}, {}}},
		{"null", bson.M{"v": bson.M{"$type": "null"}}, []bson.M{{"v": nil}}, []bson.M{{}}},
		{"list of types", bson.M{"v": bson.M{"$type": bson.A{"bool", "date"}}}, []bson.M{{"v": true}, {"v": primitive.DateTime(0)}}, []bson.M{{"v": 0}}},
		{"object", bson.M{"v": bson.M{"$type": "object"}}, []bson.M{{"v": bson.M{}}}, []bson.M{{"v": bson.A{}}}},
		{"objectId and binData", bson.M{"v": bson.M{"$type": bson.A{"objectId", "binData"}}}, []bson.M{{"v": primitive.ObjectID{}}, {"v": primitive.Binary{}}}, []bson.M{{"v": ""}}},
		{"minKey and maxKey", bson.M{"v": bson.M{"$type": bson.A{-1, 127}}}, []bson.M{{"v": primitive.MinKey{}}, {"v": primitive.MaxKey{}}}, []bson.M{{"v": nil}}},
		{"timestamp regex decimal", bson.M{"v": bson.M{"$type": bson.A{"timestamp", "regex", "decimal"}}}, []bson.M{{"v": primitive.Timestamp{}}, {"v": primitive.Regex{}}, {"v": dec(t, "2")}}, []bson.M{{"v": 2.0}}},
	})
}
