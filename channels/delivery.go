package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/gorilla/websocket"

	"github.com/moonbase-dev/moonbase/db"
)

// Delivery is in offset order per channel: whatever way a message comes
// (sent on this process, read from the store, received over NATS), it
// waits in the channel's pending set until every smaller offset has been
// delivered or given up on (GapTimeout), and a connection is never sent
// an offset at or below the last one it got.

// join admits c to channel name (rules, then the channel_join functions),
// records its presence and queues the join answer: the members and the
// history, or what came after since.
func (h *Hub) join(ctx context.Context, c *conn, name string, since *int64, id json.RawMessage) error {
	rule := h.rules.match(name)
	if err := allowed(rule.Join, name, c.user); err != nil {
		return err
	}
	if h.deps.Joins != nil {
		if err := h.deps.Joins.AuthorizeJoin(ctx, name, c.user); err != nil {
			return err
		}
	}
	tail, err := h.log.tail(ctx, name)
	if err != nil {
		return err
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	st := h.chans[name]
	if st == nil {
		st = &channel{name: name, rule: rule, subs: map[*conn]*sub{}, users: map[string]int{},
			delivered: tail.delivered, pending: map[int64]Message{}, members: map[string]User{}}
		for _, m := range tail.pending {
			st.pending[m.Offset] = m
		}
		if len(st.pending) > 0 {
			st.gapSince = time.Now()
		}
		h.chans[name] = st
	}
	s := &sub{}
	st.subs[c] = s
	// Offsets up to here are settled: delivered, or given up on.
	settled := st.delivered
	firstHere := false
	if c.user != nil && rule.HasPresence() {
		st.users[c.user.ID]++
		firstHere = st.users[c.user.ID] == 1
	}
	h.mu.Unlock()

	ans, err := h.history(ctx, name, rule.HistorySize(), since, settled)
	if err == nil && firstHere {
		err = h.presence.add(ctx, name, *c.user)
		if err == nil && h.bus != nil {
			h.bus.presenceChanged(name)
		}
	}
	if err == nil && rule.HasPresence() {
		err = h.refreshPresence(ctx, st)
	}
	if err != nil {
		h.leave(ctx, c, name)
		return err
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	ans.ID = id
	ans.Members = sortedMembers(st.members)
	if len(ans.Messages) > 0 {
		s.last = ans.Messages[len(ans.Messages)-1].Offset
	} else if ans.Recovered != nil && *ans.Recovered {
		s.last = *since
	}
	ans.Offset = max(ans.Offset, s.last)
	c.send(ans)
	for _, m := range s.buf {
		if m.Offset > s.last {
			s.last = m.Offset
			c.enqueue(encodeMessage(m))
		}
	}
	s.buf, s.ready = nil, true
	return nil
}

// history reads what a join answers with. Without since it is the last
// `history` messages. With since it is every message after since when
// the channel still keeps them all (recovered), else the last `history`
// messages and recovered false. The answer stops before the first
// offset above settled that is not stored yet (its sender is still
// storing it): that message and those after it come live, in order.
func (h *Hub) history(ctx context.Context, name string, keep int, since *int64, settled int64) (JoinAnswer, error) {
	ans := JoinAnswer{Type: TypeOK, Channel: name, Messages: []Message{}}
	latest, err := h.log.current(ctx, name)
	if err != nil {
		return ans, err
	}
	ans.Offset = latest
	from := max(latest-int64(keep), 0)
	if since != nil {
		ok := *since <= latest && *since >= from
		ans.Recovered = &ok
		if ok {
			from = *since
		}
	}
	if keep == 0 || from >= latest {
		return ans, nil
	}
	msgs, err := h.log.after(ctx, name, from, keep+logSlack)
	if err != nil {
		return ans, err
	}
	prev := from
	for i, m := range msgs {
		if m.Offset > settled && m.Offset != prev+1 {
			msgs = msgs[:i]
			break
		}
		prev = m.Offset
	}
	ans.Messages = msgs
	return ans, nil
}

// leave takes c out of channel name, and its user out of presence when it
// was the user's last connection to it on this process.
func (h *Hub) leave(ctx context.Context, c *conn, name string) {
	h.mu.Lock()
	st := h.chans[name]
	if st == nil {
		h.mu.Unlock()
		return
	}
	if _, ok := st.subs[c]; !ok {
		h.mu.Unlock()
		return
	}
	delete(st.subs, c)
	lastHere := false
	if c.user != nil && st.rule.HasPresence() {
		st.users[c.user.ID]--
		if st.users[c.user.ID] <= 0 {
			delete(st.users, c.user.ID)
			lastHere = true
		}
	}
	if len(st.subs) == 0 {
		delete(h.chans, name)
	}
	stillHere := h.chans[name] == st
	h.mu.Unlock()
	if !lastHere {
		return
	}
	if err := h.presence.remove(ctx, name, c.user.ID); err != nil {
		h.logger.Warn("channels: remove presence", "channel", name, "error", err.Error())
		return
	}
	if h.bus != nil {
		h.bus.presenceChanged(name)
	}
	if stillHere {
		if err := h.refreshPresence(ctx, st); err != nil {
			h.logger.Warn("channels: refresh presence", "channel", name, "error", err.Error())
		}
	}
}

// refreshPresence reads st's members from the store and tells this
// process's members of st who joined and who left since the last time.
func (h *Hub) refreshPresence(ctx context.Context, st *channel) error {
	st.presMu.Lock()
	defer st.presMu.Unlock()
	members, err := h.presence.members(ctx, st.name)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	joins, leaves, next := diffMembers(st.members, members)
	st.members = next
	if len(joins)+len(leaves) == 0 {
		return nil
	}
	frame, _ := json.Marshal(PresenceFrame{Type: TypePresence, Channel: st.name, Joins: joins, Leaves: leaves})
	for c, s := range st.subs {
		if s.ready {
			c.enqueue(frame)
		}
	}
	return nil
}

func sortedMembers(m map[string]User) []User {
	out := make([]User, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// publish stores a message and delivers it. fromClient messages are also
// handed to the sink (the chan_in event).
func (h *Hub) publish(ctx context.Context, name string, data json.RawMessage, user *User, fromClient bool) (Message, error) {
	rule := h.rules.match(name)
	if len(data) > rule.MaxMessageBytes {
		return Message{}, fmt.Errorf("%w: data is %d bytes, %s allows %d", ErrTooLarge, len(data), name, rule.MaxMessageBytes)
	}
	value, err := db.DecodeJSONValue(data, db.Limits{MaxBytes: rule.MaxMessageBytes})
	if err != nil {
		return Message{}, invalid("data: %v", err)
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return Message{}, ErrClosed
	}
	offset, err := h.log.allocate(ctx, name)
	if err != nil {
		return Message{}, err
	}
	m := Message{Channel: name, Offset: offset, User: user, Data: data, At: storeTime(time.Now()), value: value}
	// A client's message and its chan_in event are stored as one step,
	// before anyone receives the message.
	if fromClient && h.deps.Sink != nil {
		err = h.deps.Sink.CommitMessage(ctx, m, func(ctx context.Context, tx db.Tx) error {
			return insertMessage(ctx, tx.C(db.ChannelMessages), m)
		})
	} else {
		err = h.log.insert(ctx, m)
	}
	if err != nil {
		h.arrive(Message{Channel: name, Offset: offset}) // never coming: do not wait for it
		return Message{}, err
	}
	h.arrive(m)
	if h.bus != nil {
		h.bus.publish(m)
	}
	if keep := int64(rule.HistorySize() + logSlack); offset%trimEvery == 0 && offset > keep {
		if err := h.log.trim(ctx, name, offset-keep); err != nil {
			h.logger.Warn("channels: trim log", "channel", name, "error", err.Error())
		}
	}
	return m, nil
}

// arrive hands messages to delivery. A message without data stands for an
// offset that will never have one.
func (h *Hub) arrive(msgs ...Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var touched []*channel
	for _, m := range msgs {
		st := h.chans[m.Channel]
		if st == nil || m.Offset <= st.delivered {
			continue
		}
		if _, dup := st.pending[m.Offset]; dup && m.Data == nil {
			continue
		}
		st.pending[m.Offset] = m
		touched = append(touched, st)
	}
	for _, st := range touched {
		h.flush(st)
	}
}

// flush delivers st's pending messages that are next in order. Called
// with h.mu held.
func (h *Hub) flush(st *channel) {
	start := st.delivered
	for {
		m, ok := st.pending[st.delivered+1]
		if !ok {
			break
		}
		delete(st.pending, m.Offset)
		st.delivered = m.Offset
		if m.Data != nil {
			h.deliver(st, m)
		}
	}
	if len(st.pending) == 0 || st.delivered != start {
		st.gapSince = time.Time{}
	}
	if len(st.pending) == 0 {
		return
	}
	if st.gapSince.IsZero() {
		st.gapSince = time.Now()
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
}

// deliver queues m to every connection of st. Called with h.mu held.
func (h *Hub) deliver(st *channel, m Message) {
	var frame []byte
	for c, s := range st.subs {
		if m.Offset <= s.last {
			continue
		}
		if !s.ready {
			s.buf = append(s.buf, m)
			if len(s.buf) > h.cfg.SendQueue {
				c.kill(websocket.CloseTryAgainLater, "slow consumer: too many messages while joining")
			}
			continue
		}
		if frame == nil {
			frame = encodeMessage(m)
		}
		s.last = m.Offset
		c.enqueue(frame)
	}
}

// skipGaps gives up waiting for offsets missing longer than GapTimeout.
// Called with h.mu held.
func (h *Hub) skipGaps(now time.Time) {
	for _, st := range h.chans {
		if len(st.pending) == 0 || now.Sub(st.gapSince) < h.cfg.GapTimeout {
			continue
		}
		first := int64(-1)
		for o := range st.pending {
			if first < 0 || o < first {
				first = o
			}
		}
		h.logger.Warn("channels: offsets never arrived, going past them", "channel", st.name, "from", st.delivered+1, "to", first-1)
		st.delivered = first - 1
		st.gapSince = time.Time{}
		h.flush(st)
	}
}
