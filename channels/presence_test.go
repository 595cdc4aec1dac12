package channels

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// TestPresenceTabs: a user with several tabs is one member, joined once
// and left when the last tab leaves; anonymous clients are no members.
func TestPresenceTabs(t *testing.T) {
	t.Parallel()
	h := startHub(t, openStore(t, t.TempDir()), withRules(testRules), Deps{})
	b := signedIn(t, h.url, "tok-bob")
	if ans := b.join("room"); !slices.Equal(ids(ans["members"]), []string{bob.ID}) {
		t.Fatalf("members %v, want bob alone", ans["members"])
	}
	tab1 := signedIn(t, h.url, "tok-alice")
	ans := tab1.join("room")
	if got := ids(ans["members"]); !slices.Equal(got, []string{alice.ID, bob.ID}) {
		t.Fatalf("members %v, want alice and bob", got)
	}
	b.presence("room", func(joins, leaves []string) bool { return slices.Equal(joins, []string{alice.ID}) && len(leaves) == 0 })
	tab2 := signedIn(t, h.url, "tok-alice")
	tab2.join("room")
	tab1.call(map[string]any{"type": "leave", "channel": "room"}).mustOK()
	_ = tab2.ws.Close()
	// Only now has alice left; bob must see exactly one leave, and no
	// join in between.
	b.presence("room", func(joins, leaves []string) bool {
		if len(joins) > 0 {
			t.Errorf("bob was told of a second join of %v", joins)
		}
		return slices.Equal(leaves, []string{alice.ID})
	})
	members, err := h.Members(context.Background(), "room")
	if err != nil || len(members) != 1 || members[0] != bob {
		t.Fatalf("Members = %v, %v; want bob", members, err)
	}

	// Public channel: an anonymous client is not a member.
	anon := dial(t, h.url, nil)
	if ans := anon.join("public:x"); len(ids(ans["members"])) != 0 {
		t.Fatalf("anonymous join listed members %v", ans["members"])
	}
	// A channel without presence lists nobody and sends no notices.
	q := signedIn(t, h.url, "tok-alice")
	if ans := q.join("quiet:x"); len(ids(ans["members"])) != 0 {
		t.Fatalf("presence-less channel listed %v", ans["members"])
	}
}

// TestDeadProcessLeavesPresence: what a process that died left in the
// store (its presence, its last heartbeat) drops out of presence within
// the presence timeout, with a leave notice to the members here.
func TestDeadProcessLeavesPresence(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	now := storeTime(time.Now())
	// A process that was serving carol, and then stopped.
	if _, err := store.C(db.ChannelNodes).InsertOne(ctx, bson.M{"_id": "dead", "seen": now}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.C(db.ChannelPresence).InsertOne(ctx, bson.M{"_id": "dead|room|u-carol", "node": "dead", "channel": "room", "user": "u-carol", "name": "Carol", "seen": now}); err != nil {
		t.Fatal(err)
	}
	// A timeout long enough for the join below to see carol even on a
	// loaded machine, short enough to wait for.
	cfg := Config{Heartbeat: 100 * time.Millisecond, PresenceTimeout: 3 * time.Second, PollInterval: 20 * time.Millisecond}
	h := startHub(t, store, cfg, Deps{})
	b := signedIn(t, h.url, "tok-bob")
	ans := b.join("room")
	if got := ids(ans["members"]); !slices.Equal(got, []string{bob.ID, "u-carol"}) {
		t.Fatalf("members %v, want bob and carol", got)
	}
	b.presence("room", func(joins, leaves []string) bool { return slices.Equal(leaves, []string{"u-carol"}) })
	if waited := time.Since(now); waited < cfg.PresenceTimeout || waited > cfg.PresenceTimeout+3*time.Second {
		t.Fatalf("carol left %s after her last heartbeat; the timeout is %s", waited, cfg.PresenceTimeout)
	}
	testsupport.WaitFor(t, "the dead process's records swept", func() bool {
		n, _ := store.C(db.ChannelPresence).Count(ctx, bson.M{"node": "dead"})
		m, _ := store.C(db.ChannelNodes).Count(ctx, bson.M{"_id": "dead"})
		return n == 0 && m == 0
	})
}
