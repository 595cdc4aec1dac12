package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// The job queue's scenarios: a backlog drained by one or two servers, and
// events published while their jobs run.

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
