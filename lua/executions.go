package lua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// Statuses of an execution record.
const (
	StatusOK      = "ok"
	StatusError   = "error"
	StatusTimeout = "timeout"
)

// Execution is the record of one run, as Executions returns it.
type Execution struct {
	ID         string    `json:"id"`
	Function   string    `json:"function"`
	Version    int64     `json:"version"`
	Trigger    string    `json:"trigger"`
	StartedAt  time.Time `json:"started_at"`
	DurationMs float64   `json:"duration_ms"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Line       int       `json:"line,omitempty"`
	Traceback  string    `json:"traceback,omitempty"`
	Logs       []LogLine `json:"logs"`
	User       string    `json:"user,omitempty"`
	Event      string    `json:"event,omitempty"`
	EventID    string    `json:"event_id,omitempty"`
	Attempt    int       `json:"attempt,omitempty"`
}

// Execution records are written in batches, not one database write per
// run: the writer flushes every flushEvery, or at flushSize records, and on
// Shutdown. A crash (not a graceful shutdown) can lose the records of the
// last flushEvery; it never loses user data. If the store falls
// bufferSize records behind, new records are dropped (and counted in a
// warning) rather than slow the runs down.
const (
	flushEvery = 100 * time.Millisecond
	flushSize  = 256
	bufferSize = 8192
)

// MaxExecutions caps the records one Executions call returns.
const MaxExecutions = 1000

// Executions returns a function's most recent execution records, newest
// first (limit ≤ 0 means 50). Records still buffered are written first, so
// a run that has returned is always listed.
func (r *Registry) Executions(ctx context.Context, name string, limit int) ([]Execution, error) {
	return r.executions(ctx, bson.M{"function": name}, name, limit)
}

// ExecutionsAfter is Executions limited to the runs recorded after the one
// with execution id afterID (what `moonbase functions logs --follow` polls
// for). An afterID that is not an execution id is ErrInvalidInput.
func (r *Registry) ExecutionsAfter(ctx context.Context, name, afterID string, limit int) ([]Execution, error) {
	oid, err := primitive.ObjectIDFromHex(afterID)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not an execution id", ErrInvalidInput, afterID)
	}
	return r.executions(ctx, bson.M{"function": name, "_id": bson.M{"$gt": oid}}, name, limit)
}

func (r *Registry) executions(ctx context.Context, filter bson.M, name string, limit int) ([]Execution, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxExecutions)
	if err := r.execs.flush(ctx); err != nil {
		return nil, err
	}
	docs, err := r.store.C(db.Executions).Find(ctx, filter, &db.FindOptions{
		Sort:  bson.D{{Key: "started_at", Value: -1}, {Key: "_id", Value: -1}},
		Limit: int64(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("executions of function %q: %w", name, err)
	}
	out := make([]Execution, len(docs))
	for i, d := range docs {
		out[i] = executionFromDoc(d)
	}
	return out, nil
}

// executionDoc is the _executions document of a run: {_id, function,
// version, trigger, started_at, duration_ms, status, error, line,
// traceback, logs: [{at, level, message}], user, event, event_id, attempt};
// the optional fields are left out when empty.
func executionDoc(id primitive.ObjectID, ru *run, start time.Time, res Result, err error) bson.M {
	doc := bson.M{
		"_id":         id,
		"function":    res.Function,
		"version":     res.Version,
		"trigger":     ru.opts.Trigger,
		"started_at":  start.UTC(),
		"duration_ms": float64(res.Duration.Microseconds()) / 1000,
		"status":      StatusOK,
	}
	if len(res.Logs) > 0 {
		logs := make(bson.A, len(res.Logs))
		for i, l := range res.Logs {
			logs[i] = bson.M{"at": l.At, "level": l.Level, "message": l.Message}
		}
		doc["logs"] = logs
	}
	if err != nil {
		doc["status"] = StatusError
		doc["error"] = err.Error()
		var re *RunError
		if errors.As(err, &re) {
			if re.Line > 0 {
				doc["line"] = int64(re.Line)
			}
			if re.Traceback != "" {
				doc["traceback"] = re.Traceback
			}
			if re.Kind == ErrTimeout {
				doc["status"] = StatusTimeout
			}
		}
	}
	for k, v := range map[string]string{"user": ru.userID, "event": ru.opts.Event, "event_id": ru.opts.ID} {
		if v != "" {
			doc[k] = v
		}
	}
	if ru.opts.Attempt > 0 {
		doc["attempt"] = int64(ru.opts.Attempt)
	}
	return doc
}

func executionFromDoc(d bson.M) Execution {
	e := Execution{
		Function:  str(d["function"]),
		Version:   int64Of(d["version"]),
		Trigger:   str(d["trigger"]),
		StartedAt: timeOf(d["started_at"]),
		Status:    str(d["status"]),
		Error:     str(d["error"]),
		Line:      int(int64Of(d["line"])),
		Traceback: str(d["traceback"]),
		User:      str(d["user"]),
		Event:     str(d["event"]),
		EventID:   str(d["event_id"]),
		Attempt:   int(int64Of(d["attempt"])),
		Logs:      []LogLine{},
	}
	switch id := d["_id"].(type) {
	case primitive.ObjectID:
		e.ID = id.Hex()
	case string:
		e.ID = id
	}
	if f, ok := d["duration_ms"].(float64); ok {
		e.DurationMs = f
	} else {
		e.DurationMs = float64(int64Of(d["duration_ms"]))
	}
	if ls, ok := d["logs"].(bson.A); ok {
		for _, l := range ls {
			m, _ := l.(bson.M)
			e.Logs = append(e.Logs, LogLine{At: timeOf(m["at"]), Level: str(m["level"]), Message: str(m["message"])})
		}
	}
	return e
}

// execWriter batches execution records into InsertMany calls.
type execWriter struct {
	store   db.Store
	log     *slog.Logger
	in      chan bson.M
	flushes chan chan error
	stop    chan context.Context
	done    chan error
	dropped atomic.Int64
	closed  atomic.Bool
}

func newExecWriter(store db.Store, log *slog.Logger) *execWriter {
	w := &execWriter{
		store:   store,
		log:     log,
		in:      make(chan bson.M, bufferSize),
		flushes: make(chan chan error),
		stop:    make(chan context.Context),
		done:    make(chan error, 1),
	}
	go w.loop()
	return w
}

// record queues one record; it never blocks.
func (w *execWriter) record(doc bson.M) {
	if w.closed.Load() {
		w.dropped.Add(1)
		return
	}
	select {
	case w.in <- doc:
	default:
		w.dropped.Add(1)
	}
}

// flush writes what is queued and waits for it.
func (w *execWriter) flush(ctx context.Context) error {
	if w.closed.Load() {
		return nil
	}
	ack := make(chan error, 1)
	select {
	case w.flushes <- ack:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ack:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close writes what is queued (bounded by ctx) and stops the writer.
func (w *execWriter) close(ctx context.Context) error {
	if w.closed.Swap(true) {
		return nil
	}
	w.stop <- ctx
	return <-w.done
}

func (w *execWriter) loop() {
	batch := make([]bson.M, 0, flushSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	write := func(ctx context.Context) error {
		if len(batch) == 0 {
			return nil
		}
		err := w.insert(ctx, batch)
		batch = batch[:0]
		if armed {
			timer.Stop()
			armed = false
		}
		return err
	}
	drain := func() {
		for {
			select {
			case doc := <-w.in:
				batch = append(batch, doc)
			default:
				return
			}
		}
	}
	for {
		select {
		case doc := <-w.in:
			batch = append(batch, doc)
			if len(batch) >= flushSize {
				write(context.Background())
			} else if !armed {
				timer.Reset(flushEvery)
				armed = true
			}
		case <-timer.C:
			armed = false
			write(context.Background())
		case ack := <-w.flushes:
			drain()
			ack <- write(context.Background())
		case ctx := <-w.stop:
			drain()
			w.done <- write(ctx)
			return
		}
	}
}

// insert writes one batch; a failure is logged and the batch dropped, so a
// database outage cannot pile records up in memory.
func (w *execWriter) insert(ctx context.Context, batch []bson.M) error {
	if n := w.dropped.Swap(0); n > 0 {
		w.log.Warn("dropped function execution records: the database fell behind", "records", n)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	docs := make([]bson.M, len(batch))
	copy(docs, batch)
	if _, err := w.store.C(db.Executions).InsertMany(ctx, docs); err != nil {
		w.log.Error("write function execution records", "records", len(docs), "error", err)
		return fmt.Errorf("write execution records: %w", err)
	}
	return nil
}
