package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/moonbase-dev/moonbase/events"
)

// Events and the job queue on the embedded store, the servers in processes
// of their own: how long an event takes to start its function, and how
// many trivial jobs one and two instances get through.

// pingSource notes when it starts, then tells the benchmark: the
// publisher's clock and the handler's are the same machine's.
const pingSource = `function handle(input, ctx)
  local started = backend.now():unixMs()
  backend.http.request{method = "POST", url = input.notify, json = {seq = input.seq, started = started}}
end`

// noopSource is the trivial handler whose jobs are counted.
const noopSource = `function handle(input, ctx) end`

// jobPublishers is how many connections publish events in the job
// scenarios.
const jobPublishers = 8

// latencyGap separates one measured event from the next, so each one is
// published to an idle queue.
const latencyGap = 5 * time.Millisecond

func eventScenarios() []Scenario {
	return []Scenario{
		{
			Name:    "events/embedded/latency",
			About:   "POST /api/events, then the subscribed function's start by its own clock (backend.now(), ms): one event in flight, 5 ms apart",
			Workers: 1,
			Measure: measureEventLatency,
		},
		{
			Name:    "events/embedded/jobs",
			About:   "a backlog of 4,000 jobs of a trivial function (fewer with -n), enqueued before the server starts: jobs done per second while it drains them",
			Workers: events.DefaultWorkers,
			Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
				return measureDrain(ctx, env, opts, 1)
			},
		},
		{
			Name:    "events/embedded/jobs-2-instances",
			About:   "the same backlog drained by two server processes on one data directory, counted while both run",
			Workers: 2 * events.DefaultWorkers,
			Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
				return measureDrain(ctx, env, opts, 2)
			},
		},
		{
			Name:    "events/embedded/publish-and-run",
			About:   "8 connections publish events (POST /api/events) for -duration, each running the trivial function; jobs done per second from the first publish to the last job",
			Workers: jobPublishers,
			Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
				return measurePublishAndRun(ctx, env, opts, 1)
			},
		},
		{
			Name:    "events/embedded/publish-and-run-2-instances",
			About:   "the same with two server processes on one data directory, each connection publishing to one of them",
			Workers: jobPublishers,
			Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
				return measurePublishAndRun(ctx, env, opts, 2)
			},
		},
	}
}

// measureEventLatency publishes events one at a time to a server of its
// own and waits for each one's function to report its start.
func measureEventLatency(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
	res := Result{Workers: 1}
	begin := time.Now()
	n := &notifier{waiting: map[int]chan int64{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	hs := &http.Server{Handler: n, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	notify := "http://" + ln.Addr().String() + "/started"

	p, err := startServerProc(env, childSpec{Kind: childMoonbase, Dir: filepath.Join(env.Dir, "events-latency"), AllowHosts: []string{"127.0.0.1"}})
	if err != nil {
		return res, err
	}
	defer p.stop()
	token, err := signUp(p.url)
	if err != nil {
		return res, err
	}
	if err := putFunction(p.url, "onPing", pingSource, `[{"event": "bench_ping"}]`); err != nil {
		return res, err
	}
	c := &rawConn{addr: hostOf(p.url)}
	defer c.close()
	seq := 0
	// ping publishes one event and returns how long its function took to
	// start: by the function's clock (whole milliseconds, so the middle of
	// the millisecond is taken) and by the arrival of its report.
	ping := func() (byClock, byReport time.Duration, err error) {
		seq++
		ch := n.expect(seq)
		sent := time.Now()
		body := fmt.Sprintf(`{"name":"bench_ping","data":{"seq":%d,"notify":%q}}`, seq, notify)
		if err := c.do(loadTarget{Method: "POST", Path: "/api/events", Token: token, Status: http.StatusAccepted}, []byte(body), `"id"`); err != nil {
			return 0, 0, err
		}
		select {
		case startedMs := <-ch:
			byReport = time.Since(sent)
			started := time.UnixMilli(startedMs).Add(time.Millisecond / 2)
			return max(started.Sub(sent), 0), byReport, nil
		case <-time.After(30 * time.Second):
			return 0, 0, fmt.Errorf("event %d: its function did not start within 30s", seq)
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		}
	}
	for start := time.Now(); time.Since(start) < opts.Warmup || seq < 3; {
		if _, _, err := ping(); err != nil {
			return res, err
		}
		time.Sleep(latencyGap)
	}
	res.Setup = time.Since(begin)
	w, err := openWindow(p)
	if err != nil {
		return res, err
	}
	var clock, report histogram
	start := time.Now()
	err = profileDuring(p, opts.CPUProfile, func() error {
		for ctx.Err() == nil {
			if (opts.Ops > 0 && res.Ops >= opts.Ops) || (opts.Ops == 0 && time.Since(start) >= opts.Duration) {
				return nil
			}
			byClock, byReport, err := ping()
			res.Ops++
			if err != nil {
				res.Errors++
				if res.FirstErr == nil {
					res.FirstErr = err
				}
				if errors.Is(err, context.Canceled) {
					return nil
				}
				continue
			}
			clock.record(byClock)
			report.record(byReport)
			time.Sleep(latencyGap)
		}
		return nil
	})
	res.Elapsed = time.Since(start)
	if werr := w.fill(&res); err == nil {
		err = werr
	}
	res.P50, res.P99 = clock.quantile(0.50), clock.quantile(0.99)
	res.Name = fmt.Sprintf("events/embedded/latency (report received: p50 %s, p99 %s)", latency(report.quantile(0.50)), latency(report.quantile(0.99)))
	return res, err
}

// notifier receives the reports of started functions: POST
// {seq, started} with started in Unix milliseconds.
type notifier struct {
	mu      sync.Mutex
	waiting map[int]chan int64
}

// expect returns the channel the report of event seq will arrive on.
func (n *notifier) expect(seq int) chan int64 {
	ch := make(chan int64, 1)
	n.mu.Lock()
	n.waiting[seq] = ch
	n.mu.Unlock()
	return ch
}

func (n *notifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var report struct {
		Seq     int   `json:"seq"`
		Started int64 `json:"started"`
	}
	if err := json.NewDecoder(r.Body).Decode(&report); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n.mu.Lock()
	ch, ok := n.waiting[report.Seq]
	delete(n.waiting, report.Seq)
	n.mu.Unlock()
	if ok {
		ch <- report.Started
	}
	w.WriteHeader(http.StatusNoContent)
}

// signUp registers the publishing user and returns its session token.
func signUp(base string) (string, error) {
	b, err := callJSON(base, http.MethodPost, "/api/auth/register", "", `{"email":"bench@example.com","password":"bench password"}`, http.StatusCreated)
	if err != nil {
		return "", err
	}
	var answer struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		return "", err
	}
	return answer.Token, nil
}
