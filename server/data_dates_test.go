package server

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// dateScenarios checks dates and ObjectIDs travel as Extended JSON through
// the data API: stored as dates, answered as {"$date": …}, compared and
// sorted as dates in filters, and read back unchanged by a GET → PUT.
func dateScenarios(t *testing.T, ts *testServer, vars map[string]string) {
	vars["t0"] = time.Now().UTC().Add(-time.Second).Format(time.RFC3339Nano)
	vars["ref"] = primitive.NewObjectID().Hex()
	runScenarios(t, ts, vars, []scenario{
		{
			name: "a date and an ObjectID in a body", method: "POST", path: "/api/db/trials", token: "alice",
			body:        `{"who":"early","trialEndsAt":{"$date":"2026-01-15T10:30:00+01:00"},"ref":{"$oid":"{ref}"},"log":[{"at":{"$date":1767225600000}}]}`,
			wantStatus:  http.StatusCreated,
			wantContent: []string{`"trialEndsAt":{"$date":"2026-01-15T09:30:00.000Z"}`, `"ref":{"$oid":"{ref}"}`, `"log":[{"at":{"$date":"2026-01-01T00:00:00.000Z"}}]`},
			wantEvents:  []string{"doc_created"},
			after: func(t *testing.T, res response, vars map[string]string) {
				rememberID("early")(t, res, vars)
				stored, err := ts.Store().C("trials").FindOne(context.Background(), db.ByID(parseID(vars["early"])), nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := stored["trialEndsAt"].(primitive.DateTime); !ok {
					t.Errorf("trialEndsAt stored as %T, want a date", stored["trialEndsAt"])
				}
				if _, ok := stored["ref"].(primitive.ObjectID); !ok {
					t.Errorf("ref stored as %T, want an ObjectID", stored["ref"])
				}
				ev := ts.lastEvent(t, "doc_created")
				if doc, _ := ev["doc"].(bson.M); doc == nil {
					t.Errorf("doc_created = %v", ev)
				} else if _, ok := doc["trialEndsAt"].(primitive.DateTime); !ok {
					t.Errorf("doc_created carries trialEndsAt as %T, want a date", doc["trialEndsAt"])
				}
			},
		},
		{
			name: "a later date", method: "POST", path: "/api/db/trials", token: "alice",
			body:       `{"who":"late","trialEndsAt":{"$date":"2026-03-01T00:00:00Z"}}`,
			wantStatus: http.StatusCreated, wantEvents: []string{"doc_created"}, after: rememberID("late"),
		},
		{
			name: "a date written as a plain string stays a string", method: "POST", path: "/api/db/trials", token: "alice",
			body:        `{"who":"string","trialEndsAt":"2026-01-02T00:00:00Z"}`,
			wantStatus:  http.StatusCreated,
			wantContent: []string{`"trialEndsAt":"2026-01-02T00:00:00Z"`},
			wantEvents:  []string{"doc_created"},
		},
		{
			name: "$lte compares as dates", method: "GET", token: "alice",
			path:        "/api/db/trials?filter=" + q(`{"trialEndsAt":{"$lte":{"$date":"2026-02-01T00:00:00.000Z"}}}`),
			wantStatus:  http.StatusOK,
			wantContent: []string{`"who":"early"`},
			notContent:  []string{`"who":"late"`, `"who":"string"`},
		},
		{
			name: "equality with a date", method: "GET", token: "alice",
			path:        "/api/db/trials?filter=" + q(`{"trialEndsAt":{"$date":"2026-03-01T00:00:00Z"}}`),
			wantStatus:  http.StatusOK,
			wantContent: []string{`"who":"late"`},
			notContent:  []string{`"who":"early"`, `"who":"string"`},
		},
		{
			name: "an ObjectID other than _id", method: "GET", token: "alice",
			path:        "/api/db/trials?filter=" + q(`{"ref":{"$in":[{"$oid":"{ref}"}]}}`),
			wantStatus:  http.StatusOK,
			wantContent: []string{`"who":"early"`},
			notContent:  []string{`"who":"late"`},
		},
		{
			name: "_created_at compares as a date", method: "GET", token: "alice",
			path:        "/api/db/trials?count=true&filter=" + q(`{"_created_at":{"$gte":{"$date":"{t0}"}}}`),
			wantStatus:  http.StatusOK,
			wantContent: []string{`"total":3`},
		},
		{
			name: "_created_at in the future finds nothing", method: "GET", token: "alice",
			path:        "/api/db/trials?count=true&filter=" + q(`{"_created_at":{"$gte":{"$date":"2999-01-01T00:00:00Z"}}}`),
			wantStatus:  http.StatusOK,
			wantContent: []string{`"total":0`, `"items":[]`},
		},
		{
			name: "sorts as dates", method: "GET", token: "alice",
			path:       "/api/db/trials?sort=-trialEndsAt&filter=" + q(`{"who":{"$in":["early","late"]}}`),
			wantStatus: http.StatusOK,
			after: func(t *testing.T, res response, vars map[string]string) {
				if i, j := strings.Index(res.body, `"who":"late"`), strings.Index(res.body, `"who":"early"`); i < 0 || j < 0 || i > j {
					t.Errorf("late should come before early: %s", res.body)
				}
			},
		},
		{
			name: "GET then PUT round-trips unchanged", method: "GET", path: "/api/db/trials/{early}", token: "alice",
			wantStatus: http.StatusOK,
			after: func(t *testing.T, res response, vars map[string]string) {
				put := ts.do(t, "PUT", "/api/db/trials/"+vars["early"], res.body, vars["alice"])
				if put.status != http.StatusOK {
					t.Fatalf("PUT what GET answered: %d %s", put.status, put.body)
				}
				before, after := res.json(t), put.json(t)
				delete(before, "_updated_at")
				delete(after, "_updated_at")
				if !reflect.DeepEqual(before, after) {
					t.Errorf("GET → PUT changed the document\nbefore %s\n after %s", res.body, put.body)
				}
				if !strings.Contains(put.body, `"trialEndsAt":{"$date":"2026-01-15T09:30:00.000Z"}`) {
					t.Errorf("PUT answer %s", put.body)
				}
			},
		},
		{
			name: "PATCH with the same _created_at is accepted", method: "GET", path: "/api/db/trials/{early}", token: "alice",
			wantStatus: http.StatusOK,
			after: func(t *testing.T, res response, vars map[string]string) {
				created, _ := res.json(t)["_created_at"].(map[string]any)
				body := `{"_created_at":{"$date":"` + created["$date"].(string) + `"},"who":"earliest"}`
				if p := ts.do(t, "PATCH", "/api/db/trials/"+vars["early"], body, vars["alice"]); p.status != http.StatusOK {
					t.Errorf("PATCH %s: %d %s", body, p.status, p.body)
				}
			},
		},
		{
			name: "_created_at cannot be changed", method: "PATCH", path: "/api/db/trials/{early}", token: "alice",
			body:        `{"_created_at":{"$date":"2020-01-01T00:00:00Z"}}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_document"`, `_created_at cannot be changed`},
		},
		{
			name: "a $date that is not a date", method: "POST", path: "/api/db/trials", token: "alice",
			body:        `{"trialEndsAt":{"$date":"next tuesday"}}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_document"`, `trialEndsAt`, `$date takes an ISO 8601 date-time string`},
		},
		{
			name: "an $oid that is not one", method: "POST", path: "/api/db/trials", token: "alice",
			body:        `{"ref":{"$oid":"xyz"}}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_document"`, `$oid takes 24 hexadecimal digits`},
		},
		{
			name: "a wrapper with another field", method: "POST", path: "/api/db/trials", token: "alice",
			body:        `{"d":{"$date":"2026-01-01T00:00:00Z","tz":"UTC"}}`,
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_document"`, `that one field only`},
		},
		{
			name: "a bad $date in a filter", method: "GET", token: "alice",
			path:        "/api/db/trials?filter=" + q(`{"trialEndsAt":{"$lt":{"$date":"soon"}}}`),
			wantStatus:  http.StatusBadRequest,
			wantContent: []string{`"code":"invalid_query"`, `$date takes`},
		},
	})
}
