package storetest

import (
	"encoding/json"
	"testing"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

// testExtJSON runs dates and ObjectIDs the way the HTTP API carries them,
// as Extended JSON ({"$date": …}, {"$oid": …}) read by db.DecodeJSON and
// db.FromExtJSON: stored as dates, compared and sorted as dates in filters
// (never as the strings they were written in), and written back by
// db.ToExtJSON exactly as they came in.
func testExtJSON(t *testing.T, s *suite) {
	st := s.open(t)
	c := coll(t, st)
	bodies := []string{
		`{"_id":"early","trialEndsAt":{"$date":"2026-01-15T09:30:00.000Z"},"ref":{"$oid":"65a1f0c2e4b0a1b2c3d4e5f6"},"log":[{"at":{"$date":"1969-12-31T23:59:59.999Z"}}]}`,
		`{"_id":"late","trialEndsAt":{"$date":"2026-03-01T00:00:00.000Z"}}`,
		`{"_id":"string","trialEndsAt":"2026-01-02T00:00:00Z"}`,
		`{"_id":"none"}`,
	}
	for _, b := range bodies {
		insert(t, c, extDoc(t, b))
	}

	t.Run("RoundTrip", func(t *testing.T) {
		s.parallel(t)
		for _, b := range bodies {
			var want map[string]any
			ok(t, json.Unmarshal([]byte(b), &want), "read %s", b)
			doc, err := c.FindOne(t.Context(), db.ByID(want["_id"]), nil)
			ok(t, err, "find %v", want["_id"])
			out, err := json.Marshal(db.ToExtJSON(doc))
			ok(t, err, "encode %v", want["_id"])
			var got map[string]any
			ok(t, json.Unmarshal(out, &got), "read back %s", out)
			same(t, "written back", got, want)
		}
	})

	filters := []struct {
		name   string
		filter string
		want   []string
	}{
		{"Lte", `{"trialEndsAt":{"$lte":{"$date":"2026-02-01T00:00:00Z"}}}`, []string{"early"}},
		{"GteWithOffset", `{"trialEndsAt":{"$gte":{"$date":"2026-01-15T10:30:00+01:00"}}}`, []string{"early", "late"}},
		{"Eq", `{"trialEndsAt":{"$date":"2026-03-01T00:00:00.000Z"}}`, []string{"late"}},
		{"EqAsMilliseconds", `{"trialEndsAt":{"$date":1772323200000}}`, []string{"late"}},
		{"In", `{"trialEndsAt":{"$in":[{"$date":"2026-01-15T09:30:00Z"},"2026-01-02T00:00:00Z"]}}`, []string{"early", "string"}},
		{"NeKeepsOtherTypes", `{"trialEndsAt":{"$ne":{"$date":"2026-03-01T00:00:00Z"}}}`, []string{"early", "string", "none"}},
		{"StringBoundFindsNoDate", `{"trialEndsAt":{"$lte":"2026-12-31"}}`, []string{"string"}},
		{"DateInArray", `{"log.at":{"$lt":{"$date":"1970-01-01T00:00:00Z"}}}`, []string{"early"}},
		{"Oid", `{"ref":{"$oid":"65a1f0c2e4b0a1b2c3d4e5f6"}}`, []string{"early"}},
	}
	for _, f := range filters {
		t.Run("Filter"+f.name, func(t *testing.T) {
			s.parallel(t)
			sameIDSet(t, f.filter, find(t, c, extDoc(t, f.filter), nil), f.want...)
		})
	}

	t.Run("SortDatesAfterStrings", func(t *testing.T) {
		s.parallel(t)
		sameIDs(t, "ascending", find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "trialEndsAt", Value: 1}}}), "none", "string", "early", "late")
		sameIDs(t, "descending", find(t, c, nil, &db.FindOptions{Sort: bson.D{{Key: "trialEndsAt", Value: -1}}}), "late", "early", "string", "none")
	})
}

// extDoc reads a JSON object as the API does.
func extDoc(t *testing.T, text string) bson.M {
	t.Helper()
	doc, err := db.DecodeJSON([]byte(text), db.Limits{})
	ok(t, err, "decode %s", text)
	doc, err = db.FromExtJSONDoc(doc)
	ok(t, err, "Extended JSON in %s", text)
	return doc
}
