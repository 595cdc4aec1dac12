package webhooks

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
)

// TestInboundLogBatches records requests from many goroutines at once:
// every entry is stored exactly once, a read right after recording sees
// what was recorded, and Close writes what is still queued.
func TestInboundLogBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ctx := context.Background()
	const writers, each = 16, 100
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				in := Inbound{ID: fmt.Sprintf("in_%02d_%05d", w, i), Function: "hook", Method: "POST", URL: "http://127.0.0.1/functions/hook",
					Headers: map[string]string{"authorization": "Bearer secret"}, Body: "{}", ReceivedAt: time.Now(), Status: 200}
				if _, err := e.svc.RecordInbound(ctx, in); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A read writes the queue first.
	got, err := e.svc.InboundRequest(ctx, "in_15_00000")
	if err != nil || got.Headers["authorization"] != Redacted {
		t.Fatalf("a recorded request read back: %+v, %v", got, err)
	}
	if n, err := e.store.C(db.Inbound).Count(ctx, nil); err != nil || n != writers*each {
		t.Fatalf("%d entries stored (%v), want %d", n, err, writers*each)
	}

	// Entries queued when the service closes are written by Close, and
	// one recorded after it is written at once.
	for i := range 10 {
		if _, err := e.svc.RecordInbound(ctx, Inbound{ID: fmt.Sprintf("late_%d", i), Function: "hook", ReceivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordInbound(ctx, Inbound{ID: "after_close", Function: "hook", ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.store.C(db.Inbound).Count(ctx, nil); err != nil || n != writers*each+11 {
		t.Fatalf("%d entries stored after Close (%v), want %d", n, err, writers*each+11)
	}
}

// TestInboundLogFullQueue holds the writer while more entries arrive than
// the queue takes: the ones past it are written by their callers at once,
// none is dropped, and the queued ones follow when the writer resumes.
func TestInboundLogFullQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ctx := context.Background()
	l := e.svc.inbound
	l.writeMu.Lock() // a write in progress that does not end
	const over = 5
	for i := range inboundQueueSize + over {
		if _, err := e.svc.RecordInbound(ctx, Inbound{ID: fmt.Sprintf("in_%05d", i), Function: "hook", ReceivedAt: time.Now()}); err != nil {
			l.writeMu.Unlock()
			t.Fatal(err)
		}
	}
	n, err := e.store.C(db.Inbound).Count(ctx, nil)
	l.writeMu.Unlock()
	if err != nil || n != over {
		t.Fatalf("%d entries stored while the writer was held (%v), want the %d past the queue", n, err, over)
	}
	if err := l.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := e.store.C(db.Inbound).Count(ctx, nil); err != nil || n != inboundQueueSize+over {
		t.Fatalf("%d entries stored (%v), want %d", n, err, inboundQueueSize+over)
	}
}
