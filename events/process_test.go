package events

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// The helper process is this test binary run again with these variables:
// it opens the embedded store in helperDir and runs a queue on it until
// its stdin closes.
const (
	helperMode = "MOONBASE_EVENTS_HELPER"
	helperDir  = "MOONBASE_EVENTS_DIR"
)

// countRun records one run of job in "runs", keyed by the job's key, and
// any second run of the same job in "dups".
func countRun(ctx context.Context, store db.Store, job Job) error {
	_, err := store.C("runs").InsertOne(ctx, bson.M{"_id": job.Key, "pid": os.Getpid(), "attempt": job.Attempt})
	if errors.Is(err, db.ErrDuplicateKey) {
		_, err = store.C("dups").InsertOne(ctx, bson.M{"job": job.Key, "pid": os.Getpid()})
	}
	return err
}

// TestHelperProcess is not a test: it is the second moonbase instance of
// the tests below.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperMode)
	if mode == "" {
		return
	}
	store, err := embedded.Open(embedded.Config{Dir: os.Getenv(helperDir)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg := testConfig()
	cfg.PollInterval = 10 * time.Millisecond
	// Three processes share the database's write lock, and SQLite's
	// waiters are not served in order: under the race detector a writer
	// can wait over a second. A lease must outlast such waits, or a
	// worker loses a job it is finishing (production leases are 30s).
	cfg.Lease = 10 * time.Second
	if mode == "hang" {
		// Short, so the killed process's jobs are reclaimed soon.
		cfg.Lease = time.Second
	}
	q, err := NewQueue(cfg, Deps{Store: store, Logger: quiet})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	switch mode {
	case "count":
		q.Register("count", func(ctx context.Context, job Job) error {
			// A job that takes a little while, like real work, so that
			// one process cannot drain the queue before the other looks.
			time.Sleep(20 * time.Millisecond)
			return countRun(ctx, store, job)
		})
	case "hang":
		// Runs never end: the process is killed in the middle of them.
		q.Register("count", func(ctx context.Context, job Job) error {
			_, _ = store.C("started").InsertOne(ctx, bson.M{"_id": job.Key})
			<-ctx.Done()
			return ctx.Err()
		})
	}
	if err := q.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = q.Shutdown(ctx)
	_ = store.Close(ctx)
	os.Exit(0)
}

// helper is a running helper process.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startHelper starts a helper process in mode on dir and waits until its
// queue runs.
func startHelper(t *testing.T, mode, dir string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperMode+"="+mode, helperDir+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin}
	t.Cleanup(func() {
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("helper process said %q, %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return h
}

// stop closes the helper's stdin and waits for a clean exit.
func (h *helper) stop(t *testing.T) {
	t.Helper()
	_ = h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v", err)
	}
}

// enqueueCounted enqueues n "count" jobs through a queue that is never
// started.
func enqueueCounted(t *testing.T, store db.Store, n int) {
	t.Helper()
	q, err := NewQueue(testConfig(), Deps{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	q.Register("count", func(context.Context, Job) error { return nil })
	for i := range n {
		if _, err := q.Enqueue(context.Background(), "count", bson.M{"n": i}, EnqueueOptions{Key: "job-" + strconv.Itoa(i)}); err != nil {
			t.Fatalf("enqueue %d: %v", i, err)
		}
	}
}

// Two moonbase processes sharing one embedded data dir run each of 200
// jobs exactly once between them.
func TestTwoProcessesRunEachJobOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	store := openStore(t, dir)
	a := startHelper(t, "count", dir)
	b := startHelper(t, "count", dir)
	const jobs = 200
	enqueueCounted(t, store, jobs)
	testsupport.WaitForWithin(t, 60*time.Second, "200 jobs done", func() bool {
		return count(t, store, db.Jobs, bson.M{"status": StatusDone}) == jobs
	})
	a.stop(t)
	b.stop(t)
	if n := count(t, store, "runs", nil); n != jobs {
		t.Fatalf("runs = %d, want %d", n, jobs)
	}
	if n := count(t, store, "dups", nil); n != 0 {
		dups, _ := store.C("dups").Find(context.Background(), nil, nil)
		for _, d := range dups {
			job, _ := store.C(db.Jobs).FindOne(context.Background(), bson.M{"key": d["job"]}, nil)
			run, _ := store.C("runs").FindOne(context.Background(), db.ByID(d["job"]), nil)
			t.Logf("dup %v: job %v first run %v", d, job, run)
		}
		t.Fatalf("%d jobs ran twice", n)
	}
	for _, h := range []*helper{a, b} {
		n := count(t, store, "runs", bson.M{"pid": h.cmd.Process.Pid})
		t.Logf("process %d ran %d jobs", h.cmd.Process.Pid, n)
		if n == 0 {
			t.Errorf("process %d ran no job: the test did not exercise two instances", h.cmd.Process.Pid)
		}
	}
}

// A process killed with SIGKILL while it runs jobs loses none: a new queue
// on the same data dir runs the pending ones and reclaims the running ones
// when their leases run out.
func TestKilledProcessLosesNoJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	store := openStore(t, dir)
	const jobs = 10
	h := startHelper(t, "hang", dir)
	enqueueCounted(t, store, jobs)
	workers := testConfig().Workers
	testsupport.WaitForWithin(t, 10*time.Second, "the helper to run its jobs", func() bool {
		return count(t, store, db.Jobs, bson.M{"status": StatusRunning}) == workers &&
			count(t, store, "started", nil) == workers
	})
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()

	cfg := testConfig()
	cfg.Lease = time.Second
	q := newQueue(t, cfg, Deps{Store: store}, func(q *Queue) {
		q.Register("count", func(ctx context.Context, job Job) error { return countRun(ctx, store, job) })
	})
	testsupport.WaitForWithin(t, 30*time.Second, "every job done", func() bool {
		return count(t, store, db.Jobs, bson.M{"status": StatusDone}) == jobs
	})
	if n := count(t, store, "runs", nil); n != jobs {
		t.Fatalf("runs = %d, want %d", n, jobs)
	}
	done, err := q.List(context.Background(), StatusDone, 0)
	if err != nil {
		t.Fatal(err)
	}
	reclaimed := 0
	for _, job := range done {
		if job.Attempt == 2 && len(job.Errors) == 1 && strings.HasPrefix(job.Errors[0].Error, "lease expired: worker ") {
			reclaimed++
		}
	}
	if reclaimed != workers {
		t.Fatalf("jobs reclaimed after the kill = %d, want %d", reclaimed, workers)
	}
}
