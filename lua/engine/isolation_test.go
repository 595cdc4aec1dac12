package engine

import (
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// TestHTTPInputOrderIsTheRequests checks that the order pairs gives the
// names of a run's headers and query parameters is its own request's,
// never one an earlier run's request left on the state: a state is
// shared by every function, and the order would tell a function which
// headers (a token's name, say) another user's request carried.
func TestHTTPInputOrderIsTheRequests(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{PoolSize: 1}, Deps{})
	names := `function handle(input)
  local h, q = {}, {}
  for k in pairs(input.headers) do h[#h+1] = k end
  for k in pairs(input.query) do q[#q+1] = k end
  return {table.concat(h, ","), table.concat(q, ",")}
end`
	earlier := &testRequest{method: "GET", path: "/a",
		headers: [][2]string{{"x-secret-token", "s"}, {"host", "a"}},
		query:   [][2]string{{"reset", "r"}, {"page", "1"}}}
	if _, err := runSource(t, r, `function handle(input) return input.method end`, earlier, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	probe := &testRequest{method: "GET", path: "/b",
		headers: [][2]string{{"host", "b"}, {"x-secret-token", "guess"}, {"accept", "*/*"}},
		query:   [][2]string{{"page", "2"}, {"reset", "x"}}}
	for range 2 {
		res, err := runSource(t, r, names, probe, RunOptions{})
		want := bson.A{"host,x-secret-token,accept", "page,reset"}
		if err != nil || !reflect.DeepEqual(res.Value, want) {
			t.Fatalf("got %#v %v, want %#v", res.Value, err, want)
		}
	}
}
