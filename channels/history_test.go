package channels

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestHistoryAndRecovery: a later joiner sees the kept history; a client
// that rejoins with since gets exactly what it missed, or is told it
// cannot; and all of it holds across a restart of the hub over the same
// store.
func TestHistoryAndRecovery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store := openStore(t, dir)
	h := startHub(t, store, withRules(testRules), Deps{})
	a := signedIn(t, h.url, "tok-alice")
	a.join("chat:1")
	for i := 1; i <= 3; i++ {
		a.send("chat:1", map[string]any{"n": i})
	}
	b := signedIn(t, h.url, "tok-bob")
	ans := b.join("chat:1")
	if got := offsets(ans["messages"]); !slices.Equal(got, []int64{1, 2, 3}) || ans["offset"].(float64) != 3 {
		t.Fatalf("join answer messages %v offset %v, want 1..3 and 3", got, ans["offset"])
	}
	if _, ok := ans["recovered"]; ok {
		t.Fatalf("a join without since says recovered: %v", ans)
	}
	for i := 4; i <= 10; i++ {
		a.send("chat:1", map[string]any{"n": i})
	}

	scenarios := []struct {
		name      string
		since     int64
		want      []int64
		recovered bool
	}{
		{"gap within history", 7, []int64{8, 9, 10}, true},
		{"nothing missed", 10, []int64{}, true},
		{"gap at the edge of history", 5, []int64{6, 7, 8, 9, 10}, true},
		{"gap larger than history", 3, []int64{6, 7, 8, 9, 10}, false},
		{"an offset the channel never reached", 99, []int64{6, 7, 8, 9, 10}, false},
	}
	check := func(t *testing.T, url string) {
		for _, s := range scenarios {
			t.Run(s.name, func(t *testing.T) {
				c := signedIn(t, url, "tok-bob")
				ans := c.join("chat:1", "since", s.since)
				if got := offsets(ans["messages"]); !slices.Equal(got, s.want) {
					t.Errorf("messages %v, want %v", got, s.want)
				}
				if ans["recovered"] != s.recovered {
					t.Errorf("recovered %v, want %v", ans["recovered"], s.recovered)
				}
			})
		}
	}
	check(t, h.url)

	// A channel without history recovers nothing but a gap of zero.
	a.join("lobby")
	a.send("lobby", "x")
	c := signedIn(t, h.url, "tok-bob")
	if ans := c.join("lobby", "since", 0); ans["recovered"] != false || len(offsets(ans["messages"])) != 0 {
		t.Fatalf("history-less channel answered %v", ans)
	}
	c.call(map[string]any{"type": "leave", "channel": "lobby"}).mustOK()
	if ans := c.join("lobby", "since", 1); ans["recovered"] != true {
		t.Fatalf("history-less channel with nothing missed answered %v", ans)
	}

	// Restart: a new hub on the same store serves the same history.
	h.stop(t)
	h2 := startHub(t, store, withRules(testRules), Deps{})
	check(t, h2.url)
	d := signedIn(t, h2.url, "tok-alice")
	d.join("chat:1")
	if off := d.send("chat:1", "after restart"); off != 11 {
		t.Fatalf("offset after restart %d, want 11", off)
	}
}

// TestNoDuplicatesAcrossJoin sends while a client joins with since: it
// gets every message once, in order, from the answer and then live.
func TestNoDuplicatesAcrossJoin(t *testing.T) {
	t.Parallel()
	cfg := Config{Rules: map[string]Rule{"chat:*": {Send: Authenticated, History: intp(1000)}}, MessagesPerSecond: 100000}
	h := startHub(t, openStore(t, t.TempDir()), cfg, Deps{})
	a := signedIn(t, h.url, "tok-alice")
	const total = 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= total; i++ {
			a.write(map[string]any{"type": "send", "channel": "chat:x", "data": i})
		}
	}()
	b := signedIn(t, h.url, "tok-bob")
	ans := b.join("chat:x", "since", 0)
	got := offsets(ans["messages"])
	<-done
	// What the sender was told was sent, in order; on a machine loaded
	// enough for the store to time out, a send may fail, and is then
	// nobody's message.
	var acked []int64
	for range total {
		f := a.next("an answer to a send", func(f map[string]any) bool { return f["type"] == TypeOK || f["type"] == TypeError })
		if f["type"] == TypeOK {
			acked = append(acked, int64(f["offset"].(float64)))
		} else {
			t.Logf("a send failed: %v", f["error"])
		}
	}
	if len(acked) < total/2 {
		t.Fatalf("only %d of %d sends succeeded", len(acked), total)
	}
	for _, m := range b.messages("chat:x", len(acked)-len(got)) {
		got = append(got, int64(m["offset"].(float64)))
	}
	if !slices.Equal(got, acked) {
		t.Fatalf("received offsets %v, want those sent, %v, once each, in order", got, acked)
	}
}

// TestHistoryAboveUnsettled: a join on a process that has not settled
// every offset below the history it would serve (a write under way, or
// messages of another process not read yet) answers with that history
// only when every offset in between is stored; else it answers nothing
// and everything comes live, in order, from the first unsettled offset.
func TestHistoryAboveUnsettled(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	h := startHub(t, store, Config{}, Deps{})
	ctx := context.Background()
	// chat:stored holds 1..30, chat:long 1..300; chat:hole has 30
	// offsets, 5 never stored.
	for name, n := range map[string]int64{"chat:stored": 30, "chat:hole": 30, "chat:long": 300} {
		if _, err := h.log.allocateN(ctx, name, int(n)); err != nil {
			t.Fatal(err)
		}
		for o := int64(1); o <= n; o++ {
			if name == "chat:hole" && o == 5 {
				continue
			}
			if err := h.log.insert(ctx, Message{Channel: name, Offset: o, Data: []byte("1"), At: storeTime(time.Now())}); err != nil {
				t.Fatal(err)
			}
		}
	}
	since := func(o int64) *int64 { return &o }
	scenarios := []struct {
		name      string
		channel   string
		since     *int64
		settled   int64
		want      []int64
		covered   int64
		recovered any // nil: no since
	}{
		{"everything settled", "chat:hole", nil, 30, span(21, 30), 30, nil},
		{"settled below the history, all stored", "chat:stored", nil, 2, span(21, 30), 30, nil},
		{"settled below a write under way", "chat:hole", nil, 2, []int64{}, 0, nil},
		{"settled just below the history, the write under way older", "chat:hole", nil, 20, span(21, 30), 30, nil},
		{"since older than the history, a write under way", "chat:hole", since(1), 2, []int64{}, 0, false},
		{"since within the history: the client has the rest", "chat:hole", since(25), 2, span(26, 30), 30, true},
		{"settled further behind than the log keeps", "chat:long", nil, 2, []int64{}, 0, nil},
		{"settled as far behind as the log keeps", "chat:long", nil, 290 - 10 - logSlack, span(291, 300), 300, nil},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			ans, covered, err := h.history(ctx, s.channel, 10, s.since, s.settled)
			if err != nil {
				t.Fatal(err)
			}
			var recovered any
			if ans.Recovered != nil {
				recovered = *ans.Recovered
			}
			if got := offsetsOfMessages(ans.Messages); !slices.Equal(got, s.want) || covered != s.covered || recovered != s.recovered {
				t.Fatalf("history = %v covering %d, recovered %v; want %v covering %d, recovered %v", got, covered, recovered, s.want, s.covered, s.recovered)
			}
		})
	}
}

func offsetsOfMessages(msgs []Message) []int64 {
	out := []int64{}
	for _, m := range msgs {
		out = append(out, m.Offset)
	}
	return out
}

// TestLogTrimmed keeps a channel's log bounded by its history.
func TestLogTrimmed(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	h := startHub(t, store, withRules(map[string]Rule{"chat:*": {History: intp(3)}}), Deps{})
	ctx := context.Background()
	const total = 3 + logSlack + 2*trimEvery
	for range total {
		if _, err := h.Publish(ctx, "chat:t", "x"); err != nil {
			t.Fatal(err)
		}
	}
	n, err := store.C("_channel_messages").Count(ctx, map[string]any{"channel": "chat:t"})
	if err != nil {
		t.Fatal(err)
	}
	if n > int64(3+logSlack+trimEvery) || n < 3 {
		t.Fatalf("log holds %d messages after %d; want at most %d", n, total, 3+logSlack+trimEvery)
	}
	recent, err := h.Recent(ctx, "chat:t", 3)
	if err != nil || len(recent) != 3 || recent[2].Offset != total {
		t.Fatalf("Recent = %v, %v", recent, err)
	}
}

// TestTail: delivery of a channel starts below the first offset that is
// allocated but not stored yet, however many offsets were stored after
// it (as far back as the log keeps), with what is stored above it
// pending.
func TestTail(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	l := msgLog{store: store}
	const keep = 100
	scenarios := []struct {
		name      string
		allocated int64
		stored    []int64 // offsets written, in this order
		delivered int64
		pending   []int64 // first few
	}{
		{"a new channel", 0, nil, 0, nil},
		{"a gap in the middle", 7, []int64{1, 2, 3, 5, 6}, 3, []int64{5, 6}},
		{"the gap filled, the latest still in flight", 7, []int64{1, 2, 3, 5, 6, 4}, 6, nil},
		{"the oldest in flight, more stored after it than one connection sends at once", 90, span(2, 90), 0, []int64{2, 3, 4}},
		{"the gap as far back as the log keeps", keep + 10, append([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, span(12, keep+10)...), 10, []int64{12, 13}},
		{"a gap further back than the log keeps", keep + 10, append([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9}, span(11, keep+10)...), keep + 10, nil},
		{"several gaps", 20, []int64{1, 2, 4, 5, 7}, 2, []int64{4, 5, 7}},
	}
	for i, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			name := fmt.Sprintf("c%d", i)
			if s.allocated > 0 {
				if _, err := l.allocateN(ctx, name, int(s.allocated)); err != nil {
					t.Fatal(err)
				}
			}
			for _, o := range s.stored {
				if err := l.insert(ctx, Message{Channel: name, Offset: o, Data: []byte("1")}); err != nil {
					t.Fatal(err)
				}
			}
			tail, err := l.tail(ctx, name, keep)
			if err != nil {
				t.Fatal(err)
			}
			var pending []int64
			for _, m := range tail.pending[:min(len(s.pending), len(tail.pending))] {
				pending = append(pending, m.Offset)
			}
			if tail.delivered != s.delivered || !slices.Equal(pending, s.pending) || (len(s.pending) == 0) != (len(tail.pending) == 0) {
				t.Fatalf("tail = delivered %d, pending %v…; want delivered %d, pending %v…", tail.delivered, pending, s.delivered, s.pending)
			}
		})
	}
}

// span lists the offsets from to to, both included.
func span(from, to int64) []int64 {
	var out []int64
	for o := from; o <= to; o++ {
		out = append(out, o)
	}
	return out
}
