package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// TestFunctionsListPages pages through 250 functions 100 at a time with
// after= and next, finds each once in name order, narrows by prefix,
// keeps answering the whole list when no limit is asked for, and refuses
// limits, cursors and prefixes that cannot be.
func TestFunctionsListPages(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	const n = 250
	var want []string
	for i := range n {
		name := fmt.Sprintf("fn-%03d", i)
		if i%5 == 0 {
			name = fmt.Sprintf("hook-%03d", i) // 50 hooks among the rest
		}
		ts.putFunction(t, name, `function handle() return 1 end`, `[{"invoke": true}]`)
		want = append(want, name)
	}
	slices.Sort(want)
	names := func(page map[string]any) []string {
		var out []string
		for _, f := range page["functions"].([]any) {
			fn := f.(map[string]any)
			if _, has := fn["source"]; has {
				t.Fatalf("the list carries %s's source", fn["name"])
			}
			out = append(out, fn["name"].(string))
		}
		return out
	}
	// pageAll follows next from the first page, limit at a time.
	pageAll := func(t *testing.T, query string, limit int) (got []string, pages int) {
		cursor := ""
		for pages < 20 {
			res := ts.do(t, "GET", fmt.Sprintf("/api/admin/functions?limit=%d&after=%s%s", limit, url.QueryEscape(cursor), query), "", testAdminToken)
			if res.status != http.StatusOK {
				t.Fatalf("page %d: %d %s", pages, res.status, res.body)
			}
			page := res.json(t)
			items := names(page)
			if len(items) > limit {
				t.Fatalf("page %d holds %d functions, over the limit %d", pages, len(items), limit)
			}
			got = append(got, items...)
			pages++
			next, _ := page["next"].(string)
			if len(items) == limit && next != items[limit-1] {
				t.Fatalf("a full page's next is %q, want its last name %q", next, items[limit-1])
			}
			if next == "" {
				return got, pages
			}
			cursor = next
		}
		t.Fatalf("still a next after %d pages", pages)
		return nil, 0
	}

	cases := []struct {
		name      string
		query     string
		limit     int
		want      []string
		wantPages int
	}{
		{"every function, 100 a page", "", 100, want, 3},
		{"every function, 50 a page", "", 50, want, 6}, // the fifth page is full, the sixth empty
		{"a prefix", "&prefix=hook-", 20, want[len(want)-50:], 3},
		{"a prefix a page holds whole", "&prefix=hook-1", 100, want[len(want)-30 : len(want)-10], 1},
		{"a prefix no name starts with", "&prefix=zzz", 10, nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, pages := pageAll(t, c.query, c.limit)
			if !slices.Equal(got, c.want) {
				t.Fatalf("paged:\n%v\nwant:\n%v", got, c.want)
			}
			if pages != c.wantPages {
				t.Fatalf("%d pages, want %d", pages, c.wantPages)
			}
		})
	}

	t.Run("without a limit, the whole list", func(t *testing.T) {
		page := ts.do(t, "GET", "/api/admin/functions", "", testAdminToken).json(t)
		if got := names(page); !slices.Equal(got, want) || page["next"] != "" {
			t.Fatalf("got %d functions and next %q, want all %d and \"\"", len(got), page["next"], n)
		}
	})
	t.Run("a cursor of a deleted function", func(t *testing.T) {
		// The cursor is a name, not a position: the page after a
		// function deleted since starts where it was.
		if res := ts.do(t, "DELETE", "/api/admin/functions/fn-001", "", testAdminToken); res.status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.status, res.body)
		}
		page := ts.do(t, "GET", "/api/admin/functions?limit=2&after=fn-001", "", testAdminToken).json(t)
		if got := names(page); !slices.Equal(got, []string{"fn-002", "fn-003"}) {
			t.Fatalf("after a deleted fn-001: %v", got)
		}
	})

	bad := []struct{ name, query string }{
		{"limit 0", "limit=0"},
		{"limit not a number", "limit=ten"},
		{"limit negative", "limit=-5"},
		{"limit over the cap", "limit=1001"},
		{"a cursor too long", "after=" + strings.Repeat("a", 300)},
		{"a cursor no function could have", "after=" + url.QueryEscape("no such/name")},
		{"a cursor starting with a digit", "limit=10&after=9lives"},
		{"a prefix no name could start with", "prefix=" + url.QueryEscape("a b")},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			res := ts.do(t, "GET", "/api/admin/functions?"+b.query, "", testAdminToken)
			if res.status != http.StatusBadRequest {
				t.Fatalf("%s: %d %s, want 400", b.query, res.status, res.body)
			}
			e, _ := res.json(t)["error"].(map[string]any)
			if e["code"] != "invalid_input" || e["message"] == "" {
				t.Fatalf("%s: error %v, want invalid_input with a message", b.query, e)
			}
		})
	}
}

// TestCollectionsListPages pages the collections by name with after= and
// next, and refuses a bad limit or cursor.
func TestCollectionsListPages(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	var made []string
	for i := range 7 {
		name := fmt.Sprintf("col%d", 6-i)
		if _, err := ts.Store().C(name).InsertOne(context.Background(), bson.M{"i": i}); err != nil {
			t.Fatal(err)
		}
		made = append(made, name)
	}
	whole := ts.do(t, "GET", "/api/admin/collections", "", testAdminToken).json(t)
	var want []string
	for _, c := range whole["collections"].([]any) {
		want = append(want, c.(map[string]any)["name"].(string))
	}
	for _, m := range made {
		if !slices.Contains(want, m) {
			t.Fatalf("the whole list %v lacks %s", want, m)
		}
	}
	if !slices.IsSorted(want) || whole["next"] != "" {
		t.Fatalf("the whole list %v (next %q) is not by name", want, whole["next"])
	}
	var got []string
	cursor := ""
	for pages := 0; pages < 20; pages++ {
		res := ts.do(t, "GET", "/api/admin/collections?limit=3&after="+url.QueryEscape(cursor), "", testAdminToken)
		if res.status != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, res.status, res.body)
		}
		page := res.json(t)
		items := page["collections"].([]any)
		if len(items) > 3 {
			t.Fatalf("page %d holds %d, over the limit", pages, len(items))
		}
		for _, c := range items {
			got = append(got, c.(map[string]any)["name"].(string))
		}
		if cursor, _ = page["next"].(string); cursor == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged three at a time:\n%v\nwant:\n%v", got, want)
	}
	for _, q := range []string{"limit=0", "limit=x", "limit=1001", "after=" + strings.Repeat("c", 300)} {
		res := ts.do(t, "GET", "/api/admin/collections?"+q, "", testAdminToken)
		if res.status != http.StatusBadRequest || !strings.Contains(res.body, `"code":"invalid_input"`) {
			t.Fatalf("%s: %d %s, want 400 invalid_input", q, res.status, res.body)
		}
	}
}
