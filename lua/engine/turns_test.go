package engine

import (
	"context"
	"errors"
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

// A loop inside a coroutine looks at its run too: with the watchdog's
// goroutine stopped, nothing but the run's own looks can end it at its
// deadline, whether the coroutine came from coroutine.wrap or from
// coroutine.create.
func TestCoroutinesLookAtTheirRun(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{Timeout: 300 * time.Millisecond}, Deps{})
	r.watch.close()
	t.Cleanup(func() {
		// Had a run escaped, shutting down cancels it rather than wait.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r.Shutdown(ctx)
	})
	for name, src := range map[string]string{
		"wrap":   `function handle() coroutine.wrap(function() while true do end end)() end`,
		"create": `function handle() local co = coroutine.create(function() while true do end end) return coroutine.resume(co) end`,
		"nested": `function handle() coroutine.wrap(function() coroutine.wrap(function() while true do end end)() end)() end`,
	} {
		done := make(chan error, 1)
		go func() {
			_, err := runSource(t, r, src, nil, RunOptions{})
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrTimeout) {
				t.Errorf("%s: %v, want ErrTimeout", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the run in a coroutine was not stopped at its deadline", name)
		}
	}
}
