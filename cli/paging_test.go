package cli

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestListsReadEveryPage: the admin API pages secrets 1,000 at a time at
// most, and `secrets list` follows next to the end, so every name is
// printed once, in order.
func TestListsReadEveryPage(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	const n = 1003
	putMany(t, cli, n, http.StatusNoContent, func(i int) (string, string) {
		return fmt.Sprintf("/api/admin/secrets/K%04d", i), `{"value":"v"}`
	})
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "K%04d\n", i)
	}
	if out := cli.ok("secrets", "list"); out != want.String() {
		t.Fatalf("secrets list printed %d lines, want %d, K0000 to K%04d in order", strings.Count(out, "\n"), n, n-1)
	}
	if out := cli.ok("secrets", "list", "--json"); strings.Count(out, `"K`) != n || !strings.Contains(out, `"next": ""`) {
		t.Fatalf("secrets list --json holds %d names, want %d", strings.Count(out, `"K`), n)
	}
}

// TestFunctionsListReadsEveryPage: the admin API pages functions 1,000 at
// a time at most, and `functions list` follows next to the end, so every
// function is printed once, in name order, and --json holds them all.
func TestFunctionsListReadsEveryPage(t *testing.T) {
	t.Parallel()
	cli := startMoonbase(t)
	const n = 1003
	putMany(t, cli, n, http.StatusCreated, func(i int) (string, string) {
		return fmt.Sprintf("/api/admin/functions/f%04d", i), `{"source":"function handle() return 1 end","triggers":[{"invoke":true}]}`
	})
	out := cli.ok("functions", "list")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != n+1 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("functions list printed %d lines, want a header and %d functions", len(lines), n)
	}
	for i, line := range lines[1:] {
		if name := strings.Fields(line)[0]; name != fmt.Sprintf("f%04d", i) {
			t.Fatalf("line %d names %s, want f%04d: every function once, by name", i+1, name, i)
		}
	}
	if js := cli.ok("functions", "list", "--json"); strings.Count(js, `"name": "f`) != n || !strings.Contains(js, `"next": ""`) {
		t.Fatalf("functions list --json holds %d functions, want %d", strings.Count(js, `"name": "f`), n)
	}
}

// putMany sends n admin PUTs, item i to the path and body of item(i),
// from four writers to keep the set-up short, and fails the test unless
// each is answered want.
func putMany(t *testing.T, cli adminCLI, n, want int, item func(i int) (path, body string)) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				path, body := item(i)
				req, _ := http.NewRequest(http.MethodPut, cli.url+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+cli.token)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				res.Body.Close()
				if res.StatusCode != want {
					errs <- fmt.Errorf("PUT %s: %d, want %d", path, res.StatusCode, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
