package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/gorilla/websocket"

	"github.com/moonbase-dev/moonbase/db"
)

// Delivery is in offset order per channel: whatever way a message comes
// (sent on this process, read from the store, received over NATS), it
// waits in the channel's pending set until every smaller offset is
// settled, and a connection is never sent an offset at or below the last
// one it got.
//
// An offset is settled when its message is delivered, or when the store
// holds a marker saying it never will have one (msgLog.fence). The
// marker is written under the message's own _id, so the message and the
// marker exclude each other: a sender whose write comes after the marker
// fails and is told so, and a marker that comes after the message finds
// the message instead. Every process and every later join therefore
// agree on which offsets carry a message, however slow or failed a
// write was; GapTimeout only says how long to wait before fencing.

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
	st, err := h.openChannel(ctx, name, rule)
	if err != nil {
		return err
	}
	// h.mu is held: from here every offset above settled reaches s.
	s := &sub{}
	st.subs[c] = s
	settled := st.delivered
	firstHere := false
	if c.user != nil && rule.HasPresence() {
		st.users[c.user.ID]++
		firstHere = st.users[c.user.ID] == 1
	}
	h.mu.Unlock()

	ans, covered, err := h.history(ctx, name, rule.HistorySize(), since, settled)
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
	// The answer settles the client up to covered (and up to since when
	// it recovered); what comes after arrives live, from that offset on.
	s.last = max(settled, covered)
	if since != nil && ans.Recovered != nil && *ans.Recovered {
		s.last = max(s.last, *since)
	}
	ans.Offset = s.last
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

// openChannel returns the channel name with delivery set up, with h.mu
// held. The first join of a channel on this process reads from the store
// where delivery starts; the channel is listed before that read, so
// nothing sent meanwhile slips between the read and the listing.
func (h *Hub) openChannel(ctx context.Context, name string, rule Rule) (*channel, error) {
	for {
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			return nil, ErrClosed
		}
		st := h.chans[name]
		first := st == nil
		if first {
			st = &channel{name: name, rule: rule, subs: map[*conn]*sub{}, users: map[string]int{},
				loading: true, loaded: make(chan struct{}), pending: map[int64]pendingMsg{}, members: map[string]User{}}
			h.chans[name] = st
		}
		h.mu.Unlock()
		if first {
			tail, err := h.log.tail(ctx, name, logKeep(rule))
			h.mu.Lock()
			st.loading = false
			if err != nil {
				st.loadErr = err
				if h.chans[name] == st {
					delete(h.chans, name)
				}
			} else {
				st.delivered = tail.delivered
				now := time.Now()
				for _, m := range tail.pending {
					if p, ok := st.pending[m.Offset]; !ok || p.m.Data == nil {
						st.pending[m.Offset] = pendingMsg{m: m, at: now}
					}
				}
				for o := range st.pending {
					if o <= st.delivered {
						delete(st.pending, o)
					}
				}
				h.flush(st)
			}
			close(st.loaded)
			h.mu.Unlock()
		} else {
			select {
			case <-st.loaded:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		h.mu.Lock()
		if st.loadErr != nil {
			h.mu.Unlock()
			return nil, st.loadErr
		}
		if h.chans[name] == st {
			return st, nil
		}
		// Everyone left it while this join waited: start over.
		h.mu.Unlock()
	}
}

// history reads what a join answers with. Without since it is the last
// `history` messages. With since it is every message after since when
// the channel still keeps them all (recovered), else the last `history`
// messages and recovered false. The answer stops before the first
// offset above settled that is not stored yet (its sender is still
// storing it): that message and those after it come live, in order. So
// the answer is empty when such an offset lies below the history it
// would serve, unless since already gave the client every offset up to
// there.
// covered is the last offset the answer settles, message or marker.
func (h *Hub) history(ctx context.Context, name string, keep int, since *int64, settled int64) (JoinAnswer, int64, error) {
	ans := JoinAnswer{Type: TypeOK, Channel: name, Messages: []Message{}}
	latest, err := h.log.current(ctx, name)
	if err != nil {
		return ans, 0, err
	}
	from := max(latest-int64(keep), 0)
	if since != nil {
		ok := *since <= latest && *since >= from
		ans.Recovered = &ok
		if ok {
			from = *since
		}
	}
	if keep == 0 || from >= latest {
		return ans, 0, nil
	}
	if from > settled && (ans.Recovered == nil || !*ans.Recovered) {
		// The client has not had the offsets up to from, and those not
		// delivered here yet may pass it by only when all are stored
		// (older than the history served). One still being written
		// comes live, so everything after it must too; the same when
		// this process lags further behind than the log keeps.
		if from-settled > int64(keep+logSlack) {
			return ans, 0, nil
		}
		stored, err := h.log.offsetsAfter(ctx, name, settled, from-settled)
		if err != nil {
			return ans, 0, err
		}
		if int64(len(stored)) != from-settled || stored[len(stored)-1] != from {
			return ans, 0, nil
		}
	}
	msgs, err := h.log.after(ctx, name, from, keep+logSlack)
	if err != nil {
		return ans, 0, err
	}
	covered, prev := int64(0), from
	kept := msgs[:0]
	for _, m := range msgs {
		if m.Offset > settled && m.Offset != prev+1 {
			break
		}
		prev, covered = m.Offset, m.Offset
		if m.Data != nil {
			kept = append(kept, m)
		}
	}
	ans.Messages = kept
	return ans, covered, nil
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
	m, err := h.prepare(ctx, name, data, user)
	if err != nil {
		return Message{}, err
	}
	return h.commit(ctx, m, fromClient)
}

// prepare checks data against the rule of channel name and takes the
// message's offset.
func (h *Hub) prepare(ctx context.Context, name string, data json.RawMessage, user *User) (Message, error) {
	m, err := h.check(name, data, user)
	if err != nil {
		return Message{}, err
	}
	if m.Offset, err = h.log.allocate(ctx, name); err != nil {
		return Message{}, err
	}
	return m, nil
}

// check checks data against the rule of channel name and returns the
// message to send, without its offset.
func (h *Hub) check(name string, data json.RawMessage, user *User) (Message, error) {
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
	return Message{Channel: name, User: user, Data: data, At: storeTime(time.Now()), value: value}, nil
}

// commit stores m, which prepare made, and delivers it. A client's
// message and its chan_in event are stored as one step, before anyone
// receives the message.
func (h *Hub) commit(ctx context.Context, m Message, fromClient bool) (Message, error) {
	var err error
	if fromClient && h.deps.Sink != nil {
		err = h.deps.Sink.CommitMessage(ctx, m, func(ctx context.Context, tx db.Tx) error {
			return insertMessage(ctx, tx.C(db.ChannelMessages), m)
		})
	} else {
		err = h.log.insert(ctx, m)
	}
	if err != nil {
		stored, ferr := h.settleFailed(ctx, m, err)
		if ferr != nil {
			return Message{}, ferr
		}
		m = stored
	} else {
		h.arrive(m)
	}
	if h.bus != nil {
		h.bus.publish(m)
	}
	rule := h.rules.match(m.Channel)
	if keep := logKeep(rule); m.Offset%trimEvery == 0 && m.Offset > keep {
		if err := h.log.trim(ctx, m.Channel, m.Offset-keep); err != nil {
			h.logger.Warn("channels: trim log", "channel", m.Channel, "error", err.Error())
		}
	}
	return m, nil
}

// settleFailed settles the offset of m, whose write failed with err: a
// failed write may still have stored it (a timeout, a lost answer), and
// a write may fail because the offset was fenced while it was slow. The
// fence decides. It returns m when the store holds it after all, else
// the error to give the sender. When even the fence fails, the offset
// stays open and the poll loop fences it later.
func (h *Hub) settleFailed(ctx context.Context, m Message, err error) (Message, error) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	got, ferr := h.log.fence(fctx, m.Channel, m.Offset)
	if ferr != nil {
		h.logger.Warn("channels: settle an offset whose write failed", "channel", m.Channel, "offset", m.Offset, "error", ferr.Error())
		return Message{}, err
	}
	h.arrive(got)
	if got.Data != nil {
		return got, nil
	}
	if errors.Is(err, db.ErrDuplicateKey) {
		return Message{}, fmt.Errorf("%w: message %d of %s took longer than %s to store", ErrNotStored, m.Offset, m.Channel, h.cfg.GapTimeout)
	}
	return Message{}, err
}

// arrive hands messages to delivery. A message without data stands for an
// offset that will never have one.
func (h *Hub) arrive(msgs ...Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	var touched []*channel
	for _, m := range msgs {
		st := h.chans[m.Channel]
		if st == nil || (!st.loading && m.Offset <= st.delivered) {
			continue
		}
		if p, dup := st.pending[m.Offset]; dup && (m.Data == nil || p.m.Data != nil) {
			continue
		}
		st.pending[m.Offset] = pendingMsg{m: m, at: now}
		if !st.loading {
			touched = append(touched, st)
		}
	}
	for _, st := range touched {
		h.flush(st)
	}
}

// flush delivers st's pending messages that are next in order, and asks
// the poll loop to look in the store when a new gap opens. Called with
// h.mu held.
func (h *Hub) flush(st *channel) {
	for {
		p, ok := st.pending[st.delivered+1]
		if !ok {
			break
		}
		delete(st.pending, p.m.Offset)
		st.delivered = p.m.Offset
		if p.m.Data != nil {
			h.deliver(st, p.m)
		}
	}
	if len(st.pending) > 0 && st.kicked != st.delivered {
		st.kicked = st.delivered
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

// maxFencePerPoll bounds the offsets one poll fences in one channel.
const maxFencePerPoll = 256

// overdue lists, per channel, the missing offsets below a message that
// has waited for them longer than GapTimeout: their writes are slow or
// their senders died, and they are to be fenced. Called with h.mu held.
func (h *Hub) overdue(now time.Time) map[string][]int64 {
	var out map[string][]int64
	for name, st := range h.chans {
		if st.loading || len(st.pending) == 0 {
			continue
		}
		above := make([]int64, 0, len(st.pending))
		for o := range st.pending {
			above = append(above, o)
		}
		sort.Slice(above, func(i, j int) bool { return above[i] < above[j] })
		var missing []int64
		next := st.delivered + 1
		for _, o := range above {
			// Offsets next..o-1 have been missing since o arrived.
			if now.Sub(st.pending[o].at) < h.cfg.GapTimeout {
				break
			}
			for ; next < o && len(missing) < maxFencePerPoll; next++ {
				missing = append(missing, next)
			}
			next = o + 1
		}
		if len(missing) > 0 {
			if out == nil {
				out = map[string][]int64{}
			}
			out[name] = missing
		}
	}
	return out
}
