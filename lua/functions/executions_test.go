package functions

import (
	"bytes"
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// maxLogBytes is the runtime's default cap on a run's output.
const maxLogBytes = 64 << 10

// recordRun queues the record of a run of function that started at start.
func recordRun(r *Store, function string, start time.Time, logs ...LogLine) primitive.ObjectID {
	id := primitive.NewObjectIDFromTimestamp(start)
	r.Record(RunRecord{ID: id, Function: function, Version: 1, Trigger: TriggerEvent, Start: start, Duration: time.Millisecond, Status: StatusOK, Logs: logs})
	return id
}

func mustFlush(t testing.TB, r *Store) {
	t.Helper()
	if err := r.execs.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func ids(es []Execution) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// Runs of several functions, recorded as they end (so a long run lands in
// a later pack than shorter runs that started after it), are listed per
// function newest first, limit and after included, whatever the packs.
func TestExecutionsAcrossPacks(t *testing.T) {
	t.Parallel()
	r := newTestStore(t, Deps{})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	functions := []string{"a", "b", "c"}
	type rec struct {
		id    primitive.ObjectID
		start time.Time
	}
	want := map[string][]rec{}
	total := 0
	for i := range 600 {
		fn := functions[rng.IntN(len(functions))]
		// Mostly in order, some runs started long before they ended,
		// some in the same millisecond as another.
		start := base.Add(time.Duration(i) * time.Millisecond)
		if rng.IntN(5) == 0 {
			start = start.Add(-time.Duration(rng.IntN(300)) * time.Millisecond)
		}
		want[fn] = append(want[fn], rec{recordRun(r, fn, start), start})
		total++
		if rng.IntN(15) == 0 {
			mustFlush(t, r)
		}
	}
	mustFlush(t, r)
	packs, err := r.store.C(db.Executions).Count(ctx, nil)
	if err != nil || packs >= int64(total)/3 || packs < 30 {
		t.Fatalf("%d runs in %d documents (%v)", total, packs, err)
	}
	expect := func(fn string, after primitive.ObjectID, limit int) []string {
		var list []rec
		for _, x := range want[fn] {
			if bytes.Compare(x.id[:], after[:]) > 0 {
				list = append(list, x)
			}
		}
		slices.SortFunc(list, func(a, b rec) int {
			if c := b.start.Compare(a.start); c != 0 {
				return c
			}
			return bytes.Compare(b.id[:], a.id[:])
		})
		out := []string{}
		for _, x := range list[:min(limit, len(list))] {
			out = append(out, x.id.Hex())
		}
		return out
	}
	for _, fn := range functions {
		for _, limit := range []int{1, 2, 7, 50, 150, 1000} {
			got, err := r.Executions(ctx, fn, limit)
			if err != nil {
				t.Fatal(err)
			}
			if w := expect(fn, primitive.NilObjectID, limit); !slices.Equal(ids(got), w) {
				t.Fatalf("%s, limit %d:\n got %v\nwant %v", fn, limit, ids(got), w)
			}
			for _, e := range got {
				if e.Function != fn || e.Trigger != TriggerEvent || e.Status != StatusOK || e.Version != 1 || e.DurationMs != 1 || e.Logs == nil {
					t.Fatalf("record %+v", e)
				}
			}
		}
		for range 10 {
			after := want[fn][rng.IntN(len(want[fn]))].id
			for _, limit := range []int{3, 1000} {
				got, err := r.ExecutionsAfter(ctx, fn, after.Hex(), limit)
				if err != nil {
					t.Fatal(err)
				}
				if w := expect(fn, after, limit); !slices.Equal(ids(got), w) {
					t.Fatalf("%s after %s, limit %d:\n got %v\nwant %v", fn, after.Hex(), limit, ids(got), w)
				}
			}
		}
	}
	if got, err := r.Executions(ctx, "none", 10); err != nil || got == nil || len(got) != 0 {
		t.Errorf("a function never run: %#v %v", got, err)
	}
}

// A pack is one document per function and flush, named and dated by its
// newest run, so the retention sweep (by started_at) drops it once every
// run in it is old.
func TestExecutionPackDocument(t *testing.T) {
	t.Parallel()
	r := newTestStore(t, Deps{})
	ctx := context.Background()
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	first := recordRun(r, "f", base.Add(2*time.Second))
	second := recordRun(r, "f", base, LogLine{At: base, Level: "print", Message: "hi"})
	recordRun(r, "g", base)
	mustFlush(t, r)
	doc, err := r.store.C(db.Executions).FindOne(ctx, bson.M{"function": "f"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := max(first.Hex(), second.Hex())
	if id, _ := doc["_id"].(primitive.ObjectID); id.Hex() != last || !db.TimeOf(doc["started_at"]).Equal(base.Add(2*time.Second)) {
		t.Errorf("pack %v", doc)
	}
	runs, _ := doc["runs"].(bson.A)
	if len(runs) != 2 {
		t.Fatalf("runs %v", doc["runs"])
	}
	run, _ := runs[1].(bson.M)
	keys := slices.Sorted(maps.Keys(run))
	if !slices.Equal(keys, []string{"_id", "duration_ms", "logs", "started_at", "status", "trigger", "version"}) ||
		run["_id"] != second || run["version"] != int64(1) || run["trigger"] != "event" || !db.TimeOf(run["started_at"]).Equal(base) ||
		run["duration_ms"] != 1.0 || run["status"] != "ok" {
		t.Errorf("run %v", run)
	}
	if logs, _ := run["logs"].(bson.A); len(logs) != 1 {
		t.Errorf("logs %v", run["logs"])
	} else if l, _ := logs[0].(bson.M); !db.TimeOf(l["at"]).Equal(base) || l["level"] != "print" || l["message"] != "hi" {
		t.Errorf("log line %v", l)
	}
	if n, _ := r.store.C(db.Executions).Count(ctx, nil); n != 2 {
		t.Errorf("%d documents for 2 functions", n)
	}
}

// Records with large output split into packs under maxPackBytes, and all
// of them are still listed with their output.
func TestExecutionPacksSplitAtTheSizeCap(t *testing.T) {
	t.Parallel()
	r := newTestStore(t, Deps{})
	ctx := context.Background()
	base := time.Now()
	out := strings.Repeat("x", maxLogBytes)
	const n = 40
	for i := range n {
		recordRun(r, "loud", base.Add(time.Duration(i)*time.Millisecond), LogLine{At: base, Level: "print", Message: out})
	}
	mustFlush(t, r)
	docs, err := r.store.C(db.Executions).Find(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < n*maxLogBytes/maxPackBytes+1 {
		t.Errorf("%d runs of 64 KiB in %d documents", n, len(docs))
	}
	for _, d := range docs {
		if raw, err := bson.Marshal(d); err != nil || len(raw) > maxPackBytes {
			t.Errorf("a pack of %d bytes (%v)", len(raw), err)
		}
	}
	execs, err := r.Executions(ctx, "loud", 100)
	if err != nil || len(execs) != n {
		t.Fatalf("%d records (%v)", len(execs), err)
	}
	for _, e := range execs {
		if len(e.Logs) != 1 || e.Logs[0].Message != out {
			t.Fatalf("record %s lost its output", e.ID)
		}
	}
}

// A run whose record alone is larger than maxPackBytes is written in a
// pack of its own, whole, and the runs beside it are not held back.
func TestExecutionLargerThanAPackIsKeptWhole(t *testing.T) {
	t.Parallel()
	r := newTestStore(t, Deps{})
	ctx := context.Background()
	base := time.Now()
	huge := strings.Repeat("x", maxPackBytes)
	recordRun(r, "huge", base, LogLine{At: base, Level: "print", Message: "small"})
	recordRun(r, "huge", base.Add(time.Millisecond), LogLine{At: base, Level: "print", Message: huge})
	recordRun(r, "huge", base.Add(2*time.Millisecond), LogLine{At: base, Level: "print", Message: "small"})
	mustFlush(t, r)
	if n, _ := r.store.C(db.Executions).Count(ctx, nil); n != 3 {
		t.Errorf("3 runs, one over the pack size, in %d documents", n)
	}
	execs, err := r.Executions(ctx, "huge", 10)
	if err != nil || len(execs) != 3 {
		t.Fatalf("%d records (%v)", len(execs), err)
	}
	for i, want := range []string{"small", huge, "small"} {
		if e := execs[i]; len(e.Logs) != 1 || e.Logs[0].Message != want {
			t.Errorf("record %d kept %d log lines, want one of %d bytes", i, len(e.Logs), len(want))
		}
	}
}

// Records written one run per document, as before packs, are listed with
// the packs.
func TestExecutionsReadsSingleRunDocuments(t *testing.T) {
	t.Parallel()
	r := newTestStore(t, Deps{})
	ctx := context.Background()
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	oldID := primitive.NewObjectIDFromTimestamp(base.Add(time.Second))
	_, err := r.store.C(db.Executions).InsertOne(ctx, bson.M{
		"_id": oldID, "function": "f", "version": int64(3), "trigger": "invoke", "started_at": base.Add(time.Second),
		"duration_ms": 2.5, "status": "error", "error": "boom", "line": int64(4), "user": "u1",
		"logs": bson.A{bson.M{"at": base, "level": "warn", "message": "careful"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	before := recordRun(r, "f", base)
	after := recordRun(r, "f", base.Add(2*time.Second))
	got, err := r.Executions(ctx, "f", 10)
	if err != nil {
		t.Fatal(err)
	}
	if w := []string{after.Hex(), oldID.Hex(), before.Hex()}; !slices.Equal(ids(got), w) {
		t.Fatalf("got %v, want %v", ids(got), w)
	}
	if e := got[1]; e.Function != "f" || e.Version != 3 || e.Status != StatusError || e.Error != "boom" || e.Line != 4 || e.User != "u1" ||
		e.DurationMs != 2.5 || len(e.Logs) != 1 || e.Logs[0].Message != "careful" {
		t.Errorf("the single-run record: %+v", e)
	}
	if got, err := r.ExecutionsAfter(ctx, "f", before.Hex(), 10); err != nil || !slices.Equal(ids(got), []string{after.Hex(), oldID.Hex()}) {
		t.Errorf("after the first: %v %v", ids(got), err)
	}
}

// TestExecutionsAreWrittenWithoutAFlush checks that the writer writes
// queued records by itself, a few as well as a full queue.
func TestExecutionsAreWrittenWithoutAFlush(t *testing.T) {
	t.Parallel()
	r := newTestStore(t, Deps{})
	ctx := context.Background()
	runs := func() int64 {
		docs, err := r.store.C(db.Executions).Find(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, d := range docs {
			runs, _ := d["runs"].(bson.A)
			n += int64(len(runs))
		}
		return n
	}
	start := time.Now()
	for range 3 {
		recordRun(r, "few", start)
	}
	testsupport.WaitFor(t, "3 records written by the timer", func() bool { return runs() == 3 })
	for range flushSize {
		recordRun(r, "many", start)
	}
	testsupport.WaitFor(t, "a full queue written", func() bool { return runs() == 3+flushSize })
}
