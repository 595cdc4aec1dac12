package channels

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// The message log. Offsets are allocated in the store with an atomic
// increment ({_id: channel, offset} in _channels), so they only grow and
// never repeat whichever process sends. Every message is written to
// _channel_messages ({_id: "channel/offset", channel, offset, user, data,
// at}, data as its JSON text) before anyone receives it: that is what
// other processes read, and what a join's history and a reconnect's
// recovery are served from. An offset that will never have a message
// holds a marker there instead ({_id, channel, offset, skipped: true},
// see fence).

// logSlack is how many messages beyond its history a channel's log keeps,
// so that other processes polling the store still find what they have
// not delivered yet; trimEvery is how often (in offsets) the log is
// trimmed.
const (
	logSlack  = 256
	trimEvery = 32
)

type msgLog struct{ store db.Store }

func (l msgLog) ensureIndexes(ctx context.Context) error {
	for _, ix := range []struct {
		col string
		idx db.Index
	}{
		{db.ChannelMessages, db.Index{Keys: []db.IndexKey{{Field: "channel"}, {Field: "offset"}}}},
		{db.ChannelPresence, db.Index{Keys: []db.IndexKey{{Field: "channel"}}}},
		{db.ChannelPresence, db.Index{Keys: []db.IndexKey{{Field: "node"}}}},
		{db.ChannelPresence, db.Index{Keys: []db.IndexKey{{Field: "seen"}}}},
		{db.ChannelNodes, db.Index{Keys: []db.IndexKey{{Field: "seen"}}}},
	} {
		if err := l.store.C(ix.col).EnsureIndex(ctx, ix.idx); err != nil {
			return fmt.Errorf("ensure index on %s: %w", ix.col, err)
		}
	}
	return nil
}

// allocate returns the channel's next offset.
func (l msgLog) allocate(ctx context.Context, channel string) (int64, error) {
	return l.allocateN(ctx, channel, 1)
}

// allocateN takes the channel's next n offsets at once and returns the
// last of them: they are last-n+1 to last.
func (l msgLog) allocateN(ctx context.Context, channel string, n int) (int64, error) {
	doc, err := l.store.C(db.ChannelOffsets).FindOneAndUpdate(ctx, db.ByID(channel),
		bson.M{"$inc": bson.M{"offset": int64(n)}, "$set": bson.M{"updated_at": storeTime(time.Now())}},
		&db.FindOneAndUpdateOptions{Upsert: true, ReturnAfter: true})
	if err != nil {
		return 0, fmt.Errorf("allocate an offset on %s: %w", channel, err)
	}
	return db.Int64Of(doc["offset"]), nil
}

// current returns the channel's latest offset, 0 for a channel that never
// had a message.
func (l msgLog) current(ctx context.Context, channel string) (int64, error) {
	doc, err := l.store.C(db.ChannelOffsets).FindOne(ctx, db.ByID(channel), nil)
	if errors.Is(err, db.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the offset of %s: %w", channel, err)
	}
	return db.Int64Of(doc["offset"]), nil
}

// currents returns the latest offsets of channels; a channel that never
// had a message is absent.
func (l msgLog) currents(ctx context.Context, channels []string) (map[string]int64, error) {
	out := make(map[string]int64, len(channels))
	for start := 0; start < len(channels); start += 500 {
		names := channels[start:min(start+500, len(channels))]
		in := make(bson.A, len(names))
		for i, n := range names {
			in[i] = n
		}
		docs, err := l.store.C(db.ChannelOffsets).Find(ctx, bson.M{"_id": bson.M{"$in": in}}, nil)
		if err != nil {
			return nil, fmt.Errorf("read channel offsets: %w", err)
		}
		for _, d := range docs {
			out[str(d["_id"])] = db.Int64Of(d["offset"])
		}
	}
	return out, nil
}

// logKeep is how many offsets below a channel's latest one its log keeps
// at the least: its history and logSlack more. The log is trimmed only
// below that.
func logKeep(rule Rule) int64 { return int64(rule.HistorySize() + logSlack) }

// tailPending bounds the messages above a gap that tail reads; delivery
// fetches the rest from the store while anything is pending.
const tailPending = 256

// logTail is where delivery of a channel starts on this process.
type logTail struct {
	// delivered is the offset below which every message is stored: the
	// latest one, unless a message in flight (allocated, not yet stored)
	// comes first.
	delivered int64
	// pending are the stored messages above such a gap, which delivery
	// sends once the gap is filled or given up on.
	pending []Message
}

// tail reads where delivery of channel starts: before the first offset
// that is allocated but not stored yet. It looks back keep offsets from
// the latest one (logKeep), as far as the log is never trimmed, rather
// than as far as one connection's sends in flight reach: several
// connections, processes and functions send to a channel at once, and
// an offset still being written that tail took for stored would be lost
// to this process's members. An offset further back than that is taken
// as settled (see "a process lagging so far behind" in
// docs/channels.md).
func (l msgLog) tail(ctx context.Context, channel string, keep int64) (logTail, error) {
	cur, err := l.current(ctx, channel)
	if err != nil || cur == 0 {
		return logTail{}, err
	}
	from := max(cur-keep, 0)
	stored, err := l.offsetsAfter(ctx, channel, from, keep)
	if err != nil {
		return logTail{}, err
	}
	next := from + 1
	for _, o := range stored {
		if o != next {
			break
		}
		next++
	}
	if next-1-from == int64(len(stored)) {
		// Offsets allocated but not stored at the end: wait for them.
		return logTail{delivered: next - 1}, nil
	}
	pending, err := l.after(ctx, channel, next-1, tailPending)
	if err != nil {
		return logTail{}, err
	}
	return logTail{delivered: next - 1, pending: pending}, nil
}

// offsetsAfter returns the offsets of up to limit messages (or markers)
// of channel above after, in order, without reading the messages.
func (l msgLog) offsetsAfter(ctx context.Context, channel string, after, limit int64) ([]int64, error) {
	docs, err := l.store.C(db.ChannelMessages).Find(ctx, bson.M{"channel": channel, "offset": bson.M{"$gt": after}},
		&db.FindOptions{Sort: bson.D{{Key: "offset", Value: 1}}, Limit: limit, Projection: bson.M{"offset": 1}})
	if err != nil {
		return nil, fmt.Errorf("read the offsets of %s: %w", channel, err)
	}
	out := make([]int64, len(docs))
	for i, d := range docs {
		out[i] = db.Int64Of(d["offset"])
	}
	return out, nil
}

// MessageID is the _id of a message in _channel_messages.
func MessageID(channel string, offset int64) string {
	return fmt.Sprintf("%s/%019d", channel, offset)
}

// insert writes m to the log.
func (l msgLog) insert(ctx context.Context, m Message) error {
	return insertMessage(ctx, l.store.C(db.ChannelMessages), m)
}

// insertMessage writes m into c, the log or the log seen through a
// transaction.
func insertMessage(ctx context.Context, c db.Collection, m Message) error {
	doc := bson.M{
		"_id": MessageID(m.Channel, m.Offset), "channel": m.Channel, "offset": m.Offset,
		"data": string(m.Data), "at": m.At,
	}
	if m.User != nil {
		doc["user"] = bson.M{"id": m.User.ID, "name": m.User.Name}
	}
	if _, err := c.InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("record message %d of %s: %w", m.Offset, m.Channel, err)
	}
	return nil
}

// fence settles offset of channel for good: it stores a marker saying
// the offset has no message, under the message's own _id, unless the
// message is there first. It returns what the offset holds now: the
// message, or one without Data for the marker (this one or an earlier
// one).
func (l msgLog) fence(ctx context.Context, channel string, offset int64) (Message, error) {
	id := MessageID(channel, offset)
	// No "at": a message's own time is what tells it from the marker
	// (StoredFilter).
	_, err := l.store.C(db.ChannelMessages).InsertOne(ctx, bson.M{
		"_id": id, "channel": channel, "offset": offset, "skipped": true,
	})
	if err == nil {
		return Message{Channel: channel, Offset: offset}, nil
	}
	if !errors.Is(err, db.ErrDuplicateKey) {
		return Message{}, fmt.Errorf("fence offset %d of %s: %w", offset, channel, err)
	}
	d, err := l.store.C(db.ChannelMessages).FindOne(ctx, db.ByID(id), nil)
	if err != nil {
		return Message{}, fmt.Errorf("read offset %d of %s: %w", offset, channel, err)
	}
	return messageFromDoc(d), nil
}

// StoredFilter matches m once it is stored, and not the marker of an
// offset that has no message, with plain equalities: markers have no
// "at".
func StoredFilter(m Message) bson.M {
	return bson.M{"_id": MessageID(m.Channel, m.Offset), "at": m.At}
}

// after returns up to limit messages of channel with an offset above
// after, in offset order.
func (l msgLog) after(ctx context.Context, channel string, after int64, limit int) ([]Message, error) {
	docs, err := l.store.C(db.ChannelMessages).Find(ctx, bson.M{"channel": channel, "offset": bson.M{"$gt": after}},
		&db.FindOptions{Sort: bson.D{{Key: "offset", Value: 1}}, Limit: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("read messages of %s: %w", channel, err)
	}
	out := make([]Message, 0, len(docs))
	for _, d := range docs {
		out = append(out, messageFromDoc(d))
	}
	return out, nil
}

// trim deletes the messages of channel at or below offset upTo.
func (l msgLog) trim(ctx context.Context, channel string, upTo int64) error {
	_, err := l.store.C(db.ChannelMessages).DeleteMany(ctx, bson.M{"channel": channel, "offset": bson.M{"$lte": upTo}})
	return err
}

// messageFromDoc reads a message of the log; a marker of an offset
// without a message has no Data.
func messageFromDoc(d bson.M) Message {
	if skipped, _ := d["skipped"].(bool); skipped {
		return Message{Channel: str(d["channel"]), Offset: db.Int64Of(d["offset"])}
	}
	m := Message{Channel: str(d["channel"]), Offset: db.Int64Of(d["offset"]), Data: []byte(str(d["data"])), At: db.TimeOf(d["at"])}
	if u, ok := d["user"].(bson.M); ok {
		m.User = &User{ID: str(u["id"]), Name: str(u["name"])}
	}
	return m
}

// storeTime is t as the stores keep dates: UTC, milliseconds.
func storeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func str(v any) string {
	s, _ := v.(string)
	return s
}
