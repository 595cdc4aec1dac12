package channels

import (
	"context"
	"slices"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// clusterConfig makes processes notice each other and the dead quickly.
func clusterConfig() Config {
	return Config{
		Rules:           testRules,
		Heartbeat:       100 * time.Millisecond,
		PresenceTimeout: 500 * time.Millisecond,
		PollInterval:    20 * time.Millisecond,
	}
}

// startNATS starts an in-process NATS server on 127.0.0.1.
func startNATS(t *testing.T) string {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(waitTimeout) {
		t.Fatal("NATS server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns.ClientURL()
}

// TestAcrossProcesses runs two hubs on two connections to one data
// directory, as two moonbase processes do, once fanning out by polling
// the store and once over NATS.
func TestAcrossProcesses(t *testing.T) {
	t.Parallel()
	natsURL := startNATS(t)
	scenarios := []struct {
		name string
		cfg  func() Config
	}{
		{"polling the store", clusterConfig},
		{"over NATS", func() Config {
			cfg := clusterConfig()
			cfg.NATSURL = natsURL
			cfg.NATSSubject = "test." + time.Now().Format("150405.000000")
			// Polling only fills gaps: what arrives promptly came over NATS.
			cfg.PollInterval = time.Hour
			return cfg
		}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg := s.cfg()
			a := startHub(t, openStore(t, dir), cfg, Deps{})
			b := startHub(t, openStore(t, dir), cfg, Deps{})

			bobOnB := signedIn(t, b.url, "tok-bob")
			bobOnB.join("chat:1")
			aliceOnA := signedIn(t, a.url, "tok-alice")
			ans := aliceOnA.join("chat:1")
			if got := ids(ans["members"]); !slices.Equal(got, []string{alice.ID, bob.ID}) {
				t.Fatalf("members seen on A: %v, want alice and bob", got)
			}
			bobOnB.presence("chat:1", func(joins, _ []string) bool { return slices.Contains(joins, alice.ID) })

			for i := 1; i <= 20; i++ {
				aliceOnA.send("chat:1", i)
			}
			for i, m := range bobOnB.messages("chat:1", 20) {
				if int64(m["offset"].(float64)) != int64(i+1) {
					t.Fatalf("B got offset %v as message %d", m["offset"], i+1)
				}
			}
			off := bobOnB.send("chat:1", "from B")
			aliceOnA.message("chat:1", off)

			// Bob drops, misses 3 messages, and comes back on the other
			// process with since: exactly the 3, in order.
			_ = bobOnB.ws.Close()
			aliceOnA.presence("chat:1", func(_, leaves []string) bool { return slices.Contains(leaves, bob.ID) })
			for i := range 3 {
				aliceOnA.send("chat:1", map[string]any{"missed": i})
			}
			back := signedIn(t, a.url, "tok-bob")
			ans = back.join("chat:1", "since", off)
			if got := offsets(ans["messages"]); ans["recovered"] != true || !slices.Equal(got, []int64{off + 1, off + 2, off + 3}) {
				t.Fatalf("rejoin on the other process: recovered %v messages %v", ans["recovered"], got)
			}

			// A function publishing on B reaches members on A.
			pub, err := b.Publish(context.Background(), "chat:1", "notice")
			if err != nil {
				t.Fatal(err)
			}
			back.message("chat:1", pub)

			// B stops: its members leave presence on A.
			carol := signedIn(t, b.url, "tok-alice")
			carol.join("room")
			watcher := signedIn(t, a.url, "tok-bob")
			watcher.join("room")
			b.stop(t)
			watcher.presence("room", func(_, leaves []string) bool { return slices.Contains(leaves, alice.ID) })
		})
	}
}

// TestNewProcessFoundSoon: a process alone stops polling the store; when
// a second one starts, the messages sent through it reach the first's
// members within about a second, not at the first's next heartbeat.
func TestNewProcessFoundSoon(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	cfg := Config{Rules: testRules, Heartbeat: time.Hour, PresenceTimeout: 2 * time.Hour, PollInterval: 20 * time.Millisecond}
	a := startHub(t, store, cfg, Deps{})
	member := signedIn(t, a.url, "tok-bob")
	member.join("room")
	b := startHub(t, store, cfg, Deps{})
	sender := signedIn(t, b.url, "tok-alice")
	o := sender.send("room", "hello")
	start := time.Now()
	member.message("room", o)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the message took %s to cross", d)
	}
}
