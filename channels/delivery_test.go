package channels

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// gatedSink stores messages as the server's sink does, except that the
// write of an offset in hold waits until the test releases it, telling
// the test when it started waiting; after the write it fails with
// failAfter when that is set (the answer of a write that did store is
// lost), and instead of writing it fails with failBefore when that is
// set (the write is refused).
type gatedSink struct {
	*sinkRecorder
	hold       map[int64]chan struct{}
	waiting    chan int64
	failBefore error
	failAfter  error
}

func newGatedSink(store db.Store, offsets ...int64) *gatedSink {
	g := &gatedSink{sinkRecorder: &sinkRecorder{store: store}, hold: map[int64]chan struct{}{}, waiting: make(chan int64, len(offsets))}
	for _, o := range offsets {
		g.hold[o] = make(chan struct{})
	}
	return g
}

func (g *gatedSink) CommitMessage(ctx context.Context, m Message, write func(context.Context, db.Tx) error) error {
	if gate, ok := g.hold[m.Offset]; ok {
		g.waiting <- m.Offset
		<-gate
	}
	if g.failBefore != nil {
		return g.failBefore
	}
	if err := g.sinkRecorder.CommitMessage(ctx, m, write); err != nil {
		return err
	}
	return g.failAfter
}

func (g *gatedSink) release(offset int64) { close(g.hold[offset]) }

// awaitWaiting waits until the write of offset is held.
func (g *gatedSink) awaitWaiting(t *testing.T, offset int64) {
	t.Helper()
	select {
	case o := <-g.waiting:
		if o != offset {
			t.Fatalf("offset %d held, want %d", o, offset)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("the write of offset %d never started", offset)
	}
}

// storedOffsets lists the offsets of channel that have a message in the
// store, as a join with since 0 serves them.
func storedOffsets(t *testing.T, url, channel string) []int64 {
	t.Helper()
	c := signedIn(t, url, "tok-bob")
	ans := c.join(channel, "since", 0)
	if ans["recovered"] != true {
		t.Fatalf("join since 0: %v", ans)
	}
	return offsets(ans["messages"])
}

func sinkOffsets(s *sinkRecorder) []int64 {
	out := []int64{}
	for _, m := range s.all() {
		out = append(out, m.Offset)
	}
	return out
}

// TestSlowOrFailedWrite holds the write of a client's message (offset 1)
// while a function publishes the next one (offset 2), and checks that
// whatever happens to the held write, a member gets exactly the messages
// whose senders were told they were sent, in order, once; and that a
// join with since gets the same.
func TestSlowOrFailedWrite(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name       string
		gap        time.Duration
		failBefore error
		failAfter  error
		// waitForTwo: the member gets offset 2 while offset 1 is still
		// held (its gap was fenced); else only after the release.
		waitForTwo bool
		sentOK     bool   // the sender of offset 1 is told it was sent
		code       string // else the error code it gets
	}{
		{name: "slow write within the gap timeout", gap: time.Minute, sentOK: true},
		{name: "write slower than the gap timeout", gap: 50 * time.Millisecond, waitForTwo: true, code: "unavailable"},
		{name: "write refused", gap: time.Minute, failBefore: errors.New("the event was refused"), code: "internal"},
		{name: "write stored but its answer lost", gap: time.Minute, failAfter: errors.New("connection reset"), sentOK: true},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			store := openStore(t, t.TempDir())
			sink := newGatedSink(store, 1)
			sink.failBefore, sink.failAfter = s.failBefore, s.failAfter
			h := startHub(t, store, Config{GapTimeout: s.gap, Rules: map[string]Rule{"room": {History: intp(10)}}}, Deps{Sink: sink})
			member := signedIn(t, h.url, "tok-bob")
			member.join("room")
			sender := signedIn(t, h.url, "tok-alice")
			sender.write(map[string]any{"type": "send", "id": "one", "channel": "room", "data": "one"})
			sink.awaitWaiting(t, 1)
			if o, err := h.Publish(context.Background(), "room", "two"); err != nil || o != 2 {
				t.Fatalf("Publish = %d, %v; want offset 2", o, err)
			}
			if s.waitForTwo {
				if m := member.messages("room", 1)[0]; m["offset"] != float64(2) {
					t.Fatalf("first message %v, want offset 2 once offset 1 was given up on", m)
				}
			}
			sink.release(1)
			ans := sender.next("the answer to the send", func(f map[string]any) bool { return f["id"] == "one" })
			var want []int64
			if s.sentOK {
				answer{t: t, f: ans}.mustOK()
				if ans["offset"] != float64(1) {
					t.Fatalf("send answered %v, want offset 1", ans)
				}
				want = []int64{1, 2, 3}
			} else {
				answer{t: t, f: ans}.mustError(s.code)
				want = []int64{2, 3}
			}
			if o, err := h.Publish(context.Background(), "room", "three"); err != nil || o != 3 {
				t.Fatalf("Publish = %d, %v; want offset 3", o, err)
			}
			got := []int64{}
			if s.waitForTwo {
				got = append(got, 2)
			}
			for _, m := range member.messages("room", len(want)-len(got)) {
				got = append(got, int64(m["offset"].(float64)))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("member got offsets %v, want %v", got, want)
			}
			if stored := storedOffsets(t, h.url, "room"); fmt.Sprint(stored) != fmt.Sprint(want) {
				t.Fatalf("a join since 0 got offsets %v, want %v", stored, want)
			}
			// chan_in is recorded for client messages only, and only for
			// one that was sent.
			wantEvents := "[]"
			if s.sentOK {
				wantEvents = "[1]"
			}
			if ev := fmt.Sprint(sinkOffsets(sink.sinkRecorder)); ev != wantEvents {
				t.Fatalf("chan_in recorded for offsets %s, want %s", ev, wantEvents)
			}
		})
	}
}

// TestWriteLockHeld makes the store itself refuse a message's write:
// another connection holds SQLite's write lock while it is written. The
// offset cannot even be fenced then; once the lock is let go, delivery
// fences it and goes on, and nobody ever gets the refused message.
func TestWriteLockHeld(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	es, err := embedded.Open(embedded.Config{Dir: dir, BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = es.Close(context.Background()) })
	sink := newGatedSink(es, 1)
	h := startHub(t, es, Config{GapTimeout: 100 * time.Millisecond, Rules: map[string]Rule{"room": {History: intp(10)}}}, Deps{Sink: sink})
	member := signedIn(t, h.url, "tok-bob")
	member.join("room")
	sender := signedIn(t, h.url, "tok-alice")
	sender.write(map[string]any{"type": "send", "id": "one", "channel": "room", "data": "one"})
	sink.awaitWaiting(t, 1)

	other, err := sql.Open("sqlite", es.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	lock, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	sink.release(1)
	ans := sender.next("the answer to the send", func(f map[string]any) bool { return f["id"] == "one" })
	answer{t: t, f: ans}.mustError("internal")
	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}

	var sent []int64
	for i := range 3 {
		o := sender.send("room", i)
		sent = append(sent, o)
	}
	if fmt.Sprint(sent) != "[2 3 4]" {
		t.Fatalf("later sends got offsets %v, want [2 3 4]", sent)
	}
	got := []int64{}
	for _, m := range member.messages("room", 3) {
		got = append(got, int64(m["offset"].(float64)))
	}
	if fmt.Sprint(got) != "[2 3 4]" {
		t.Fatalf("member got %v, want [2 3 4]", got)
	}
	if stored := storedOffsets(t, h.url, "room"); fmt.Sprint(stored) != "[2 3 4]" {
		t.Fatalf("a join since 0 got offsets %v, want [2 3 4]", stored)
	}
	if ev := fmt.Sprint(sinkOffsets(sink.sinkRecorder)); ev != "[2 3 4]" {
		t.Fatalf("chan_in recorded for offsets %s, want [2 3 4]", ev)
	}
}

// TestJoinWhileSending joins a channel that has no member on this
// process while messages are being sent to it, many times over: every
// message after the join answer's offset must come, in order, once.
func TestJoinWhileSending(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), Config{MessagesPerSecond: 10000}, Deps{})
	sender := signedIn(t, h.url, "tok-alice")
	for round := range 15 {
		joiner := signedIn(t, h.url, "tok-bob")
		name := fmt.Sprintf("room%d", round%3)
		var wg sync.WaitGroup
		var last int64
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 6 {
				sender.write(map[string]any{"type": "send", "id": fmt.Sprintf("r%d-%d", round, i), "channel": name, "data": i})
			}
		}()
		ans := joiner.join(name)
		wg.Wait()
		for i := range 6 {
			id := fmt.Sprintf("r%d-%d", round, i)
			f := answer{t: t, f: sender.next("the answer to "+id, func(f map[string]any) bool { return f["id"] == id })}.mustOK()
			last = max(last, int64(f["offset"].(float64)))
		}
		from := int64(ans["offset"].(float64))
		for o := from + 1; o <= last; o++ {
			m := joiner.messages(name, 1)[0]
			if got := int64(m["offset"].(float64)); got != o {
				t.Fatalf("round %d: joined at %d, got offset %d where %d was due", round, from, got, o)
			}
		}
		if err := joiner.ws.Close(); err != nil {
			t.Fatal(err)
		}
		// The channel is dropped here once its last member is gone, so the
		// next round's join sets it up afresh.
		testsupport.WaitFor(t, "the channel to be dropped", func() bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.chans[name] == nil
		})
	}
}

// TestJoinPastSlowWrite first joins a channel while the write of its
// oldest offset is still under way and more sends were stored after it
// than one connection keeps in flight (other connections, processes or
// functions send too). Delivery must start below that offset: the join
// answer stops before it, and it comes live, followed by the rest, once
// its write lands.
func TestJoinPastSlowWrite(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name  string
		rule  Rule
		after int64 // messages stored after the held one
	}{
		{"channel with history", Rule{History: intp(1000)}, 2 * maxSendsInFlight},
		{"channel without history", Rule{}, 2 * maxSendsInFlight},
		{"history shorter than the sends after", Rule{History: intp(10)}, 2 * maxSendsInFlight},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			store := openStore(t, t.TempDir())
			sink := newGatedSink(store, 1)
			h := startHub(t, store, Config{GapTimeout: time.Minute, Rules: map[string]Rule{"chat:*": s.rule}}, Deps{Sink: sink})
			release := sync.OnceFunc(func() { sink.release(1) })
			t.Cleanup(release) // before the hub stops, should the test end early
			sender := signedIn(t, h.url, "tok-alice")
			sender.write(map[string]any{"type": "send", "id": "held", "channel": "chat:x", "data": 1})
			sink.awaitWaiting(t, 1)
			for i := range s.after {
				if o, err := h.Publish(context.Background(), "chat:x", i+2); err != nil || o != i+2 {
					t.Fatalf("Publish = %d, %v; want offset %d", o, err, i+2)
				}
			}
			member := signedIn(t, h.url, "tok-bob")
			ans := member.join("chat:x", "since", 0)
			if got := offsets(ans["messages"]); len(got) != 0 || ans["offset"] != float64(0) {
				t.Fatalf("join answered messages %v at offset %v while offset 1 is being written; want none at 0", got, ans["offset"])
			}
			release()
			f := answer{t: t, f: sender.next("the answer to the held send", func(f map[string]any) bool { return f["id"] == "held" })}.mustOK()
			if f["offset"] != float64(1) {
				t.Fatalf("held send answered %v, want offset 1", f)
			}
			for i, m := range member.messages("chat:x", int(s.after)+1) {
				if m["offset"] != float64(i+1) {
					t.Fatalf("message %d has offset %v; want every offset from 1, in order, once", i+1, m["offset"])
				}
			}
		})
	}
}

// TestFence: a marker takes an offset that has no message, a message
// already stored keeps it, and StoredFilter tells the two apart.
func TestFence(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	l := msgLog{store: store}
	m := Message{Channel: "c", Offset: 1, Data: []byte(`"x"`), At: storeTime(time.Now())}
	if err := l.insert(ctx, m); err != nil {
		t.Fatal(err)
	}
	scenarios := []struct {
		name     string
		offset   int64
		wantData string // "" is a marker
	}{
		{"a stored message stays", 1, `"x"`},
		{"a missing offset is fenced", 2, ""},
		{"a fenced offset stays fenced", 2, ""},
	}
	for _, s := range scenarios {
		got, err := l.fence(ctx, "c", s.offset)
		if err != nil || got.Offset != s.offset || string(got.Data) != s.wantData || (s.wantData == "" && got.Data != nil) {
			t.Fatalf("%s: fence = %+v, %v; want data %q", s.name, got, err, s.wantData)
		}
	}
	if err := l.insert(ctx, Message{Channel: "c", Offset: 2, Data: []byte(`"late"`), At: storeTime(time.Now())}); !errors.Is(err, db.ErrDuplicateKey) {
		t.Fatalf("a write after the fence = %v, want a duplicate key", err)
	}
	if _, err := store.C(db.ChannelMessages).FindOne(ctx, StoredFilter(m), nil); err != nil {
		t.Fatalf("StoredFilter misses the stored message: %v", err)
	}
	late := Message{Channel: "c", Offset: 2, At: storeTime(time.Now())}
	if _, err := store.C(db.ChannelMessages).FindOne(ctx, StoredFilter(late), nil); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("StoredFilter matches a marker: %v", err)
	}
	msgs, err := l.after(ctx, "c", 0, 10)
	if err != nil || len(msgs) != 2 || msgs[1].Data != nil {
		t.Fatalf("after = %+v, %v; want the message and the marker", msgs, err)
	}
}

// TestSendsAnsweredInOrder: a connection's sends are stored side by
// side, but answered in the order they were sent, with offsets in that
// order, and a frame of another type after them is answered after them.
func TestSendsAnsweredInOrder(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	sink := newGatedSink(store, 2)
	h := startHub(t, store, Config{}, Deps{Sink: sink})
	c := signedIn(t, h.url, "tok-alice")
	c.join("room")
	for i := 1; i <= 5; i++ {
		c.write(map[string]any{"type": "send", "id": fmt.Sprintf("s%d", i), "channel": "room", "data": i})
	}
	c.write(map[string]any{"type": "ping", "id": "p"})
	sink.awaitWaiting(t, 2)
	// Offsets 3 to 5 are stored while 2 is held.
	testsupport.WaitFor(t, "offsets 1, 3, 4 and 5 stored", func() bool { return len(sink.all()) == 4 })
	sink.release(2)
	want := []string{"s1", "s2", "s3", "s4", "s5", "p"}
	for i, id := range want {
		f := c.next("an answer", func(f map[string]any) bool { return f["type"] == TypeOK || f["type"] == TypePong })
		if f["id"] != id {
			t.Fatalf("answer %d is to %v, want %s: answers must come in frame order", i+1, f["id"], id)
		}
		if f["type"] == TypeOK && f["offset"] != float64(i+1) {
			t.Fatalf("%s got offset %v, want %d", id, f["offset"], i+1)
		}
	}
	for i, m := range c.messages("room", 5) {
		if m["offset"] != float64(i+1) {
			t.Fatalf("message %d has offset %v", i+1, m["offset"])
		}
	}
}

// TestInterleavedSends: sends to two channels in one stream of frames
// get each channel's offsets in frame order, and their answers in frame
// order.
func TestInterleavedSends(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), Config{MessagesPerSecond: 10000}, Deps{})
	c := signedIn(t, h.url, "tok-alice")
	const each = 40
	for i := range 2 * each {
		c.write(map[string]any{"type": "send", "id": i, "channel": []string{"a", "b"}[i%2], "data": i})
	}
	next := map[string]float64{"a": 1, "b": 1}
	for i := range 2 * each {
		f := c.next("an answer", func(f map[string]any) bool { return f["type"] == TypeOK })
		ch := []string{"a", "b"}[i%2]
		if f["id"] != float64(i) || f["channel"] != ch || f["offset"] != next[ch] {
			t.Fatalf("answer %d: %v; want id %d on %s at offset %v", i, f, i, ch, next[ch])
		}
		next[ch]++
	}
}
