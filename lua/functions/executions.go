package functions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/moonbase-dev/moonbase/db"
)

// Identities of an execution record besides a user's id: whose rights
// the run's data calls had.
const (
	IdentitySystem    = "system"    // full rights: event, schedule and admin runs
	IdentityAnonymous = "anonymous" // a caller with no user: public collections only
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
	Identity   string    `json:"identity,omitempty"`
	Event      string    `json:"event,omitempty"`
	EventID    string    `json:"event_id,omitempty"`
	Attempt    int       `json:"attempt,omitempty"`
	// Input is what the run was given (see RunRecord.Input), absent when
	// the record does not hold it: InputCut then says it was over
	// MaxInputBytes, and InputPreview holds the start of its JSON text.
	Input        any    `json:"input,omitempty"`
	InputCut     bool   `json:"input_cut,omitempty"`
	InputBytes   int64  `json:"input_bytes,omitempty"`
	InputPreview string `json:"input_preview,omitempty"`
}

// MaxInputBytes caps the input an execution record keeps, counted as its
// BSON encoding. A larger input is recorded as the first MaxInputBytes of
// its JSON text, marked cut, and cannot be run again from the record.
const MaxInputBytes = 64 << 10

// Execution records are written in batches, not one database write per
// run: the writer flushes every flushEvery, or at flushSize records, and on
// Shutdown. A crash (not a graceful shutdown) can lose the records of the
// last flushEvery; it never loses user data. If the store falls
// bufferSize records behind, new records are dropped (and counted in a
// warning) rather than slow the runs down.
//
// One flush writes one _executions document per function, a pack of its
// runs: {_id, function, started_at, runs: [run, …]}. The pack's _id is the
// greatest execution id among its runs and its started_at the latest start,
// so the (function, started_at) index orders packs as their newest runs,
// the retention sweep (by started_at) deletes a pack once all its runs are
// old, and `_id > id` still finds every pack holding a run recorded after
// id. A run inside keeps its own _id and the fields of executionDoc. A pack
// stays under maxPackBytes (a run larger than that has a pack of its own),
// far below MongoDB's 16 MB document limit.
const (
	flushEvery   = 100 * time.Millisecond
	flushSize    = 256
	bufferSize   = 8192
	maxPackBytes = 1 << 20
)

// MaxExecutions caps the records one Executions call returns.
const MaxExecutions = 1000

// Executions returns a function's most recent execution records, newest
// first (limit ≤ 0 means 50). Records still buffered are written first, so
// a run that has returned is always listed.
func (s *Store) Executions(ctx context.Context, name string, limit int) ([]Execution, error) {
	return s.executions(ctx, bson.M{"function": name}, name, primitive.NilObjectID, limit, nil)
}

// ExecutionQuery narrows a function's execution records: only those with
// this status and trigger (empty: any), recorded after the run with
// execution id After (empty: any), or older than the run with execution
// id Before in the list's order (a page after the one that ended with
// it). After and Before do not go together.
type ExecutionQuery struct {
	Status  string
	Trigger string
	After   string
	Before  string
	Limit   int
}

// recordLag bounds how long after its start a run's record can land in a
// pack, beyond the function's timeout: the writer's flush and a slow
// insert. Paging with Before reads the packs written up to the cursor
// run's start plus max_timeout plus recordLag, the only ones that can
// hold runs older than it besides those written before it started.
const recordLag = time.Minute

// QueryExecutions is Executions narrowed by q: the q.Limit newest
// matching records. Records are filtered as they are read, so a rare
// status may read many packs; the retention sweep bounds how many there
// are. An After that is not an execution id is ErrInvalidExecutionID.
func (s *Store) QueryExecutions(ctx context.Context, name string, q ExecutionQuery) ([]Execution, error) {
	filter, after := bson.M{"function": name}, primitive.NilObjectID
	if q.Before != "" {
		if q.After != "" {
			return nil, fmt.Errorf("%w: give after or before, not both", ErrInvalidExecutionID)
		}
		cur, err := s.Execution(ctx, name, q.Before)
		if err != nil {
			return nil, err
		}
		// The list's order is by start, then id, both descending.
		older := func(e Execution) bool {
			if c := e.StartedAt.Compare(cur.StartedAt); c != 0 {
				return c < 0
			}
			return e.ID < cur.ID
		}
		match := older
		if q.Status != "" || q.Trigger != "" {
			match = func(e Execution) bool {
				return older(e) && (q.Status == "" || e.Status == q.Status) && (q.Trigger == "" || e.Trigger == q.Trigger)
			}
		}
		filter["started_at"] = bson.M{"$lte": cur.StartedAt.Add(s.cfg.MaxTimeout + recordLag)}
		return s.executions(ctx, filter, name, after, q.Limit, match)
	}
	if q.After != "" {
		oid, err := primitive.ObjectIDFromHex(q.After)
		if err != nil {
			return nil, fmt.Errorf("%w: %q", ErrInvalidExecutionID, q.After)
		}
		filter["_id"], after = bson.M{"$gt": oid}, oid
	}
	var match func(Execution) bool
	if q.Status != "" || q.Trigger != "" {
		match = func(e Execution) bool {
			return (q.Status == "" || e.Status == q.Status) && (q.Trigger == "" || e.Trigger == q.Trigger)
		}
	}
	return s.executions(ctx, filter, name, after, q.Limit, match)
}

// Execution returns the record of one run of function name: id not an
// execution id is ErrInvalidExecutionID, no such run of that function
// ErrExecutionNotFound. A pack holds runs no newer than its _id and
// started_at, which narrows the packs read to those written since the run.
func (s *Store) Execution(ctx context.Context, name, id string) (Execution, error) {
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		return Execution{}, fmt.Errorf("%w: %q", ErrInvalidExecutionID, id)
	}
	if err := s.execs.flush(ctx); err != nil {
		return Execution{}, err
	}
	c := s.store.C(db.Executions)
	since := oid.Timestamp().UTC()
	docs, err := c.Find(ctx, bson.M{"function": name, "started_at": bson.M{"$gte": since}, "_id": bson.M{"$gte": oid}, "runs._id": oid}, &db.FindOptions{Limit: 1})
	if err != nil {
		return Execution{}, fmt.Errorf("execution %s of function %q: %w", id, name, err)
	}
	if len(docs) == 1 {
		runs, _ := docs[0]["runs"].(bson.A)
		for _, run := range runs {
			if m, ok := run.(bson.M); ok && m["_id"] == oid {
				e := executionFromDoc(m)
				e.Function = name
				return e, nil
			}
		}
	}
	// A run recorded before packs is a document of its own.
	d, err := c.FindOne(ctx, bson.M{"_id": oid, "function": name}, nil)
	if errors.Is(err, db.ErrNotFound) {
		return Execution{}, fmt.Errorf("%w: function %q has no run %s", ErrExecutionNotFound, name, id)
	}
	if err != nil {
		return Execution{}, fmt.Errorf("execution %s of function %q: %w", id, name, err)
	}
	if _, packed := d["runs"]; packed {
		return Execution{}, fmt.Errorf("%w: function %q has no run %s", ErrExecutionNotFound, name, id)
	}
	return executionFromDoc(d), nil
}

// ExecutionsAfter is Executions limited to the runs recorded after the one
// with execution id afterID (what `moonbase functions logs --follow` polls
// for). An afterID that is not an execution id is ErrInvalidExecutionID.
func (s *Store) ExecutionsAfter(ctx context.Context, name, afterID string, limit int) ([]Execution, error) {
	oid, err := primitive.ObjectIDFromHex(afterID)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrInvalidExecutionID, afterID)
	}
	return s.executions(ctx, bson.M{"function": name, "_id": bson.M{"$gt": oid}}, name, oid, limit, nil)
}

// executions reads the documents matching filter newest first, a page at a
// time, and keeps the limit newest runs (after the id after, unless it is
// nil). A document is a pack or, as written before packs, a single run.
// Runs are recorded as they end, so a pack can hold a run older than some
// in the next pack; the reading stops only once the limit-th newest run
// kept started after every pack still unread. match, when set, keeps only
// the runs it accepts.
func (s *Store) executions(ctx context.Context, filter bson.M, name string, after primitive.ObjectID, limit int, match func(Execution) bool) ([]Execution, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxExecutions)
	if err := s.execs.flush(ctx); err != nil {
		return nil, err
	}
	c := s.store.C(db.Executions)
	var out []Execution
	// A pack written while the pages are read shifts them by one; the
	// runs seen are not listed twice.
	seen := make(map[string]struct{})
	keep := func(d bson.M, function string) {
		e := executionFromDoc(d)
		if function != "" {
			e.Function = function
		}
		if _, dup := seen[e.ID]; dup {
			return
		}
		if match != nil && !match(e) {
			return
		}
		if !after.IsZero() {
			id, ok := d["_id"].(primitive.ObjectID)
			if !ok || bytes.Compare(id[:], after[:]) <= 0 {
				return
			}
		}
		seen[e.ID] = struct{}{}
		out = append(out, e)
	}
	newestFirst := bson.D{{Key: "started_at", Value: -1}, {Key: "_id", Value: -1}}
	for skip, page := int64(0), int64(min(limit, 8)); ; {
		docs, err := c.Find(ctx, filter, &db.FindOptions{Sort: newestFirst, Skip: skip, Limit: page})
		if err != nil {
			return nil, fmt.Errorf("executions of function %q: %w", name, err)
		}
		for _, d := range docs {
			runs, packed := d["runs"].(bson.A)
			if !packed {
				keep(d, "")
				continue
			}
			for _, run := range runs {
				if m, ok := run.(bson.M); ok {
					keep(m, str(d["function"]))
				}
			}
		}
		sortNewestFirst(out)
		if len(out) > limit {
			out = out[:limit]
		}
		if int64(len(docs)) < page {
			break
		}
		if len(out) == limit && out[limit-1].StartedAt.After(db.TimeOf(docs[len(docs)-1]["started_at"])) {
			break
		}
		skip += page
		page = min(2*page, 128)
	}
	if out == nil {
		out = []Execution{}
	}
	return out, nil
}

// sortNewestFirst orders records as the _executions index does: by start,
// then by id, both descending.
func sortNewestFirst(es []Execution) {
	slices.SortFunc(es, func(a, b Execution) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

// execRecord is one run's record on its way to the writer: the run's
// document, encoded, and what its pack needs to know of it.
type execRecord struct {
	id       primitive.ObjectID
	function string
	started  int64 // milliseconds since the epoch, as a BSON date keeps it
	raw      bsoncore.Document
}

// RunRecord is what the runtime tells of a run that ended, for its
// execution record.
type RunRecord struct {
	ID        primitive.ObjectID
	Function  string
	Version   int64
	Trigger   string
	Start     time.Time
	Duration  time.Duration
	Status    string // StatusOK, StatusError or StatusTimeout
	Error     string // the error's text, for a failed run
	Line      int    // the Lua line of the error, 0 when unknown
	Traceback string
	Logs      []LogLine
	User      string // the id of ctx.user, if any
	// Identity is whose rights the data calls had: IdentitySystem, a
	// user's id, or IdentityAnonymous.
	Identity string
	Event    string
	EventID  string
	Attempt  int
	// Input is what the run was given, as the handler's first argument
	// (an http run's request as the map {method, path, url, query,
	// headers, body}, its headers already redacted); nil records none.
	Input any
}

// LogLine is one line a run printed or logged.
type LogLine struct {
	At      time.Time `json:"at"`
	Level   string    `json:"level"` // "print", "info", "warn", "error"
	Message string    `json:"message"`
}

// Record queues the record of a run for the batching writer; it never
// blocks (see bufferSize for what happens when the store falls behind).
func (s *Store) Record(rec RunRecord) { s.execs.record(executionDoc(rec)) }

// executionDoc encodes the record of a run as it is kept in a pack:
// {_id, version, trigger, started_at, duration_ms, status, error, line,
// traceback, logs: [{at, level, message}], user, identity, event, event_id,
// attempt},
// the optional fields left out when empty. It appends the BSON directly,
// which costs a fraction of marshalling a map.
func executionDoc(rec RunRecord) execRecord {
	id, errText, line, traceback := rec.ID, rec.Error, rec.Line, rec.Traceback
	size := 160 + len(errText) + len(traceback)
	for _, l := range rec.Logs {
		size += 48 + len(l.Level) + len(l.Message)
	}
	started := rec.Start.UnixMilli()
	idx, b := bsoncore.AppendDocumentStart(make([]byte, 0, size))
	b = bsoncore.AppendObjectIDElement(b, "_id", id)
	b = bsoncore.AppendInt64Element(b, "version", rec.Version)
	b = bsoncore.AppendStringElement(b, "trigger", rec.Trigger)
	b = bsoncore.AppendDateTimeElement(b, "started_at", started)
	b = bsoncore.AppendDoubleElement(b, "duration_ms", float64(rec.Duration.Microseconds())/1000)
	b = bsoncore.AppendStringElement(b, "status", rec.Status)
	b = appendOptString(b, "error", errText)
	if line > 0 {
		b = bsoncore.AppendInt64Element(b, "line", int64(line))
	}
	b = appendOptString(b, "traceback", traceback)
	if len(rec.Logs) > 0 {
		var logs int32
		logs, b = bsoncore.AppendArrayElementStart(b, "logs")
		for i, l := range rec.Logs {
			var li int32
			li, b = bsoncore.AppendDocumentStart(appendIndexKey(b, byte(bson.TypeEmbeddedDocument), i))
			b = bsoncore.AppendDateTimeElement(b, "at", l.At.UnixMilli())
			b = bsoncore.AppendStringElement(b, "level", l.Level)
			b = bsoncore.AppendStringElement(b, "message", l.Message)
			b, _ = bsoncore.AppendDocumentEnd(b, li)
		}
		b, _ = bsoncore.AppendArrayEnd(b, logs)
	}
	b = appendOptString(b, "user", rec.User)
	b = appendOptString(b, "identity", rec.Identity)
	b = appendOptString(b, "event", rec.Event)
	b = appendOptString(b, "event_id", rec.EventID)
	if rec.Attempt > 0 {
		b = bsoncore.AppendInt64Element(b, "attempt", int64(rec.Attempt))
	}
	if rec.Input != nil {
		b = appendInput(b, rec.Input)
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return execRecord{id: id, function: rec.Function, started: started, raw: b}
}

// appendInput keeps a run's input: whole as "input" when its encoding
// fits MaxInputBytes, else the start of its JSON text as "input_preview"
// with "input_cut" and its size in "input_bytes". An input BSON cannot
// hold (it came from Go, not from a request) is left out.
func appendInput(b []byte, input any) []byte {
	t, data, err := bson.MarshalValue(input)
	if err != nil {
		return b
	}
	if len(data) <= MaxInputBytes {
		return bsoncore.AppendValueElement(b, "input", bsoncore.Value{Type: t, Data: data})
	}
	text := bsoncore.Value{Type: t, Data: data}.String()
	if len(text) > MaxInputBytes {
		// Cut between characters, not inside one.
		n := MaxInputBytes
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text = text[:n]
	}
	b = bsoncore.AppendBooleanElement(b, "input_cut", true)
	b = bsoncore.AppendInt64Element(b, "input_bytes", int64(len(data)))
	return appendOptString(b, "input_preview", text)
}

func appendOptString(b []byte, key, val string) []byte {
	if val == "" {
		return b
	}
	// The store keeps only UTF-8, and an error may quote any bytes.
	return bsoncore.AppendStringElement(b, key, strings.ToValidUTF8(val, "\uFFFD"))
}

// appendIndexKey starts the element of an array at index i: its type byte
// and its key, the index in decimal.
func appendIndexKey(b []byte, t byte, i int) []byte {
	b = append(b, t)
	b = strconv.AppendInt(b, int64(i), 10)
	return append(b, 0)
}

// executionFromDoc reads a run's record: a run of a pack (whose function
// the caller fills in) or a document written before packs.
func executionFromDoc(d bson.M) Execution {
	e := Execution{
		Function:     str(d["function"]),
		Version:      db.Int64Of(d["version"]),
		Trigger:      str(d["trigger"]),
		StartedAt:    db.TimeOf(d["started_at"]),
		Status:       str(d["status"]),
		Error:        str(d["error"]),
		Line:         int(db.Int64Of(d["line"])),
		Traceback:    str(d["traceback"]),
		User:         str(d["user"]),
		Identity:     str(d["identity"]),
		Event:        str(d["event"]),
		EventID:      str(d["event_id"]),
		Attempt:      int(db.Int64Of(d["attempt"])),
		Logs:         []LogLine{},
		Input:        d["input"],
		InputCut:     d["input_cut"] == true,
		InputBytes:   db.Int64Of(d["input_bytes"]),
		InputPreview: str(d["input_preview"]),
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
		e.DurationMs = float64(db.Int64Of(d["duration_ms"]))
	}
	if ls, ok := d["logs"].(bson.A); ok {
		for _, l := range ls {
			m, _ := l.(bson.M)
			e.Logs = append(e.Logs, LogLine{At: db.TimeOf(m["at"]), Level: str(m["level"]), Message: str(m["message"])})
		}
	}
	return e
}

// execPack gathers the runs of one function for one pack document.
type execPack struct {
	function string
	runs     []byte // the runs array being built: its length, then an element per run
	n        int
	newest   int64 // the latest start, in milliseconds
	last     primitive.ObjectID
}

// fits reports whether rec can join the pack without taking it over
// maxPackBytes; an empty pack takes any record.
func (p *execPack) fits(rec execRecord) bool {
	return p.n == 0 || len(p.runs)+len(rec.raw)+16 <= maxPackBytes
}

func (p *execPack) add(rec execRecord) {
	p.runs = appendIndexKey(p.runs, byte(bson.TypeEmbeddedDocument), p.n)
	p.runs = append(p.runs, rec.raw...)
	if p.n == 0 || rec.started > p.newest {
		p.newest = rec.started
	}
	if bytes.Compare(rec.id[:], p.last[:]) > 0 {
		p.last = rec.id
	}
	p.n++
}

// doc is the pack's _executions document.
func (p *execPack) doc() bson.M {
	runs, _ := bsoncore.AppendArrayEnd(p.runs, 0)
	return bson.M{
		"_id":        p.last,
		"function":   p.function,
		"started_at": time.UnixMilli(p.newest).UTC(),
		"runs":       bson.RawValue{Type: bson.TypeArray, Value: runs},
	}
}

// packer sorts the records of one flush into packs by function. The
// buffers of written packs are used again, so a steady stream of records
// does not grow new ones at every flush.
type packer struct {
	open    map[string]*execPack // the pack each function's records join
	packs   []*execPack          // every pack of the flush, open or full
	records int                  // records gathered
	spare   [][]byte
}

// Buffers kept for reuse: at most spareBuffers, of at most spareBytes.
const (
	spareBuffers = 16
	spareBytes   = 256 << 10
)

func (k *packer) add(rec execRecord) {
	p := k.open[rec.function]
	if p == nil || !p.fits(rec) {
		var buf []byte
		if n := len(k.spare); n > 0 {
			buf, k.spare = k.spare[n-1][:0], k.spare[:n-1]
		}
		_, buf = bsoncore.AppendArrayStart(buf)
		p = &execPack{function: rec.function, runs: buf}
		k.open[rec.function] = p
		k.packs = append(k.packs, p)
	}
	p.add(rec)
	k.records++
}

// docs returns the documents of every pack; they hold the packs' buffers
// until reset.
func (k *packer) docs() []bson.M {
	docs := make([]bson.M, len(k.packs))
	for i, p := range k.packs {
		docs[i] = p.doc()
	}
	return docs
}

// reset empties the packer once its documents are written.
func (k *packer) reset() {
	for _, p := range k.packs {
		if len(k.spare) < spareBuffers && cap(p.runs) <= spareBytes {
			k.spare = append(k.spare, p.runs)
		}
	}
	clear(k.open)
	clear(k.packs)
	k.packs, k.records = k.packs[:0], 0
}

// execWriter batches execution records into packs, written with one
// InsertMany per flush.
type execWriter struct {
	store   db.Store
	log     *slog.Logger
	in      chan execRecord
	flushes chan chan error
	stop    chan context.Context
	done    chan error
	// full wakes the writer when flushSize records are queued; the rest
	// of the time records queue without waking it (see loop).
	full    chan struct{}
	dropped atomic.Int64
	closed  atomic.Bool
}

func newExecWriter(store db.Store, log *slog.Logger) *execWriter {
	w := &execWriter{
		store:   store,
		log:     log,
		in:      make(chan execRecord, bufferSize),
		flushes: make(chan chan error),
		stop:    make(chan context.Context),
		done:    make(chan error, 1),
		full:    make(chan struct{}, 1),
	}
	go w.loop()
	return w
}

// record queues one record; it never blocks.
func (w *execWriter) record(rec execRecord) {
	if w.closed.Load() {
		w.dropped.Add(1)
		return
	}
	select {
	case w.in <- rec:
		if len(w.in) >= flushSize {
			select {
			case w.full <- struct{}{}:
			default:
			}
		}
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
	packs := packer{open: make(map[string]*execPack)}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	write := func(ctx context.Context) error {
		if packs.records == 0 {
			return nil
		}
		err := w.insert(ctx, packs.docs(), packs.records)
		packs.reset()
		if armed {
			timer.Stop()
			armed = false
		}
		return err
	}
	drain := func() { // what is queued now; later records wait their turn
		for n := len(w.in); n > 0; n-- {
			packs.add(<-w.in)
		}
	}
	// Idle, the writer waits for a record; the first one arms the timer,
	// and the writer then leaves the next ones in the queue until the
	// timer fires or flushSize are queued. Taking each as it came woke the
	// writer's goroutine once per run.
	for {
		var next <-chan execRecord
		if !armed {
			next = w.in
		}
		select {
		case rec := <-next:
			packs.add(rec)
			timer.Reset(flushEvery)
			armed = true
		case <-timer.C:
			armed = false
			drain()
			write(context.Background())
		case <-w.full:
			drain()
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

// insert writes the packs of one flush, holding records runs; a failure is
// logged and the packs dropped, so a database outage cannot pile records
// up in memory.
func (w *execWriter) insert(ctx context.Context, docs []bson.M, records int) error {
	if n := w.dropped.Swap(0); n > 0 {
		w.log.Warn("dropped function execution records: the database fell behind", "records", n)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := w.store.C(db.Executions).InsertMany(ctx, docs); err != nil {
		w.log.Error("write function execution records", "records", records, "error", err)
		return fmt.Errorf("write execution records: %w", err)
	}
	return nil
}
