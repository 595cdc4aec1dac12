package events

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db/embedded"
)

// benchQueue is an unstarted queue over a fresh embedded store, with a
// kind that does nothing, and backlog pending jobs due now.
func benchQueue(b *testing.B, backlog int) *Queue {
	b.Helper()
	store, err := embedded.Open(embedded.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close(context.Background()) })
	q, err := NewQueue(testConfig(), Deps{Store: store, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	q.Register("noop", func(context.Context, Job) error { return nil })
	for range backlog {
		if _, err := q.Enqueue(context.Background(), "noop", nil, EnqueueOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return q
}

// The benchmarks report cpu-ns/op, the process's processor time per
// operation, beside ns/op: on a machine shared with other work the wall
// time says more about the neighbours than about the queue.

// cpuTime is the processor time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs op like b.Loop and reports cpu-ns/op.
func loop(b *testing.B, op func()) {
	b.Helper()
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		op()
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(max(n, 1)), "cpu-ns/op")
}

// BenchmarkJobLifecycle enqueues, claims and finishes one job per
// operation, with a steady backlog of 1,000 due jobs: the store work of
// one job, without its handler.
func BenchmarkJobLifecycle(b *testing.B) {
	q := benchQueue(b, 1000)
	ctx := context.Background()
	loop(b, func() {
		if _, err := q.Enqueue(ctx, "noop", nil, EnqueueOptions{}); err != nil {
			b.Fatal(err)
		}
		c, err := q.claim(false)
		if err != nil || c == nil {
			b.Fatalf("claim = %v, %v", c, err)
		}
		q.finish(c, nil, storeTime(q.now()))
	})
}

// BenchmarkList lists the first job of each status with 4,000 pending
// jobs and 1,000 done ones.
func BenchmarkList(b *testing.B) {
	q := benchQueue(b, 5000)
	for range 1000 {
		c, err := q.claim(false)
		if err != nil || c == nil {
			b.Fatalf("claim = %v, %v", c, err)
		}
		q.finish(c, nil, storeTime(q.now()))
	}
	if n, _ := q.jobs.Count(context.Background(), nil); n != 5000 {
		b.Fatalf("%d jobs", n)
	}
	for _, status := range []string{StatusPending, StatusDone, StatusRunning, ""} {
		name := status
		if name == "" {
			name = "all"
		}
		b.Run(name, func(b *testing.B) {
			loop(b, func() {
				jobs, err := q.List(context.Background(), status, 1)
				if err != nil || (status != StatusRunning && len(jobs) != 1) {
					b.Fatalf("List(%q) = %d jobs, %v", status, len(jobs), err)
				}
			})
		})
	}
}
