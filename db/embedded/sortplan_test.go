package embedded

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestExplainSortsThroughIndexes(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := coll(s, "sorted")
	mustInsert(t, c, bson.M{"owner": "u1", "created": 1, "email": "a"})
	mustIndex(t, c, false, "created")
	mustIndex(t, c, true, "email")
	if err := c.EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: "owner"}, {Field: "created", Desc: true}}}); err != nil {
		t.Fatal(err)
	}
	ix := func(name string) string { return "USING INDEX " + strings.Trim(indexSQLName("sorted", name), `"`) }
	desc := bson.D{{Key: "created", Value: -1}}
	scenarios := []struct {
		name     string
		filter   bson.M
		sort     bson.D
		want     string
		inMemory bool
	}{
		{"whole collection", nil, desc, "SCAN c_sorted " + ix("created_1"), false},
		{"ascending", nil, bson.D{{Key: "created", Value: 1}}, "SCAN c_sorted " + ix("created_1"), false},
		{"equality prefix", bson.M{"owner": "u1"}, desc, "SEARCH c_sorted " + ix("owner_1_created_-1") + " (<expr>=?)", false},
		{"prefix and range", bson.M{"owner": "u1", "created": bson.M{"$gt": 5}}, desc,
			"SEARCH c_sorted " + ix("owner_1_created_-1") + " (<expr>=? AND <expr>>? AND <expr><?)", false},
		{"by _id", bson.M{"created": bson.M{"$exists": true}}, bson.D{{Key: "_id", Value: -1}}, "SCAN c_sorted USING INDEX sqlite_autoindex_c_sorted_1", false},
		{"unique lookup sorts in memory", bson.M{"email": "a"}, desc, ix("email_1"), true},
		{"two sort keys sort in memory", nil, bson.D{{Key: "created", Value: -1}, {Key: "owner", Value: 1}}, "SCAN c_sorted", true},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			plan, err := c.explain(ctx, sc.filter, sc.sort)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan, sc.want) {
				t.Fatalf("plan lacks %q:\n%s", sc.want, plan)
			}
			q := &query{conds: conditions(sc.filter)}
			specs := mustSpecs(t, s, "sorted")
			_, indexed := chooseSortPlan(q.conds, specs, sc.sort, choose(q.conds, specs).score)
			if indexed == sc.inMemory {
				t.Fatalf("sorted through an index: %v, want %v", indexed, !sc.inMemory)
			}
			if !sc.inMemory && strings.Contains(plan, "USE TEMP B-TREE FOR ORDER BY") {
				t.Fatalf("the plan sorts every row:\n%s", plan)
			}
		})
	}
}

// sortValues are sort field values of every type, with ties.
var sortValues = []any{
	int32(3), 2.5, int64(3), "b", "a", "", true, false, nil, primitive.DateTime(5), primitive.DateTime(-5),
	primitive.ObjectID{9}, primitive.ObjectID{1}, math.NaN(), math.Inf(-1), 3.0, "a", primitive.MinKey{}, primitive.MaxKey{},
	primitive.Binary{Data: []byte("x")}, primitive.Timestamp{T: 1}, primitive.Regex{Pattern: "a"},
}

// TestIndexSortMatchesMemorySort compares sorting through an index with
// sorting in memory, with and without the documents and arrays that make
// the index fall back.
func TestIndexSortMatchesMemorySort(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	for _, shapes := range []string{"scalars", "with documents", "with arrays", "with array prefix"} {
		plain, indexed := s.C("plain_"+strings.ReplaceAll(shapes, " ", "_")), s.C("indexed_"+strings.ReplaceAll(shapes, " ", "_"))
		mustIndex(t, indexed, false, "v")
		mustIndex(t, indexed, false, "k", "v")
		var docs []bson.M
		for i, v := range sortValues {
			docs = append(docs, bson.M{"_id": i, "v": v, "k": i % 3})
			if i%5 == 0 {
				docs = append(docs, bson.M{"_id": 100 + i, "k": i % 3}) // no v at all
			}
		}
		switch shapes {
		case "with documents":
			docs = append(docs, bson.M{"_id": 200, "v": bson.M{"x": 1}, "k": 1})
		case "with arrays":
			docs = append(docs, bson.M{"_id": 200, "v": bson.A{"a", 9}, "k": 1})
		case "with array prefix":
			docs = append(docs, bson.M{"_id": 200, "v": 1, "k": bson.A{1, 2}})
		}
		for _, c := range []db.Collection{plain, indexed} {
			if _, err := c.InsertMany(ctx, docs); err != nil {
				t.Fatal(err)
			}
		}
		filters := []bson.M{nil, {"k": 1}, {"k": 1, "v": bson.M{"$gte": 0}}, {"v": bson.M{"$lt": "b"}}, {"k": 2, "v": "a"}}
		for _, f := range filters {
			for _, dir := range []int{1, -1} {
				for _, o := range []db.FindOptions{{}, {Limit: 3}, {Skip: 2, Limit: 4}, {Skip: 50}, {Sort: bson.D{{Key: "_id", Value: 1}}, Limit: 5}} {
					if o.Sort == nil {
						o.Sort = bson.D{{Key: "v", Value: dir}}
					} else {
						o.Sort[0].Value = dir
					}
					want, err := plain.Find(ctx, f, &o)
					if err != nil {
						t.Fatal(err)
					}
					got, err := indexed.Find(ctx, f, &o)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(field(got, "_id"), field(want, "_id")) {
						t.Errorf("%s: Find(%v, %+v):\n  through the index %v\n  in memory         %v", shapes, f, o, field(got, "_id"), field(want, "_id"))
					}
				}
			}
		}
		if shapes == "scalars" {
			// Make sure the index path was the one compared.
			sp, ok := chooseSortPlan(conditions(bson.M{"k": 1}), mustSpecs(t, s, indexed.Name()), bson.D{{Key: "v", Value: 1}}, 10)
			if !ok || sp.index != "k_1_v_1" {
				t.Fatalf("sort plan = %+v, %v; want k_1_v_1", sp, ok)
			}
		}
	}
}

func mustSpecs(t *testing.T, s *Store, coll string) []indexSpec {
	t.Helper()
	specs, err := s.indexSpecs(context.Background(), coll)
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

func TestSortPlanProbesFallBack(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	c := coll(s, "probe")
	mustIndex(t, c, false, "k", "v")
	mustInsert(t, c, bson.M{"k": 1, "v": 2}, bson.M{"k": 1, "v": 1})
	q := &query{conds: conditions(bson.M{"k": 1})}
	sp, ok := chooseSortPlan(q.conds, mustSpecs(t, s, "probe"), bson.D{{Key: "v", Value: 1}}, 10)
	if !ok {
		t.Fatal("no sort plan")
	}
	rows, used, err := c.findSorted(ctx, s.reader, q, findOpts{}, sp)
	if err != nil || !used || fmt.Sprint(field(docsOf(rows), "v")) != "[1 2]" {
		t.Fatalf("findSorted = %v, %v, %v; want [1 2] through the index", field(docsOf(rows), "v"), used, err)
	}
	mustInsert(t, c, bson.M{"k": bson.A{1, 3}, "v": 0})
	if _, used, err := c.findSorted(ctx, s.reader, q, findOpts{}, sp); err != nil || used {
		t.Fatalf("with an array prefix the index was used: %v, %v", used, err)
	}
}

func docsOf(rows []row) []bson.M {
	out := make([]bson.M, len(rows))
	for i, r := range rows {
		out[i] = r.doc
	}
	return out
}
