package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
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

// jobServers starts instances servers on one data directory.
func jobServers(env *Env, dir string, instances int) ([]*serverProc, error) {
	var procs []*serverProc
	for range instances {
		p, err := startServerProc(env, childSpec{Kind: childMoonbase, Dir: dir})
		if err != nil {
			stopAll(procs)
			return nil, err
		}
		procs = append(procs, p)
	}
	return procs, nil
}

func stopAll(procs []*serverProc) {
	for _, p := range procs {
		_ = p.stop()
	}
}

// instancesSuffix names a scenario's number of server processes.
func instancesSuffix(instances int) string {
	if instances == 1 {
		return ""
	}
	return fmt.Sprintf("-%d-instances", instances)
}

// measurePublishAndRun runs instances servers on one data directory,
// publishes events from jobPublishers connections (spread over the
// servers) for opts.Duration, waits until every job is done, and reads
// the jobs back from the store: ops are the jobs done, the time runs from
// the first publish to the last job finished, and the latencies are each
// job's from enqueued to finished.
func measurePublishAndRun(ctx context.Context, env *Env, opts RunOptions, instances int) (Result, error) {
	res := Result{Workers: jobPublishers}
	begin := time.Now()
	dir := filepath.Join(env.Dir, "events-publish"+instancesSuffix(instances))
	procs, err := jobServers(env, dir, instances)
	if err != nil {
		return res, err
	}
	defer stopAll(procs)
	token, err := signUp(procs[0].url)
	if err != nil {
		return res, err
	}
	if err := putFunction(procs[0].url, "noop", noopSource, `[{"event": "bench_job"}]`); err != nil {
		return res, err
	}
	if opts.Warmup > 0 {
		if _, err := publishEvents(ctx, procs, token, opts.Warmup, 0); err != nil {
			return res, err
		}
		if err := drain(ctx, procs); err != nil {
			return res, err
		}
	}
	res.Setup = time.Since(begin)
	w, err := openWindow(procs...)
	if err != nil {
		return res, err
	}
	start := time.Now()
	var pub loadResult
	err = profileDuring(procs[0], opts.CPUProfile, func() (err error) {
		if pub, err = publishEvents(ctx, procs, token, opts.Duration, opts.Ops); err != nil {
			return err
		}
		return drain(ctx, procs)
	})
	if werr := w.fill(&res); err == nil {
		err = werr
	}
	if err != nil {
		return res, err
	}
	if pub.errors > 0 {
		res.Errors, res.FirstErr = pub.errors, fmt.Errorf("publish: %w", pub.firstErr)
	}
	jobs, err := readJobs(ctx, dir)
	if err != nil {
		return res, err
	}
	var last time.Time
	var lat histogram
	for _, j := range jobs {
		if j.created.Before(start.Truncate(time.Millisecond)) {
			continue // the warm-up's
		}
		if !j.done {
			res.Errors++
			if res.FirstErr == nil {
				res.FirstErr = fmt.Errorf("job %s is %s", j.id, j.status)
			}
			continue
		}
		res.Ops++
		lat.record(j.finished.Sub(j.created))
		last = latest(last, j.finished)
	}
	res.Elapsed = last.Sub(start)
	res.P50, res.P99 = lat.quantile(0.50), lat.quantile(0.99)
	if published := pub.ops - pub.errors; res.Ops != published && res.FirstErr == nil {
		res.Errors++
		res.FirstErr = fmt.Errorf("%d events published, %d jobs done", published, res.Ops)
	}
	res.Name = fmt.Sprintf("events/embedded/publish-and-run%s (published %s events/s)",
		instancesSuffix(instances), thousands(float64(pub.ops-pub.errors)/pub.elapsed.Seconds()))
	return res, nil
}

// drainJobs is the backlog measureDrain enqueues (-n sets it).
const drainJobs = 4000

// measureDrain measures how fast instances servers on one data directory
// get through a backlog of jobs for a trivial function. The backlog is
// enqueued while they run, through the event bus of this process with a
// clock an hour ahead, so that no job is due; then one write makes every
// job due at once, and one event published to each server wakes its queue
// (a server's own enqueue does), so the instances start together instead
// of at their next poll. Ops are the jobs done (the backlog and the
// wake-up events'), timed from the first job's claim to the last one's
// end; the latencies are each job's run, from claimed to finished.
func measureDrain(ctx context.Context, env *Env, opts RunOptions, instances int) (Result, error) {
	res := Result{Workers: instances * events.DefaultWorkers}
	begin := time.Now()
	n := drainJobs
	if opts.Ops > 0 {
		n = int(opts.Ops)
	}
	dir := filepath.Join(env.Dir, "events-drain"+instancesSuffix(instances))
	procs, err := jobServers(env, dir, instances)
	if err != nil {
		return res, err
	}
	defer stopAll(procs)
	token, err := signUp(procs[0].url)
	if err != nil {
		return res, err
	}
	if err := putFunction(procs[0].url, "noop", noopSource, `[{"event": "bench_job"}]`); err != nil {
		return res, err
	}
	s, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		return res, err
	}
	defer s.Close(ctx)
	if err := enqueueBacklog(ctx, s, n); err != nil {
		return res, err
	}
	res.Setup = time.Since(begin)
	w, err := openWindow(procs...)
	if err != nil {
		return res, err
	}
	err = profileDuring(procs[0], opts.CPUProfile, func() error {
		due := bson.M{"$set": bson.M{"run_at": time.Now().UTC()}}
		if _, err := s.C(db.Jobs).UpdateMany(ctx, bson.M{"kind": events.KindFunction, "status": events.StatusPending}, due); err != nil {
			return err
		}
		for _, p := range procs {
			c := &rawConn{addr: hostOf(p.url)}
			err := c.do(loadTarget{Method: "POST", Path: "/api/events", Token: token, Status: http.StatusAccepted}, []byte(`{"name":"bench_job","data":{"k":-1}}`), `"id"`)
			c.close()
			if err != nil {
				return err
			}
		}
		return drain(ctx, procs)
	})
	if werr := w.fill(&res); err == nil {
		err = werr
	}
	if err != nil {
		return res, err
	}
	jobs, err := readJobs(ctx, dir)
	if err != nil {
		return res, err
	}
	var (
		first, last time.Time
		lat         histogram
		perWorker   = map[string]int{}
	)
	for _, j := range jobs {
		if !j.done {
			res.Errors++
			if res.FirstErr == nil {
				res.FirstErr = fmt.Errorf("job %s is %s", j.id, j.status)
			}
			continue
		}
		res.Ops++
		perWorker[j.worker]++
		lat.record(j.finished.Sub(j.started))
		last = latest(last, j.finished)
		if first.IsZero() || j.started.Before(first) {
			first = j.started
		}
	}
	if want := uint64(n + instances); res.Ops != want && res.FirstErr == nil {
		res.Errors++
		res.FirstErr = fmt.Errorf("%d jobs enqueued, %d done", want, res.Ops)
	}
	res.Elapsed = last.Sub(first)
	res.P50, res.P99 = lat.quantile(0.50), lat.quantile(0.99)
	if instances > 1 {
		split := make([]int, 0, len(perWorker))
		for _, c := range perWorker {
			split = append(split, c)
		}
		slices.Sort(split)
		res.Name = fmt.Sprintf("events/embedded/jobs%s (jobs per instance: %v)", instancesSuffix(instances), split)
	}
	return res, nil
}

// enqueueBacklog publishes n bench_job events through an event bus over
// s, with a queue that is never started and a clock an hour ahead: each
// event is recorded and its job enqueued as a server would, due in an
// hour.
func enqueueBacklog(ctx context.Context, s db.Store, n int) error {
	cfg := events.DefaultConfig()
	ahead := func() time.Time { return time.Now().Add(time.Hour) }
	q, err := events.NewQueue(cfg, events.Deps{Store: s, Runner: enqueueOnly{}, Now: ahead})
	if err != nil {
		return err
	}
	bus := events.NewBus(cfg, events.Deps{Store: s, Queue: q, Now: ahead})
	for i := range n {
		if _, err := bus.Publish(ctx, "bench_job", map[string]any{"k": i}); err != nil {
			return err
		}
	}
	return nil
}

// enqueueOnly is the function runner of a queue that only enqueues.
type enqueueOnly struct{}

func (enqueueOnly) RunFunction(context.Context, events.FunctionRun) error {
	return errors.New("this queue only enqueues")
}

// publishEvents publishes bench_job events from jobPublishers connections,
// connection i to server i mod len(procs), for d or exactly n events.
func publishEvents(ctx context.Context, procs []*serverProc, token string, d time.Duration, n uint64) (loadResult, error) {
	var (
		stop     atomic.Bool
		claimed  atomic.Uint64
		sent     atomic.Uint64
		errCount atomic.Uint64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	t := loadTarget{Method: "POST", Path: "/api/events", Token: token, Status: http.StatusAccepted}
	start := time.Now()
	for i := range jobPublishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &rawConn{addr: hostOf(procs[i%len(procs)].url)}
			defer c.close()
			for !stop.Load() && ctx.Err() == nil {
				k := claimed.Add(1)
				if n > 0 && k > n {
					return
				}
				err := c.do(t, []byte(`{"name":"bench_job","data":{"k":`+strconv.FormatUint(k, 10)+`}}`), `"id"`)
				sent.Add(1)
				if err != nil {
					errCount.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			}
		}()
	}
	if n == 0 {
		timer := time.AfterFunc(d, func() { stop.Store(true) })
		defer timer.Stop()
	}
	wg.Wait()
	return loadResult{ops: sent.Load(), errors: errCount.Load(), firstErr: firstErr, elapsed: time.Since(start)}, ctx.Err()
}

// drainPoll is how often drain asks whether jobs are left.
const drainPoll = 100 * time.Millisecond

// drain waits until no server has a job running or pending.
func drain(ctx context.Context, procs []*serverProc) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		busy, err := jobsLeft(procs)
		if err != nil || !busy {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(drainPoll):
		}
	}
	return errors.New("jobs still pending or running after 5 minutes")
}

// jobsLeft reports whether a server lists a job running or pending. It
// asks for running jobs first: listing pending jobs costs a server time in
// proportion to how many there are, and while a backlog drains some job
// is always running.
func jobsLeft(procs []*serverProc) (bool, error) {
	for _, status := range []string{events.StatusRunning, events.StatusPending} {
		for _, p := range procs {
			b, err := callJSON(p.url, http.MethodGet, "/api/admin/jobs?limit=1&status="+status, benchAdminToken, "", http.StatusOK)
			if err != nil {
				return false, err
			}
			var list struct {
				Jobs []json.RawMessage `json:"jobs"`
			}
			if err := json.Unmarshal(b, &list); err != nil {
				return false, err
			}
			if len(list.Jobs) > 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// jobRecord is what the job scenarios read of a job.
type jobRecord struct {
	id, kind, status, worker   string
	done                       bool
	created, started, finished time.Time
}

// readJobs reads every function job from the store under dir (the store
// keeps milliseconds); jobs of other kinds, such as the retention sweep,
// are left out.
func readJobs(ctx context.Context, dir string) ([]jobRecord, error) {
	s, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		return nil, err
	}
	defer s.Close(ctx)
	docs, err := s.C(db.Jobs).Find(ctx, bson.M{"kind": events.KindFunction}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]jobRecord, len(docs))
	for i, d := range docs {
		j := jobRecord{status: fmt.Sprint(d["status"]), worker: fmt.Sprint(d["worker"]), id: fmt.Sprint(d["_id"])}
		j.done = j.status == events.StatusDone
		var ok [3]bool
		j.created, ok[0] = storedTime(d["created_at"])
		j.started, ok[1] = storedTime(d["started_at"])
		j.finished, ok[2] = storedTime(d["finished_at"])
		if j.done && ok != [3]bool{true, true, true} {
			return nil, fmt.Errorf("job %s: created_at %T, started_at %T, finished_at %T", j.id, d["created_at"], d["started_at"], d["finished_at"])
		}
		out[i] = j
	}
	return out, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// storedTime reads a date as a store returns it.
func storedTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case primitive.DateTime:
		return t.Time(), true
	case time.Time:
		return t, true
	}
	return time.Time{}, false
}
