package mquery

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// benchDoc is a typical user document as the embedded store decodes it.
func benchDoc() bson.M {
	return bson.M{
		"_id":     primitive.ObjectID{1, 2, 3},
		"email":   "ada@example.com",
		"name":    "Ada Lovelace",
		"age":     int32(36),
		"status":  "active",
		"score":   97.5,
		"tags":    bson.A{"math", "poetry", "engines"},
		"profile": bson.M{"city": "London", "langs": bson.A{"en", "fr"}},
		"_owner":  "u_123",
		"created": primitive.DateTime(1700000000000),
	}
}

func mustCompile(tb testing.TB, f bson.M) *Matcher {
	tb.Helper()
	m, err := Compile(f)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestMatchDoesNotAllocate keeps the store's hot path free of garbage.
func TestMatchDoesNotAllocate(t *testing.T) {
	doc := benchDoc()
	for _, f := range []bson.M{
		{"email": "ada@example.com"},
		{"age": bson.M{"$gte": 18, "$lt": 65}, "status": bson.M{"$in": bson.A{"active", "trial"}}},
		{"profile.city": "London", "_owner": "u_123"},
		{"tags": "poetry", "score": bson.M{"$gt": int64(90)}},
		{"created": bson.M{"$lte": primitive.DateTime(1800000000000)}, "age": bson.M{"$ne": 5}},
	} {
		m := mustCompile(t, f)
		if !m.Match(doc) {
			t.Fatalf("%v does not match", f)
		}
		if n := testing.AllocsPerRun(100, func() { m.Match(doc) }); n != 0 {
			t.Errorf("Match(%v) allocates %v times", f, n)
		}
	}
}

func BenchmarkMatchEquality(b *testing.B) {
	m, doc := mustCompile(b, bson.M{"email": "ada@example.com"}), benchDoc()
	b.ReportAllocs()
	for b.Loop() {
		m.Match(doc)
	}
}

func BenchmarkMatchRangeIn(b *testing.B) {
	m := mustCompile(b, bson.M{"age": bson.M{"$gte": 18, "$lt": 65}, "status": bson.M{"$in": bson.A{"active", "trial"}}})
	doc := benchDoc()
	b.ReportAllocs()
	for b.Loop() {
		m.Match(doc)
	}
}

func BenchmarkMatchDottedArray(b *testing.B) {
	m, doc := mustCompile(b, bson.M{"profile.langs": "fr", "tags": bson.M{"$all": bson.A{"math", "engines"}}}), benchDoc()
	b.ReportAllocs()
	for b.Loop() {
		m.Match(doc)
	}
}

// BenchmarkCompile compiles a filter as decoded from JSON (canonical) and
// the same filter written in Go with int, which has to be normalised.
func BenchmarkCompile(b *testing.B) {
	for _, s := range []struct {
		name string
		age  any
	}{{"canonical", int32(18)}, {"go-int", 18}} {
		f := bson.M{"_owner": "u_123", "$or": bson.A{bson.M{"age": bson.M{"$gte": s.age}}, bson.M{"status": bson.M{"$in": bson.A{"a", "b"}}}}}
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compile(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompareNumbers(b *testing.B) {
	x, y := any(int32(5)), any(5.5)
	b.ReportAllocs()
	for b.Loop() {
		Compare(x, y)
	}
}

func BenchmarkCompareDocuments(b *testing.B) {
	x, y := any(bson.M{"a": int32(1), "b": "x", "c": bson.A{int32(1), int32(2)}}), any(bson.M{"a": int64(1), "b": "x", "c": bson.A{int32(1), int32(3)}})
	b.ReportAllocs()
	for b.Loop() {
		Compare(x, y)
	}
}

func BenchmarkSort100(b *testing.B) {
	docs := make([]bson.M, 100)
	for i := range docs {
		docs[i] = bson.M{"n": int32((i * 37) % 100), "s": "x"}
	}
	spec := bson.D{{Key: "n", Value: 1}, {Key: "s", Value: -1}}
	work := make([]bson.M, len(docs))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, docs)
		if err := Sort(work, spec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateApply(b *testing.B) {
	u, err := CompileUpdate(bson.M{"$set": bson.M{"status": "idle"}, "$inc": bson.M{"age": 1}, "$push": bson.M{"tags": "x"}})
	if err != nil {
		b.Fatal(err)
	}
	doc := benchDoc()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := u.Apply(doc); err != nil {
			b.Fatal(err)
		}
	}
}
