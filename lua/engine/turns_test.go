package engine

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// A long run that waits on a request gives its turn back: with one turn,
// run A computes until it is long (so it holds the turn), then waits on a
// request that is answered only once run B, which also computes until it
// is long, has called in. Had A kept its turn, B could never compute, and
// the two would wait for each other until their timeouts.
func TestALongRunWaitingGivesItsTurnBack(t *testing.T) {
	t.Parallel()
	holding := make(chan struct{})
	release := make(chan struct{})
	var held, released sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/hold":
			held.Do(func() { close(holding) })
			select {
			case <-release:
			case <-req.Context().Done():
			}
		case "/release":
			released.Do(func() { close(release) })
		}
	}))
	defer srv.Close()
	defer released.Do(func() { close(release) })
	r := newTestRegistry(t, Config{Timeout: 10 * time.Second, HTTP: HTTPConfig{AllowHosts: []string{"127.0.0.1"}}}, Deps{})
	r.turns = make(turns, 1)
	// Computing until the run is older than longRunAfter, whatever the
	// machine's speed, then calling.
	src := `function handle(input)
  local started = backend.now()
  while backend.now() - started < 0.05 do for i = 1, 1000 do end end
  backend.http.request(input.url)
  return "done"
end`
	var wg sync.WaitGroup
	var errA error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, errA = runSource(t, r, src, map[string]any{"url": srv.URL + "/hold"}, RunOptions{})
	}()
	select {
	case <-holding:
	case <-time.After(10 * time.Second):
		t.Fatal("run A never called")
	}
	res, err := runSource(t, r, src, map[string]any{"url": srv.URL + "/release"}, RunOptions{})
	if err != nil || res.Value != "done" {
		t.Fatalf("run B: %v %v", res.Value, err)
	}
	wg.Wait()
	if errA != nil {
		t.Fatalf("run A: %v", errA)
	}
}
