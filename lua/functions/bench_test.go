package functions

import (
	"context"
	"log/slog"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// BenchmarkRecordExecution is what one execution record costs: records go
// through the batching writer, and the time includes writing them all.
// cpu-ns/op is the process's CPU time (user and system) per record, the
// figure that matters for a server under load; ns/op is wall time on
// however many cores were free.
func BenchmarkRecordExecution(b *testing.B) {
	warnings := &warnCounter{}
	r := newTestStore(b, Deps{Logger: slog.New(warnings)})
	rec := RunRecord{Function: "bench", Version: 1, Trigger: TriggerInvoke, Start: time.Now(), Duration: 150 * time.Microsecond, Status: StatusOK}
	flush := func() {
		if err := r.execs.flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	flush()
	cpu0 := cpuTime()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rec.ID = primitive.NewObjectID()
		r.Record(rec)
		if i%(bufferSize/4) == bufferSize/4-1 {
			flush() // let the writer catch up rather than measure dropped records
		}
	}
	flush()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	if warnings.n.Load() > 0 {
		b.Fatal("records were dropped")
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// warnCounter is a log handler that counts warnings and errors.
type warnCounter struct{ n atomic.Int64 }

func (w *warnCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnCounter) Handle(context.Context, slog.Record) error    { w.n.Add(1); return nil }
func (w *warnCounter) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnCounter) WithGroup(string) slog.Handler                { return w }
