package functions

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TestExecutionKeepsItsInput: a record keeps its run's input as it was
// given, whatever its type, or, over MaxInputBytes, says it was cut with
// its size and the start of its text; an input BSON cannot hold is left
// out rather than failing the record.
func TestExecutionKeepsItsInput(t *testing.T) {
	t.Parallel()
	r := newTestStore(t, Deps{})
	ctx := context.Background()
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	big := strings.Repeat("é", MaxInputBytes) // 2 bytes each: twice the cap
	scenarios := []struct {
		name  string
		input any
		check func(t *testing.T, e Execution)
	}{
		{"a document", bson.M{"n": int64(7), "when": when, "list": bson.A{int64(1), "two"}}, func(t *testing.T, e Execution) {
			d, _ := e.Input.(bson.M)
			if d["n"] != int64(7) || !d["when"].(primitive.DateTime).Time().Equal(when) || len(d["list"].(bson.A)) != 2 || e.InputCut {
				t.Fatalf("input %#v, cut %v", e.Input, e.InputCut)
			}
		}},
		{"an array", bson.A{"a", int64(2)}, func(t *testing.T, e Execution) {
			if a, _ := e.Input.(bson.A); len(a) != 2 || a[0] != "a" {
				t.Fatalf("input %#v", e.Input)
			}
		}},
		{"a string", "hello", func(t *testing.T, e Execution) {
			if e.Input != "hello" {
				t.Fatalf("input %#v", e.Input)
			}
		}},
		{"an empty document", bson.M{}, func(t *testing.T, e Execution) {
			if d, ok := e.Input.(bson.M); !ok || len(d) != 0 {
				t.Fatalf("input %#v: want an empty document, told from none", e.Input)
			}
		}},
		{"none", nil, func(t *testing.T, e Execution) {
			if e.Input != nil || e.InputCut {
				t.Fatalf("input %#v, cut %v", e.Input, e.InputCut)
			}
		}},
		{"what BSON cannot hold", bson.M{"ch": make(chan int)}, func(t *testing.T, e Execution) {
			if e.Input != nil || e.InputCut || e.Status != StatusOK {
				t.Fatalf("input %#v, cut %v, status %s", e.Input, e.InputCut, e.Status)
			}
		}},
		{"over the cap", bson.M{"big": big}, func(t *testing.T, e Execution) {
			if e.Input != nil || !e.InputCut || e.InputBytes <= 2*MaxInputBytes || len(e.InputPreview) > MaxInputBytes ||
				!strings.HasPrefix(e.InputPreview, `{"big": "éé`) {
				t.Fatalf("cut %v, bytes %d, input %v, preview of %d bytes %.30q", e.InputCut, e.InputBytes, e.Input != nil, len(e.InputPreview), e.InputPreview)
			}
		}},
	}
	for i, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			id := primitive.NewObjectIDFromTimestamp(when.Add(time.Duration(i) * time.Second))
			r.Record(RunRecord{ID: id, Function: "keep", Version: 1, Trigger: TriggerInvoke, Start: when.Add(time.Duration(i) * time.Second),
				Duration: time.Millisecond, Status: StatusOK, Input: s.input})
			e, err := r.Execution(ctx, "keep", id.Hex())
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != id.Hex() || e.Function != "keep" {
				t.Fatalf("found %s of %s, want %s of keep", e.ID, e.Function, id.Hex())
			}
			s.check(t, e)
		})
	}
	errs := []struct {
		name, function, id string
		want               error
	}{
		{"not an id", "keep", "nope", ErrInvalidExecutionID},
		{"no such run", "keep", primitive.NewObjectID().Hex(), ErrExecutionNotFound},
	}
	for _, s := range errs {
		if _, err := r.Execution(ctx, s.function, s.id); !errors.Is(err, s.want) {
			t.Errorf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	// A run of another function is not found under this one.
	other := primitive.NewObjectIDFromTimestamp(when)
	r.Record(RunRecord{ID: other, Function: "other", Version: 1, Trigger: TriggerInvoke, Start: when, Status: StatusOK})
	if _, err := r.Execution(ctx, "keep", other.Hex()); !errors.Is(err, ErrExecutionNotFound) {
		t.Errorf("another function's run: %v, want ErrExecutionNotFound", err)
	}
}

// TestExecutionsBeforeFindsLateRecords: a run recorded long after it
// started lands in a pack with newer runs; the page before a run that
// started after it still lists it, in the order of starts.
func TestExecutionsBeforeFindsLateRecords(t *testing.T) {
	t.Parallel()
	r := newTestStore(t, Deps{})
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	rec := func(start time.Time) primitive.ObjectID {
		id := primitive.NewObjectIDFromTimestamp(start)
		r.Record(RunRecord{ID: id, Function: "f", Version: 1, Trigger: TriggerEvent, Start: start, Status: StatusOK})
		return id
	}
	b := rec(t0.Add(time.Second))
	c := rec(t0.Add(2 * time.Second))
	mustFlush(t, r)
	// a started first but ended last, in the same pack as d.
	a := rec(t0)
	d := rec(t0.Add(time.Minute))
	mustFlush(t, r)
	var got []string
	before := d.Hex()
	for range 5 {
		page, err := r.QueryExecutions(ctx, "f", ExecutionQuery{Before: before, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page[0].ID)
		before = page[0].ID
	}
	if want := []string{c.Hex(), b.Hex(), a.Hex()}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("pages before d: %v, want %v (c, b, then a recorded late)", got, want)
	}
	if _, err := r.QueryExecutions(ctx, "f", ExecutionQuery{Before: b.Hex(), After: a.Hex()}); !errors.Is(err, ErrInvalidExecutionID) {
		t.Fatalf("before and after: %v", err)
	}
}
