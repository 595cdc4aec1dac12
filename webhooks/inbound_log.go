package webhooks

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// The raw-request log is written in batches, not one database write per
// request: a request's entry is queued and a writer stores what is queued
// every inboundFlushEvery, or at once when inboundFlushSize entries wait,
// and on Close. Reads of the log write what is queued first, so a request
// is listed as soon as it is answered. A crash (not a graceful shutdown)
// can lose the entries of the last inboundFlushEvery; never a function's
// own writes. With inboundQueueSize entries waiting (the database has
// fallen behind), a request writes its own entry before it is answered,
// so the log slows requests down rather than drop entries or grow memory.
const (
	inboundFlushEvery = 50 * time.Millisecond
	inboundFlushSize  = 256
	inboundQueueSize  = 4096
)

// inboundLog queues and writes the raw-request log.
type inboundLog struct {
	store db.Store
	log   *slog.Logger

	mu     sync.Mutex
	queue  []bson.M
	closed bool

	writeMu sync.Mutex // one write at a time, so entries keep their order
	wake    chan struct{}
	full    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newInboundLog(store db.Store, log *slog.Logger) *inboundLog {
	l := &inboundLog{
		store: store, log: log,
		wake: make(chan struct{}, 1), full: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go l.loop()
	return l
}

// add queues one entry, or writes it at once when the queue is full or
// the log closed.
func (l *inboundLog) add(ctx context.Context, doc bson.M) error {
	l.mu.Lock()
	if l.closed || len(l.queue) >= inboundQueueSize {
		l.mu.Unlock()
		return l.insert(ctx, []bson.M{doc})
	}
	l.queue = append(l.queue, doc)
	n := len(l.queue)
	l.mu.Unlock()
	switch n {
	case 1:
		signal(l.wake)
	case inboundFlushSize:
		signal(l.full)
	}
	return nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// flush writes what is queued and waits for it.
func (l *inboundLog) flush(ctx context.Context) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	docs := l.queue
	l.queue = nil
	l.mu.Unlock()
	if len(docs) == 0 {
		return nil
	}
	return l.insert(ctx, docs)
}

// close writes what is queued (bounded by ctx) and stops the writer;
// entries added later are written one by one.
func (l *inboundLog) close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	select {
	case <-l.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return l.flush(ctx)
}

// loop waits for a first entry, lets a batch gather for
// inboundFlushEvery (or until it is full), and writes it.
func (l *inboundLog) loop() {
	defer close(l.done)
	for {
		select {
		case <-l.wake:
		case <-l.stop:
			return
		}
		t := time.NewTimer(inboundFlushEvery)
		select {
		case <-t.C:
		case <-l.full:
		case <-l.stop:
		}
		t.Stop()
		if err := l.flush(context.Background()); err != nil {
			l.log.Error("write the inbound request log", "error", err)
		}
	}
}

// insert writes entries in one call, bounded in time; on failure the
// entries are dropped (and the error returned), so a database outage
// cannot pile them up in memory.
func (l *inboundLog) insert(ctx context.Context, docs []bson.M) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := l.store.C(db.Inbound).InsertMany(ctx, docs); err != nil {
		return err
	}
	return nil
}
