package channels

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Presence lives in the store, not in one process's memory: a process
// writes one _channel_presence document per channel and user it has
// connections for ({_id: "node|channel|user", node, channel, user, name,
// seen}) and refreshes every one of its documents' seen at each heartbeat,
// together with its own _channel_nodes document. A member is a user with a
// document seen within the presence timeout, so the members of a process
// that died drop out everywhere once its last heartbeat is that old, and
// the next sweep by any live process deletes them.

type presenceStore struct {
	store   db.Store
	node    string
	timeout time.Duration
}

func presenceID(node, channel, user string) string { return node + "|" + channel + "|" + user }

// add records that user has a connection to channel on this process.
func (p presenceStore) add(ctx context.Context, channel string, u User) error {
	now := storeTime(time.Now())
	_, err := p.store.C(db.ChannelPresence).ReplaceOne(ctx, db.ByID(presenceID(p.node, channel, u.ID)), bson.M{
		"node": p.node, "channel": channel, "user": u.ID, "name": u.Name, "seen": now,
	}, &db.UpdateOptions{Upsert: true})
	if err != nil {
		return fmt.Errorf("record presence on %s: %w", channel, err)
	}
	return nil
}

// remove records that user has no connection to channel on this process
// any more.
func (p presenceStore) remove(ctx context.Context, channel, user string) error {
	if _, err := p.store.C(db.ChannelPresence).DeleteOne(ctx, db.ByID(presenceID(p.node, channel, user))); err != nil {
		return fmt.Errorf("remove presence on %s: %w", channel, err)
	}
	return nil
}

// members returns the users present on channel across every live
// process, each once, ordered by id.
func (p presenceStore) members(ctx context.Context, channel string) ([]User, error) {
	cutoff := storeTime(time.Now().Add(-p.timeout))
	docs, err := p.store.C(db.ChannelPresence).Find(ctx, bson.M{"channel": channel, "seen": bson.M{"$gte": cutoff}}, nil)
	if err != nil {
		return nil, fmt.Errorf("read presence of %s: %w", channel, err)
	}
	seen := map[string]bool{}
	out := make([]User, 0, len(docs))
	for _, d := range docs {
		id := str(d["user"])
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, User{ID: id, Name: str(d["name"])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// heartbeat records that this process is alive, refreshes its presence,
// deletes what dead processes left behind, and reports how many other
// processes are alive.
func (p presenceStore) heartbeat(ctx context.Context) (others int, err error) {
	now := storeTime(time.Now())
	if _, err := p.store.C(db.ChannelNodes).ReplaceOne(ctx, db.ByID(p.node), bson.M{"seen": now}, &db.UpdateOptions{Upsert: true}); err != nil {
		return 0, fmt.Errorf("record heartbeat: %w", err)
	}
	if _, err := p.store.C(db.ChannelPresence).UpdateMany(ctx, bson.M{"node": p.node}, bson.M{"$set": bson.M{"seen": now}}); err != nil {
		return 0, fmt.Errorf("refresh presence: %w", err)
	}
	cutoff := now.Add(-p.timeout)
	if _, err := p.store.C(db.ChannelPresence).DeleteMany(ctx, bson.M{"seen": bson.M{"$lt": cutoff}}); err != nil {
		return 0, fmt.Errorf("sweep presence: %w", err)
	}
	if _, err := p.store.C(db.ChannelNodes).DeleteMany(ctx, bson.M{"seen": bson.M{"$lt": cutoff}}); err != nil {
		return 0, fmt.Errorf("sweep processes: %w", err)
	}
	n, err := p.store.C(db.ChannelNodes).Count(ctx, bson.M{"_id": bson.M{"$ne": p.node}})
	if err != nil {
		return 0, fmt.Errorf("count processes: %w", err)
	}
	return int(n), nil
}

// others counts the other processes alive, without recording anything.
func (p presenceStore) others(ctx context.Context) (int, error) {
	cutoff := storeTime(time.Now().Add(-p.timeout))
	n, err := p.store.C(db.ChannelNodes).Count(ctx, bson.M{"_id": bson.M{"$ne": p.node}, "seen": bson.M{"$gte": cutoff}})
	if err != nil {
		return 0, fmt.Errorf("count processes: %w", err)
	}
	return int(n), nil
}

// leaveAll removes this process from presence and from the live
// processes, at a clean shutdown.
func (p presenceStore) leaveAll(ctx context.Context) error {
	if _, err := p.store.C(db.ChannelPresence).DeleteMany(ctx, bson.M{"node": p.node}); err != nil {
		return err
	}
	_, err := p.store.C(db.ChannelNodes).DeleteOne(ctx, db.ByID(p.node))
	return err
}

// diffMembers returns who is in now but not in before, and the reverse.
func diffMembers(before map[string]User, now []User) (joins, leaves []User, next map[string]User) {
	next = make(map[string]User, len(now))
	joins, leaves = []User{}, []User{}
	for _, u := range now {
		next[u.ID] = u
		if _, ok := before[u.ID]; !ok {
			joins = append(joins, u)
		}
	}
	for id, u := range before {
		if _, ok := next[id]; !ok {
			leaves = append(leaves, u)
		}
	}
	sort.Slice(leaves, func(i, j int) bool { return leaves[i].ID < leaves[j].ID })
	return joins, leaves, next
}
