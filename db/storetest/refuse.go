package storetest

import (
	"strings"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

// Each refused input is checked through every method that takes it, and
// must leave the data as it was.

func testRefusedFilters(t *testing.T, s *suite) {
	st := s.open(t)
	c := coll(t, st)
	insert(t, c, bson.M{"_id": "a", "a": int32(1), "l": bson.A{int32(1)}})
	cases := []struct {
		name   string
		filter bson.M
		op     string // the QueryError.Op every store reports; "" leaves it unchecked
	}{
		{"Where", bson.M{"$where": "this.a == 1"}, "$where"},
		{"Expr", bson.M{"$expr": bson.M{"$eq": bson.A{"$a", 1}}}, "$expr"},
		{"Function", bson.M{"$function": bson.M{"body": "return true", "args": bson.A{}, "lang": "js"}}, "$function"},
		{"Accumulator", bson.M{"$accumulator": bson.M{}}, "$accumulator"},
		{"Text", bson.M{"$text": bson.M{"$search": "x"}}, "$text"},
		{"UnknownTopLevel", bson.M{"$foo": 1}, "$foo"},
		{"UnknownOnField", bson.M{"a": bson.M{"$foo": 1}}, "$foo"},
		{"WhereOnField", bson.M{"a": bson.M{"$where": "1"}}, "$where"},
		{"Type", bson.M{"a": bson.M{"$type": "string"}}, "$type"},
		{"Mod", bson.M{"a": bson.M{"$mod": bson.A{2, 0}}}, "$mod"},
		{"InsideOr", bson.M{"$or": bson.A{bson.M{"a": 1}, bson.M{"$where": "1"}}}, "$where"},
		{"InsideElemMatch", bson.M{"l": bson.M{"$elemMatch": bson.M{"b": bson.M{"$foo": 1}}}}, "$foo"},
		{"InsideNot", bson.M{"a": bson.M{"$not": bson.M{"$where": "1"}}}, "$where"},
		{"AndNotArray", bson.M{"$and": "x"}, "$and"},
		{"AndEmpty", bson.M{"$and": bson.A{}}, "$and"},
		{"OrOfScalars", bson.M{"$or": bson.A{1}}, "$or"},
		{"NorNotArray", bson.M{"$nor": bson.M{"a": 1}}, "$nor"},
		{"InNotArray", bson.M{"a": bson.M{"$in": 5}}, "$in"},
		{"NinNotArray", bson.M{"a": bson.M{"$nin": "x"}}, "$nin"},
		{"AllNotArray", bson.M{"a": bson.M{"$all": 1}}, "$all"},
		{"SizeNotNumber", bson.M{"l": bson.M{"$size": "1"}}, "$size"},
		{"SizeNegative", bson.M{"l": bson.M{"$size": -1}}, "$size"},
		{"SizeFraction", bson.M{"l": bson.M{"$size": 1.5}}, "$size"},
		{"RegexNotString", bson.M{"a": bson.M{"$regex": 5}}, "$regex"},
		{"RegexInvalid", bson.M{"a": bson.M{"$regex": "("}}, ""},
		{"OptionsWithoutRegex", bson.M{"a": bson.M{"$options": "i"}}, "$options"},
		{"ElemMatchNotDocument", bson.M{"l": bson.M{"$elemMatch": 5}}, "$elemMatch"},
		{"NotScalar", bson.M{"a": bson.M{"$not": 5}}, "$not"},
		{"OperatorsMixedWithFields", bson.M{"a": bson.M{"$gt": 1, "b": 2}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			ctx := t.Context()
			_, err := c.Find(ctx, tc.filter, nil)
			queryErr(t, "Find", err, tc.op)
			_, err = c.FindOne(ctx, tc.filter, nil)
			queryErr(t, "FindOne", err, tc.op)
			_, err = c.Count(ctx, tc.filter)
			queryErr(t, "Count", err, tc.op)
			_, err = c.UpdateMany(ctx, tc.filter, bson.M{"$set": bson.M{"a": int32(2)}})
			queryErr(t, "UpdateMany", err, tc.op)
			_, err = c.FindOneAndUpdate(ctx, tc.filter, bson.M{"$set": bson.M{"a": int32(2)}}, nil)
			queryErr(t, "FindOneAndUpdate", err, tc.op)
			_, err = c.DeleteMany(ctx, tc.filter)
			queryErr(t, "DeleteMany", err, tc.op)
			same(t, "document after the refused calls", get(t, c, "a"), bson.M{"_id": "a", "a": int32(1), "l": bson.A{int32(1)}})
		})
	}
}

func testRefusedUpdates(t *testing.T, s *suite) {
	st := s.open(t)
	cases := []struct {
		name   string
		start  bson.M
		update bson.M
		op     string // "" leaves QueryError.Op unchecked
	}{
		{"Empty", nil, bson.M{}, ""},
		{"Nil", nil, nil, ""},
		{"NoOperators", nil, bson.M{"a": int32(2)}, ""},
		{"Rename", nil, bson.M{"$rename": bson.M{"a": "b"}}, "$rename"},
		{"CurrentDate", nil, bson.M{"$currentDate": bson.M{"a": true}}, "$currentDate"},
		{"SetNotDocument", nil, bson.M{"$set": 5}, "$set"},
		{"IncByString", nil, bson.M{"$inc": bson.M{"a": "1"}}, "$inc"},
		{"IncOnString", bson.M{"s": "x"}, bson.M{"$inc": bson.M{"s": 1}}, ""},
		{"PushOnString", bson.M{"s": "x"}, bson.M{"$push": bson.M{"s": 1}}, ""},
		{"AddToSetOnString", bson.M{"s": "x"}, bson.M{"$addToSet": bson.M{"s": 1}}, ""},
		{"PullOnString", bson.M{"s": "x"}, bson.M{"$pull": bson.M{"s": "x"}}, ""},
		{"SetThroughString", bson.M{"s": "x"}, bson.M{"$set": bson.M{"s.t": 1}}, ""},
		{"SetID", nil, bson.M{"$set": bson.M{"_id": "other"}}, ""},
		{"SameFieldTwice", nil, bson.M{"$set": bson.M{"a": 1}, "$inc": bson.M{"a": 1}}, ""},
		{"ConflictingPaths", nil, bson.M{"$set": bson.M{"a": 1, "a.b": 1}}, ""},
		{"Positional", bson.M{"l": bson.A{int32(1)}}, bson.M{"$set": bson.M{"l.$": 2}}, "$set"},
		{"EmptyPath", nil, bson.M{"$set": bson.M{"": 1}}, "$set"},
		{"EmptyPathPart", nil, bson.M{"$set": bson.M{"a..b": 1}}, "$set"},
		{"EachNotArray", nil, bson.M{"$push": bson.M{"l": bson.M{"$each": 5}}}, "$push"},
		{"PushSlice", nil, bson.M{"$push": bson.M{"l": bson.M{"$each": bson.A{1}, "$slice": 2}}}, "$push"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			ctx := t.Context()
			c := coll(t, st)
			start := withID("u", tc.start)
			start["a"] = int32(1)
			insert(t, c, start)
			_, err := c.UpdateOne(ctx, db.ByID("u"), tc.update, nil)
			queryErr(t, "UpdateOne", err, tc.op)
			if tc.start == nil {
				// Refusals that depend on the stored value cannot happen
				// when an upsert starts from an empty document.
				_, err = c.UpdateOne(ctx, db.ByID("new"), tc.update, &db.UpdateOptions{Upsert: true})
				queryErr(t, "UpdateOne with upsert", err, tc.op)
			}
			_, err = c.UpdateMany(ctx, nil, tc.update)
			queryErr(t, "UpdateMany", err, tc.op)
			_, err = c.FindOneAndUpdate(ctx, db.ByID("u"), tc.update, nil)
			queryErr(t, "FindOneAndUpdate", err, tc.op)
			same(t, "documents after the refused updates", find(t, c, nil, nil), []bson.M{start})
		})
	}
}

func testRefusedDocuments(t *testing.T, s *suite) {
	st := s.open(t)
	cases := []struct {
		name string
		doc  bson.M
	}{
		{"DollarKey", bson.M{"$a": 1}},
		{"DottedKey", bson.M{"a.b": 1}},
		{"EmptyKey", bson.M{"": 1}},
		{"NestedDollarKey", bson.M{"a": bson.M{"$b": 1}}},
		{"NestedDottedKey", bson.M{"a": bson.M{"b.c": 1}}},
		{"KeyInArray", bson.M{"a": bson.A{bson.M{"x.y": 1}}}},
		{"KeyInNestedArray", bson.M{"a": bson.A{bson.A{bson.M{"$x": 1}}}}},
		{"KeyInGoMap", bson.M{"m": map[string]any{"$a": 1}}},
		{"ArrayID", bson.M{"_id": bson.A{1, 2}}},
		{"NULInKey", bson.M{"a\x00b": 1}},
		{"InvalidUTF8Key", bson.M{"a\xffb": 1}},
		{"InvalidUTF8Value", bson.M{"s": "a\xffb\xc3"}},
		{"InvalidUTF8NestedValue", bson.M{"a": bson.M{"b": bson.A{"ok", "\xed\xa0\x80"}}}},
		{"UnstorableValue", bson.M{"f": make(chan int)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			ctx := t.Context()
			c := coll(t, st)
			insert(t, c, bson.M{"_id": "keep", "v": int32(1)})
			_, err := c.InsertOne(ctx, tc.doc)
			isErr(t, "InsertOne", err, db.ErrInvalidDocument)
			_, err = c.InsertMany(ctx, []bson.M{tc.doc})
			isErr(t, "InsertMany", err, db.ErrInvalidDocument)
			_, err = c.ReplaceOne(ctx, db.ByID("keep"), tc.doc, nil)
			isErr(t, "ReplaceOne", err, db.ErrInvalidDocument)
			_, err = c.ReplaceOne(ctx, db.ByID("new"), tc.doc, &db.UpdateOptions{Upsert: true})
			isErr(t, "ReplaceOne with upsert", err, db.ErrInvalidDocument)
			same(t, "documents after the refused writes", find(t, c, nil, nil), []bson.M{{"_id": "keep", "v": int32(1)}})
		})
	}
	values := []struct {
		name   string
		update bson.M
	}{
		{"SetDollarKey", bson.M{"$set": bson.M{"v": bson.M{"$b": 1}}}},
		{"SetDottedKey", bson.M{"$set": bson.M{"v": bson.M{"b.c": 1}}}},
		{"SetKeyInArray", bson.M{"$set": bson.M{"v": bson.A{bson.M{"x.y": 1}}}}},
		{"PushDottedKey", bson.M{"$push": bson.M{"l": bson.M{"b.c": 1}}}},
		{"AddToSetEachDottedKey", bson.M{"$addToSet": bson.M{"l": bson.M{"$each": bson.A{bson.M{"b.c": 1}}}}}},
		{"SetInvalidUTF8", bson.M{"$set": bson.M{"v": "a\xff"}}},
		{"PushInvalidUTF8", bson.M{"$push": bson.M{"l": bson.M{"s": "\xc3"}}}},
	}
	for _, tc := range values {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			c := coll(t, st)
			insert(t, c, bson.M{"_id": "keep", "v": int32(1)})
			_, err := c.UpdateOne(t.Context(), db.ByID("keep"), tc.update, nil)
			isErr(t, "UpdateOne", err, db.ErrInvalidDocument)
			_, err = c.FindOneAndUpdate(t.Context(), db.ByID("keep"), tc.update, nil)
			isErr(t, "FindOneAndUpdate", err, db.ErrInvalidDocument)
			same(t, "document after the refused updates", get(t, c, "keep"), bson.M{"_id": "keep", "v": int32(1)})
		})
	}
}

func testRefusedOptions(t *testing.T, s *suite) {
	st := s.open(t)
	c := coll(t, st)
	insert(t, c, bson.M{"_id": "a", "a": int32(1), "b": int32(2)})
	cases := []struct {
		name string
		opts db.FindOptions
	}{
		{"ProjectionMixed", db.FindOptions{Projection: bson.M{"a": 1, "b": 0}}},
		{"ProjectionString", db.FindOptions{Projection: bson.M{"a": "yes"}}},
		{"ProjectionOperator", db.FindOptions{Projection: bson.M{"a": bson.M{"$slice": 1}}}},
		{"ProjectionDollarPath", db.FindOptions{Projection: bson.M{"a.$": 1}}},
		{"SortTwo", db.FindOptions{Sort: bson.D{{Key: "a", Value: 2}}}},
		{"SortZero", db.FindOptions{Sort: bson.D{{Key: "a", Value: 0}}}},
		{"SortWord", db.FindOptions{Sort: bson.D{{Key: "a", Value: "asc"}}}},
		{"SortNatural", db.FindOptions{Sort: bson.D{{Key: "$natural", Value: 1}}}},
		{"NegativeSkip", db.FindOptions{Skip: -1}},
		{"NegativeLimit", db.FindOptions{Limit: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			_, err := c.Find(t.Context(), nil, &tc.opts)
			queryErr(t, "Find", err, "")
			_, err = c.FindOne(t.Context(), nil, &tc.opts)
			queryErr(t, "FindOne", err, "")
			if tc.opts.Skip != 0 || tc.opts.Limit != 0 {
				return
			}
			_, err = c.FindOneAndUpdate(t.Context(), nil, bson.M{"$set": bson.M{"a": int32(9)}},
				&db.FindOneAndUpdateOptions{Sort: tc.opts.Sort, Projection: tc.opts.Projection})
			queryErr(t, "FindOneAndUpdate", err, "")
			same(t, "document after the refused update", get(t, c, "a"), bson.M{"_id": "a", "a": int32(1), "b": int32(2)})
		})
	}
	t.Run("ReplaceChangingID", func(t *testing.T) {
		s.parallel(t)
		c := coll(t, st)
		insert(t, c, bson.M{"_id": "a", "v": int32(1)})
		_, err := c.ReplaceOne(t.Context(), db.ByID("a"), bson.M{"_id": "b", "v": int32(2)}, nil)
		queryErr(t, "ReplaceOne with another _id", err, "")
		same(t, "documents", find(t, c, nil, nil), []bson.M{{"_id": "a", "v": int32(1)}})
	})
	indexes := []struct {
		name string
		idx  db.Index
	}{
		{"IndexWithoutKeys", db.Index{Unique: true}},
		{"IndexOnEmptyField", db.Index{Keys: []db.IndexKey{{Field: ""}}}},
		{"IndexOnDollarField", db.Index{Keys: []db.IndexKey{{Field: "$a"}}}},
	}
	for _, tc := range indexes {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			queryErr(t, "EnsureIndex", coll(t, st).EnsureIndex(t.Context(), tc.idx), "")
		})
	}
}

func testRefusedNames(t *testing.T, s *suite) {
	st := s.open(t)
	names := []struct{ name, coll string }{
		{"Empty", ""},
		{"LeadingDigit", "1abc"},
		{"LeadingDash", "-abc"},
		{"Space", "a b"},
		{"Dot", "a.b"},
		{"Dollar", "a$b"},
		{"Slash", "a/b"},
		{"NonASCII", "système"},
		{"TooLong", strings.Repeat("x", 65)},
	}
	for _, tc := range names {
		t.Run(tc.name, func(t *testing.T) {
			s.parallel(t)
			ctx := t.Context()
			c := st.C(tc.coll)
			same(t, "Name()", c.Name(), tc.coll)
			_, err := c.InsertOne(ctx, bson.M{"v": 1})
			isErr(t, "InsertOne", err, db.ErrInvalidName)
			_, err = c.InsertMany(ctx, []bson.M{{"v": 1}})
			isErr(t, "InsertMany", err, db.ErrInvalidName)
			_, err = c.Find(ctx, nil, nil)
			isErr(t, "Find", err, db.ErrInvalidName)
			_, err = c.FindOne(ctx, nil, nil)
			isErr(t, "FindOne", err, db.ErrInvalidName)
			_, err = c.Count(ctx, nil)
			isErr(t, "Count", err, db.ErrInvalidName)
			_, err = c.UpdateOne(ctx, nil, bson.M{"$set": bson.M{"v": 2}}, &db.UpdateOptions{Upsert: true})
			isErr(t, "UpdateOne", err, db.ErrInvalidName)
			_, err = c.UpdateMany(ctx, nil, bson.M{"$set": bson.M{"v": 2}})
			isErr(t, "UpdateMany", err, db.ErrInvalidName)
			_, err = c.ReplaceOne(ctx, nil, bson.M{"v": 2}, &db.UpdateOptions{Upsert: true})
			isErr(t, "ReplaceOne", err, db.ErrInvalidName)
			_, err = c.FindOneAndUpdate(ctx, nil, bson.M{"$set": bson.M{"v": 2}}, &db.FindOneAndUpdateOptions{Upsert: true})
			isErr(t, "FindOneAndUpdate", err, db.ErrInvalidName)
			_, err = c.DeleteOne(ctx, nil)
			isErr(t, "DeleteOne", err, db.ErrInvalidName)
			_, err = c.DeleteMany(ctx, nil)
			isErr(t, "DeleteMany", err, db.ErrInvalidName)
			isErr(t, "EnsureIndex", c.EnsureIndex(ctx, uniqueOn("v")), db.ErrInvalidName)
			isErr(t, "Drop", c.Drop(ctx), db.ErrInvalidName)
			list, err := st.Collections(ctx)
			ok(t, err, "collections")
			if contains(list, tc.coll) {
				t.Errorf("Collections() lists the refused name %q", tc.coll)
			}
		})
	}
}
