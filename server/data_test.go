package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

func TestDataAPI(t *testing.T) {
	t.Parallel()
	dataSuite(t, testConfig(t))
}

// q escapes a query parameter value.
func q(s string) string { return url.QueryEscape(s) }

// rememberID stores the answered document's _id under key.
func rememberID(key string) func(*testing.T, response, map[string]string) {
	return func(t *testing.T, res response, vars map[string]string) {
		id, ok := res.json(t)["_id"].(string)
		if !ok || id == "" {
			t.Fatalf("no _id string in %s", res.body)
		}
		vars[key] = id
	}
}

// dataSuite runs the data API's scenarios against a server on cfg, whatever
// store cfg selects.
func dataSuite(t *testing.T, cfg Config) {
	ts := startServer(t, cfg, Deps{})
	alice := ts.register(t, "alice@example.com", "alice's password")
	bob := ts.register(t, "bob@example.com", "bob's password")
	vars := map[string]string{
		"alice": alice.token, "alice_id": alice.id,
		"bob": bob.token, "bob_id": bob.id,
	}

	t.Run("text that is not Unicode", func(t *testing.T) {
		saveFunctionAt(t, ts.URL(), "echo", map[string]any{"triggers": []any{map[string]any{"invoke": true}}, "source": `
function handle(input) return input end`})
		runScenarios(t, ts, vars, []scenario{
			{
				name: "create with invalid UTF-8", method: "POST", path: "/api/db/texts", token: "alice",
				body: "{\"title\":\"a\xffb\"}", wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_json"`, "not valid UTF-8"},
			},
			{
				name: "create with invalid UTF-8 in a key", method: "POST", path: "/api/db/texts", token: "alice",
				body: "{\"ti\xc3\":1}", wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_json"`},
			},
			{
				name: "create with a lone surrogate", method: "POST", path: "/api/db/texts", token: "alice",
				body: `{"title":"x\ud800"}`, wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_json"`, "surrogate"},
			},
			{
				name: "create with a surrogate pair", method: "POST", path: "/api/db/texts", token: "alice",
				body: `{"title":"\ud83d\ude00"}`, wantStatus: http.StatusCreated, wantContent: []string{"\"title\":\"😀\""},
				wantEvents: []string{"doc_created"}, after: rememberID("emoji"),
			},
			{
				name: "patch with a lone surrogate", method: "PATCH", path: "/api/db/texts/{emoji}", token: "alice",
				body: `{"title":"\udc00"}`, wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_json"`},
			},
			{
				name: "filter with invalid UTF-8", method: "GET", path: "/api/db/texts?filter=" + url.QueryEscape("{\"title\":\"\xff\"}"), token: "alice",
				wantStatus: http.StatusBadRequest,
			},
			{
				name: "event with a lone surrogate", method: "POST", path: "/api/events", token: "alice",
				body: `{"name":"note","data":{"t":"\ud800"}}`, wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_json"`},
			},
			{
				name: "function input with invalid UTF-8", method: "POST", path: "/api/functions/echo", token: "alice",
				body: "{\"t\":\"\xff\"}", wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_json"`},
			},
			{
				name: "function input with a lone surrogate", method: "POST", path: "/api/functions/echo", token: "alice",
				body: `"\udbff"`, wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_json"`},
			},
		})
	})

	t.Run("owner", func(t *testing.T) {
		runScenarios(t, ts, vars, []scenario{
			{
				name: "alice creates", method: "POST", path: "/api/db/notes", token: "alice",
				body:        `{"title":"alice's","n":1,"tags":["a","b"],"nested":{"x":1.5}}`,
				wantStatus:  http.StatusCreated,
				wantContent: []string{`"_owner":"{alice_id}"`, `"title":"alice's"`, `"_created_at":{"$date":"`, `"_updated_at":{"$date":"`, `"nested":{"x":1.5}`},
				wantEvents:  []string{"doc_created"},
				after: func(t *testing.T, res response, vars map[string]string) {
					rememberID("note_a")(t, res, vars)
					if loc := res.header.Get("Location"); loc != "/api/db/notes/"+vars["note_a"] {
						t.Errorf("Location %q", loc)
					}
					ev := ts.lastEvent(t, "doc_created")
					if ev["collection"] != "notes" || ev["id"] != vars["note_a"] {
						t.Errorf("doc_created = %v", ev)
					}
					if doc, _ := ev["doc"].(bson.M); doc["title"] != "alice's" {
						t.Errorf("doc_created doc = %v", ev["doc"])
					}
					if user, _ := ev["user"].(bson.M); user["id"] != vars["alice_id"] {
						t.Errorf("doc_created user = %v", ev["user"])
					}
				},
			},
			{
				name: "bob creates", method: "POST", path: "/api/db/notes", token: "bob",
				body:       `{"title":"bob's"}`,
				wantStatus: http.StatusCreated, wantEvents: []string{"doc_created"},
				after: rememberID("note_b"),
			},
			{
				name: "anonymous cannot create", method: "POST", path: "/api/db/notes",
				body:        `{"title":"nobody's"}`,
				wantStatus:  http.StatusUnauthorized,
				wantContent: []string{`{"error":{"code":"unauthenticated","message":"sign in required"}}`},
			},
			{
				name: "anonymous cannot list", method: "GET", path: "/api/db/notes",
				wantStatus: http.StatusUnauthorized,
			},
			{
				name: "alice lists only hers", method: "GET", path: "/api/db/notes", token: "alice",
				wantStatus:  http.StatusOK,
				wantContent: []string{`"_id":"{note_a}"`, `"limit":100`, `"skip":0`},
				notContent:  []string{"{note_b}", "bob's"},
			},
			{
				name: "bob lists only his", method: "GET", path: "/api/db/notes", token: "bob",
				wantStatus:  http.StatusOK,
				wantContent: []string{`"_id":"{note_b}"`},
				notContent:  []string{"{note_a}"},
			},
			{
				name: "alice cannot get bob's", method: "GET", path: "/api/db/notes/{note_b}", token: "alice",
				wantStatus:  http.StatusNotFound,
				wantContent: []string{`{"error":{"code":"not_found","message":"not found"}}`},
				notContent:  []string{"bob's"},
			},
			{
				name: "alice cannot patch bob's", method: "PATCH", path: "/api/db/notes/{note_b}", token: "alice",
				body: `{"title":"hacked"}`, wantStatus: http.StatusNotFound,
			},
			{
				name: "alice cannot replace bob's", method: "PUT", path: "/api/db/notes/{note_b}", token: "alice",
				body: `{"title":"hacked"}`, wantStatus: http.StatusNotFound,
			},
			{
				name: "alice cannot delete bob's", method: "DELETE", path: "/api/db/notes/{note_b}", token: "alice",
				wantStatus: http.StatusNotFound,
			},
			{
				name: "a filter on bob's owner finds nothing", method: "GET", token: "alice",
				path:       "/api/db/notes?filter=" + q(`{"_owner":"{bob_id}"}`),
				wantStatus: http.StatusOK, wantContent: []string{`"items":[]`},
			},
			{
				name: "an $or around the owner finds nothing", method: "GET", token: "alice",
				path:       "/api/db/notes?filter=" + q(`{"$or":[{"_owner":"{bob_id}"},{"title":"bob's"}]}`),
				wantStatus: http.StatusOK, wantContent: []string{`"items":[]`},
			},
			{
				name: "bob still has his, unchanged", method: "GET", path: "/api/db/notes/{note_b}", token: "bob",
				wantStatus: http.StatusOK, wantContent: []string{`"title":"bob's"`}, notContent: []string{"hacked"},
			},
			{
				name: "alice gets hers", method: "GET", path: "/api/db/notes/{note_a}", token: "alice",
				wantStatus:  http.StatusOK,
				wantContent: []string{`"_id":"{note_a}"`, `"tags":["a","b"]`, `"n":1`},
			},
			{
				name: "patch merges", method: "PATCH", path: "/api/db/notes/{note_a}", token: "alice",
				body:        `{"done":true}`,
				wantStatus:  http.StatusOK,
				wantContent: []string{`"done":true`, `"title":"alice's"`, `"_owner":"{alice_id}"`},
				wantEvents:  []string{"doc_updated"},
			},
			{
				name: "patch cannot change the owner", method: "PATCH", path: "/api/db/notes/{note_a}", token: "alice",
				body:        `{"_owner":"{bob_id}"}`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`{"error":{"code":"invalid_document","message":"field _owner cannot be changed"}}`},
			},
			{
				name: "patch cannot change the id", method: "PATCH", path: "/api/db/notes/{note_a}", token: "alice",
				body:        `{"_id":"elsewhere"}`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`field _id cannot be changed`},
			},
			{
				name: "patch with $set as a key", method: "PATCH", path: "/api/db/notes/{note_a}", token: "alice",
				body:        `{"$set":{"_owner":"{bob_id}"}}`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`"code":"invalid_document"`},
			},
			{
				name: "put replaces", method: "PUT", path: "/api/db/notes/{note_a}", token: "alice",
				body:        `{"title":"replaced"}`,
				wantStatus:  http.StatusOK,
				wantContent: []string{`"title":"replaced"`, `"_owner":"{alice_id}"`, `"_id":"{note_a}"`, `"_created_at":{"$date":"`},
				notContent:  []string{`"done"`, `"tags"`},
				wantEvents:  []string{"doc_updated"},
			},
			{
				name: "put accepts the server's fields sent back unchanged", method: "PUT", path: "/api/db/notes/{note_a}", token: "alice",
				body:        `{"_id":"{note_a}","_owner":"{alice_id}","title":"again"}`,
				wantStatus:  http.StatusOK,
				wantContent: []string{`"title":"again"`},
				wantEvents:  []string{"doc_updated"},
			},
			{
				name: "the stored document is the replacement", method: "GET", path: "/api/db/notes/{note_a}", token: "alice",
				wantStatus: http.StatusOK, wantContent: []string{`"title":"again"`}, notContent: []string{"replaced", "tags"},
			},
			{
				name: "a $set key is refused", method: "POST", path: "/api/db/notes", token: "alice",
				body:        `{"$set":{"x":1}}`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`"code":"invalid_document"`, `$set`},
			},
			{
				name: "a nested $ key is refused", method: "POST", path: "/api/db/notes", token: "alice",
				body:        `{"a":{"$gt":1}}`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`"code":"invalid_document"`, `a.$gt`},
			},
			{
				name: "a dotted key is refused", method: "POST", path: "/api/db/notes", token: "alice",
				body:        `{"a.b":1}`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`"code":"invalid_document"`, `may not contain \".\"`},
			},
			{
				name: "reserved _ fields are refused", method: "POST", path: "/api/db/notes", token: "alice",
				body:        `{"_role":"admin"}`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`{"error":{"code":"invalid_document","message":"field _role: names starting with _ are reserved"}}`},
			},
			{
				name: "the owner is the server's to set", method: "POST", path: "/api/db/notes", token: "alice",
				body:        `{"_owner":"{bob_id}"}`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`{"error":{"code":"invalid_document","message":"field _owner is set by the server"}}`},
			},
			{
				name: "a body that is not an object", method: "POST", path: "/api/db/notes", token: "alice",
				body:        `[1,2]`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`"code":"invalid_document"`, `expected a JSON object`},
			},
			{
				name: "malformed JSON", method: "POST", path: "/api/db/notes", token: "alice",
				body:        `{"title":`,
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`{"error":{"code":"invalid_json","message":"request body is not valid JSON"}}`},
			},
			{
				name: "count, fields and sort", method: "GET", token: "alice",
				path:        "/api/db/notes?count=true&fields=title&sort=" + q("-_created_at,title"),
				wantStatus:  http.StatusOK,
				wantContent: []string{`"total":1`, `"title":"again"`, `"_id":"{note_a}"`},
				notContent:  []string{`"_owner"`},
			},
			{
				name: "sort as JSON", method: "GET", path: "/api/db/notes?sort=" + q(`{"title":1,"_created_at":-1}`), token: "alice",
				wantStatus: http.StatusOK, wantContent: []string{`"{note_a}"`},
			},
			{
				name: "sort direction other than 1 or -1", method: "GET", path: "/api/db/notes?sort=" + q(`{"title":2}`), token: "alice",
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`{"error":{"code":"invalid_query","message":"sort: title must be 1 or -1"}}`},
			},
			{
				name: "limit is capped", method: "GET", path: "/api/db/notes?limit=5000", token: "alice",
				wantStatus: http.StatusOK, wantContent: []string{`"limit":1000`},
			},
			{
				name: "limit 0", method: "GET", path: "/api/db/notes?limit=0", token: "alice",
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`{"error":{"code":"invalid_input","message":"limit must be a whole number from 1 to 1000"}}`},
			},
			{
				name: "negative skip", method: "GET", path: "/api/db/notes?skip=-1", token: "alice",
				wantStatus: http.StatusBadRequest, wantContent: []string{`skip must be a whole number`},
			},
			{
				name: "skip past the end", method: "GET", path: "/api/db/notes?skip=1", token: "alice",
				wantStatus: http.StatusOK, wantContent: []string{`"items":[]`},
			},
			{
				name: "filter by id string", method: "GET", path: "/api/db/notes?filter=" + q(`{"_id":"{note_a}"}`), token: "alice",
				wantStatus: http.StatusOK, wantContent: []string{`"_id":"{note_a}"`},
			},
			{
				name: "filter with operators", method: "GET", token: "alice",
				path:       "/api/db/notes?filter=" + q(`{"title":{"$in":["again","other"]},"missing":{"$exists":false}}`),
				wantStatus: http.StatusOK, wantContent: []string{`"_id":"{note_a}"`},
			},
			{
				name: "$where in a filter", method: "GET", path: "/api/db/notes?filter=" + q(`{"$where":"this.title == 'x'"}`), token: "alice",
				wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_query"`, `$where`},
			},
			{
				name: "$function in a filter", method: "GET", token: "alice",
				path:       "/api/db/notes?filter=" + q(`{"$function":{"body":"return true","args":[],"lang":"js"}}`),
				wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_query"`, `$function`},
			},
			{
				name: "$expr in a filter", method: "GET", path: "/api/db/notes?filter=" + q(`{"$expr":{"$eq":["$title","x"]}}`), token: "alice",
				wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_query"`, `$expr`},
			},
			{
				name: "an unknown operator", method: "GET", path: "/api/db/notes?filter=" + q(`{"title":{"$regexx":"a"}}`), token: "alice",
				wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_query"`, `$regexx`},
			},
			{
				name: "a filter that is not JSON", method: "GET", path: "/api/db/notes?filter=" + q(`{title:1}`), token: "alice",
				wantStatus:  http.StatusBadRequest,
				wantContent: []string{`{"error":{"code":"invalid_query","message":"filter is not valid JSON"}}`},
			},
			{
				name: "alice deletes hers", method: "DELETE", path: "/api/db/notes/{note_a}", token: "alice",
				wantStatus: http.StatusNoContent, wantEvents: []string{"doc_deleted"},
				after: func(t *testing.T, res response, vars map[string]string) {
					ev := ts.lastEvent(t, "doc_deleted")
					if doc, _ := ev["doc"].(bson.M); ev["id"] != vars["note_a"] || doc["title"] != "again" {
						t.Errorf("doc_deleted = %v", ev)
					}
				},
			},
			{
				name: "gone", method: "GET", path: "/api/db/notes/{note_a}", token: "alice",
				wantStatus: http.StatusNotFound,
			},
			{
				name: "an id that was never", method: "GET", path: "/api/db/notes/not-an-id", token: "alice",
				wantStatus: http.StatusNotFound,
			},
		})
	})

	t.Run("system collections", func(t *testing.T) {
		var scenarios []scenario
		for _, col := range []string{"_users", "_sessions", "_events", "_meta"} {
			for _, m := range []struct{ method, suffix, body string }{
				{"GET", "", ""}, {"POST", "", `{"email":"evil@example.com"}`}, {"GET", "/x", ""}, {"DELETE", "/x", ""},
			} {
				scenarios = append(scenarios, scenario{
					name: m.method + " " + col + m.suffix, method: m.method, path: "/api/db/" + col + m.suffix, body: m.body, token: "alice",
					wantStatus:  http.StatusNotFound,
					wantContent: []string{`"code":"not_found"`},
					notContent:  []string{"alice@example.com", "password"},
				})
			}
		}
		scenarios = append(scenarios, scenario{
			name: "an invalid collection name", method: "GET", path: "/api/db/bad$name", token: "alice",
			wantStatus: http.StatusBadRequest, wantContent: []string{`"code":"invalid_name"`},
		})
		runScenarios(t, ts, vars, scenarios)
	})

	t.Run("public read, owner write", func(t *testing.T) {
		runScenarios(t, ts, vars, []scenario{
			{
				name: "anonymous cannot create", method: "POST", path: "/api/db/posts", body: `{"t":1}`,
				wantStatus: http.StatusUnauthorized,
			},
			{
				name: "alice posts", method: "POST", path: "/api/db/posts", token: "alice", body: `{"title":"hello"}`,
				wantStatus: http.StatusCreated, wantEvents: []string{"doc_created"}, after: rememberID("post"),
			},
			{
				name: "anonymous reads it", method: "GET", path: "/api/db/posts/{post}",
				wantStatus: http.StatusOK, wantContent: []string{`"title":"hello"`},
			},
			{
				name: "bob lists it", method: "GET", path: "/api/db/posts", token: "bob",
				wantStatus: http.StatusOK, wantContent: []string{`"{post}"`},
			},
			{
				name: "bob cannot change it", method: "PATCH", path: "/api/db/posts/{post}", token: "bob", body: `{"title":"mine"}`,
				wantStatus: http.StatusNotFound,
			},
			{
				name: "bob cannot delete it", method: "DELETE", path: "/api/db/posts/{post}", token: "bob",
				wantStatus: http.StatusNotFound,
			},
		})
	})

	t.Run("authenticated", func(t *testing.T) {
		runScenarios(t, ts, vars, []scenario{
			{
				name: "anonymous cannot read", method: "GET", path: "/api/db/board",
				wantStatus: http.StatusUnauthorized,
			},
			{
				name: "bob pins", method: "POST", path: "/api/db/board", token: "bob", body: `{"msg":"hi"}`,
				wantStatus: http.StatusCreated, wantContent: []string{`"_owner":"{bob_id}"`}, wantEvents: []string{"doc_created"},
				after: rememberID("pin"),
			},
			{
				name: "alice reads it", method: "GET", path: "/api/db/board/{pin}", token: "alice",
				wantStatus: http.StatusOK,
			},
			{
				name: "alice edits it", method: "PATCH", path: "/api/db/board/{pin}", token: "alice", body: `{"msg":"hello"}`,
				wantStatus: http.StatusOK, wantContent: []string{`"msg":"hello"`, `"_owner":"{bob_id}"`}, wantEvents: []string{"doc_updated"},
			},
			{
				name: "alice replaces it, bob stays owner", method: "PUT", path: "/api/db/board/{pin}", token: "alice", body: `{"msg":"hey"}`,
				wantStatus: http.StatusOK, wantContent: []string{`"_owner":"{bob_id}"`}, wantEvents: []string{"doc_updated"},
			},
			{
				name: "alice deletes it", method: "DELETE", path: "/api/db/board/{pin}", token: "alice",
				wantStatus: http.StatusNoContent, wantEvents: []string{"doc_deleted"},
			},
		})
	})

	t.Run("public", func(t *testing.T) {
		runScenarios(t, ts, vars, []scenario{
			{
				name: "anonymous signs", method: "POST", path: "/api/db/guestbook", body: `{"msg":"was here"}`,
				wantStatus: http.StatusCreated, notContent: []string{"_owner"}, wantEvents: []string{"doc_created"},
				after: func(t *testing.T, res response, vars map[string]string) {
					rememberID("entry")(t, res, vars)
					if user := ts.lastEvent(t, "doc_created")["user"]; user != nil {
						t.Errorf("doc_created user = %v, want null", user)
					}
				},
			},
			{
				name: "anonymous reads", method: "GET", path: "/api/db/guestbook",
				wantStatus: http.StatusOK, wantContent: []string{`"{entry}"`},
			},
			{
				name: "anonymous edits", method: "PATCH", path: "/api/db/guestbook/{entry}", body: `{"msg":"still here"}`,
				wantStatus: http.StatusOK, wantContent: []string{`"still here"`}, wantEvents: []string{"doc_updated"},
			},
		})
	})

	t.Run("none", func(t *testing.T) {
		runScenarios(t, ts, vars, []scenario{
			{
				name: "no reading", method: "GET", path: "/api/db/vault", token: "alice",
				wantStatus:  http.StatusForbidden,
				wantContent: []string{`{"error":{"code":"forbidden","message":"not allowed"}}`},
			},
			{
				name: "no writing", method: "POST", path: "/api/db/vault", token: "alice", body: `{"x":1}`,
				wantStatus: http.StatusForbidden,
			},
			{
				name: "not even anonymously", method: "GET", path: "/api/db/vault/x",
				wantStatus: http.StatusForbidden,
			},
		})
	})

	t.Run("unlisted collections are owner-only", func(t *testing.T) {
		runScenarios(t, ts, vars, []scenario{
			{
				name: "alice creates", method: "POST", path: "/api/db/misc", token: "alice", body: `{"x":1}`,
				wantStatus: http.StatusCreated, wantEvents: []string{"doc_created"}, after: rememberID("misc"),
			},
			{
				name: "bob cannot see it", method: "GET", path: "/api/db/misc/{misc}", token: "bob",
				wantStatus: http.StatusNotFound,
			},
		})
	})

	t.Run("unique index from config", func(t *testing.T) {
		runScenarios(t, ts, vars, []scenario{
			{
				name: "first slug", method: "POST", path: "/api/db/slugs", token: "alice", body: `{"slug":"hello"}`,
				wantStatus: http.StatusCreated, wantEvents: []string{"doc_created"},
			},
			{
				name: "same slug", method: "POST", path: "/api/db/slugs", token: "bob", body: `{"slug":"hello"}`,
				wantStatus: http.StatusConflict, wantContent: []string{`"code":"conflict"`},
			},
		})
	})

	t.Run("dates", func(t *testing.T) { dateScenarios(t, ts, vars) })

	if strings.Contains(ts.logs.String(), "level=ERROR") {
		t.Errorf("the server logged errors:\n%s", ts.logs.String())
	}
}
