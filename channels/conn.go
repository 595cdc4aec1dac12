package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Timing of a connection: a peer that answers no ping within pongWait is
// gone; a write that cannot finish within writeWait means the same.
const (
	pingEvery = 25 * time.Second
	pongWait  = 60 * time.Second
	writeWait = 10 * time.Second
	// hardReadLimit stops a client streaming one endless frame; frames
	// over the hub's own limit but under this are read to their end and
	// refused with an error frame, keeping the connection.
	hardReadLimit = 32 << 20
	// maxIDBytes caps the id a frame may carry.
	maxIDBytes = 256
)

// conn is one client connection.
type conn struct {
	hub *Hub
	ws  *websocket.Conn
	// The send queue: frames waiting for the writer, and a wake-up for it.
	// A slice rather than a buffered channel, so that an idle connection
	// holds no queue at all.
	qmu    sync.Mutex
	queue  [][]byte
	spare  [][]byte
	notify chan struct{}
	// done closes when the connection is going away; the writer stops.
	done     chan struct{}
	doneOnce sync.Once

	// session is the id of the session the connection signed in with,
	// read by the session check.
	session atomic.Pointer[string]

	// Sends in flight: the read loop checks each send and queues it in
	// frame order; a goroutine per send takes the offsets of every send
	// queued by then in one store write per channel (allocMu makes the
	// rounds one at a time, so offsets follow frame order), then stores
	// its message, side by side with the others (a busy store commits
	// them together). So the next frame need not wait for a send, and a
	// backlog costs a few store writes rather than two per message.
	// Answers still go out in frame order: each send answers after the
	// one before it, and other frames wait for every send.
	sends     sync.WaitGroup
	sendSlots chan struct{} // made on the first send; its capacity bounds the sends in flight
	lastSend  chan struct{} // closes once the latest send is answered
	allocMu   sync.Mutex    // one offset round at a time
	queueMu   sync.Mutex
	toNumber  []*queuedSend // checked sends waiting for their offsets, in frame order

	// Owned by the read loop.
	user   *User
	joined map[string]bool
	tokens float64
	last   time.Time
}

// serve runs one connection until it closes: the read loop here, the
// writer on its own goroutine.
func (h *Hub) serve(ws *websocket.Conn, r *http.Request) {
	c := &conn{
		hub: h, ws: ws,
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
		joined: map[string]bool{},
		tokens: float64(h.cfg.MessagesPerSecond),
		last:   time.Now(),
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = ws.Close()
		return
	}
	h.conns[c] = struct{}{}
	h.serving.Add(1)
	h.mu.Unlock()
	defer h.serving.Done()

	writerDone := make(chan struct{})
	go func() { defer close(writerDone); c.writeLoop() }()

	if token, ok := bearer(r.Header.Get("Authorization")); ok {
		if err := c.authenticate(token); err != nil {
			c.sendError(nil, err)
		}
	}
	c.readLoop()
	c.sends.Wait()

	c.close()
	<-writerDone
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	for name := range c.joined {
		h.leave(ctx, c, name)
	}
	_ = ws.Close()
}

func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// close stops the writer; the read loop ends with the socket.
func (c *conn) close() {
	c.doneOnce.Do(func() { close(c.done) })
}

// kill sends a close frame with code and reason and closes the socket,
// without waiting on the writer (which may be stuck on a slow peer).
func (c *conn) kill(code int, reason string) {
	c.close()
	go func() {
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		_ = c.ws.Close()
	}()
}

// enqueue queues a frame for the writer. A full queue means the client
// reads slower than its channels talk: it is disconnected (1013) rather
// than let it hold memory or slow anyone else.
func (c *conn) enqueue(b []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	c.qmu.Lock()
	if len(c.queue) >= c.hub.cfg.SendQueue {
		c.queue = nil
		c.qmu.Unlock()
		c.kill(websocket.CloseTryAgainLater, fmt.Sprintf("slow consumer: more than %d frames waiting", c.hub.cfg.SendQueue))
		return false
	}
	c.queue = append(c.queue, b)
	c.qmu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
	return true
}

// take returns the frames waiting, leaving the queue empty.
func (c *conn) take() [][]byte {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	frames := c.queue
	c.queue = c.spare[:0]
	c.spare = nil
	return frames
}

// giveBack keeps a drained queue's array for reuse, unless it grew large.
func (c *conn) giveBack(frames [][]byte) {
	if cap(frames) > 64 {
		return
	}
	clear(frames)
	c.qmu.Lock()
	c.spare = frames[:0]
	c.qmu.Unlock()
}

func (c *conn) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.hub.logger.Error("encode channels frame", "error", err.Error())
		return
	}
	c.enqueue(b)
}

func (c *conn) sendError(id json.RawMessage, err error) {
	code := Code(err)
	msg := err.Error()
	if code == "internal" {
		c.hub.logger.Error("channels frame failed", "error", msg)
		msg = "internal error"
	}
	c.send(ErrorFrame{Type: TypeError, ID: id, Error: ErrorBody{Code: code, Message: msg}})
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-c.notify:
			frames := c.take()
			// Several frames waiting go out in one write.
			g, batch := c.ws.NetConn().(*guardedConn)
			batch = batch && len(frames) > 1
			if batch {
				g.cork()
			}
			var err error
			size := 0
			// One deadline for the lot: setting it costs a timer update,
			// which per frame was a tenth of a busy hub's time.
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			for _, b := range frames {
				if err = c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
					break
				}
				// A write of at most about 64 KiB at a time.
				if size += len(b); batch && size >= 64<<10 {
					if err = g.uncork(time.Now().Add(writeWait)); err != nil {
						break
					}
					g.cork()
					size = 0
				}
			}
			if batch {
				if uerr := g.uncork(time.Now().Add(writeWait)); err == nil {
					err = uerr
				}
			}
			if err != nil {
				c.close()
				_ = c.ws.Close()
				return
			}
			c.giveBack(frames)
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.close()
				_ = c.ws.Close()
				return
			}
		case <-c.done:
			return
		}
	}
}

func (c *conn) readLoop() {
	c.ws.SetReadLimit(hardReadLimit)
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	buf := make([]byte, 0, 1024)
	for {
		kind, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		buf = buf[:0]
		lr := &io.LimitedReader{R: r, N: int64(c.hub.maxFrame) + 1}
		b := bytes.NewBuffer(buf)
		if _, err := b.ReadFrom(lr); err != nil {
			return
		}
		buf = b.Bytes()
		if len(buf) > c.hub.maxFrame {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			c.sends.Wait()
			c.sendError(nil, fmt.Errorf("%w: a frame may be at most %d bytes", ErrTooLarge, c.hub.maxFrame))
			continue
		}
		if !c.allow() {
			c.sends.Wait()
			c.sendError(frameID(buf), fmt.Errorf("%w: at most %d frames per second", ErrRateLimited, c.hub.cfg.MessagesPerSecond))
			continue
		}
		if kind != websocket.TextMessage {
			c.sends.Wait()
			c.sendError(nil, invalid("frames are JSON text, not binary"))
			continue
		}
		// The frame is handled on a goroutine of its own, waited for:
		// frames stay in order, and the deep stack a join or a send grows
		// (store, JSON, functions) goes away with it instead of staying
		// with every idle connection's reader.
		handled := make(chan struct{})
		go func() { defer close(handled); c.handle(buf) }()
		<-handled
		// Do not keep a large buffer for a connection that sent one large
		// frame.
		if cap(buf) > 64<<10 {
			buf = make([]byte, 0, 1024)
		}
	}
}

// allow takes one frame from the connection's token bucket.
func (c *conn) allow() bool {
	now := time.Now()
	rate := float64(c.hub.cfg.MessagesPerSecond)
	c.tokens = min(rate, c.tokens+now.Sub(c.last).Seconds()*rate)
	c.last = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// frameID digs the id out of a frame that is refused before it is
// decoded, so the client can still tell which frame it was.
func frameID(b []byte) json.RawMessage {
	var f struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(b, &f) != nil || len(f.ID) > maxIDBytes {
		return nil
	}
	return f.ID
}

// handle answers one frame.
func (c *conn) handle(b []byte) {
	var f ClientFrame
	err := json.Unmarshal(b, &f)
	if err == nil && len(f.ID) <= maxIDBytes && f.Type == TypeSend {
		c.sendFrame(f)
		return
	}
	c.sends.Wait()
	if err != nil {
		c.sendError(frameID(b), invalid("a frame is a JSON object such as {\"type\":\"ping\"}: %v", jsonProblem(err)))
		return
	}
	if len(f.ID) > maxIDBytes {
		c.sendError(nil, invalid("id is longer than %d bytes", maxIDBytes))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	switch f.Type {
	case TypePing:
		c.send(pongFrame{Type: TypePong, ID: f.ID})
	case TypeAuth:
		if f.Token == "" {
			err = invalid("auth needs a token")
		} else if err = c.authenticate(f.Token); err == nil {
			c.send(okFrame{Type: TypeOK, ID: f.ID, User: c.user})
		}
	case TypeJoin:
		err = c.join(ctx, f)
	case TypeLeave:
		err = c.leaveFrame(ctx, f)
	case "":
		err = invalid("the frame has no type")
	default:
		err = invalid("unknown frame type %q (use auth, join, leave, send or ping)", truncate(f.Type, 32))
	}
	if err != nil {
		c.sendError(f.ID, err)
	}
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must not be %s", te.Field, te.Value)
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// authenticate signs the connection in with a session token.
func (c *conn) authenticate(token string) error {
	if c.hub.deps.Auth == nil {
		return fmt.Errorf("%w: unknown or expired token", ErrUnauthenticated)
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	u, session, err := c.hub.deps.Auth.Authenticate(ctx, token)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			return err
		}
		return fmt.Errorf("%w: unknown or expired token", ErrUnauthenticated)
	}
	if u == nil {
		return fmt.Errorf("%w: unknown or expired token", ErrUnauthenticated)
	}
	if c.user != nil && c.user.ID != u.ID && len(c.joined) > 0 {
		return invalid("leave every channel before signing in as another user")
	}
	c.user = u
	c.session.Store(&session)
	return nil
}

// join handles a join frame.
func (c *conn) join(ctx context.Context, f ClientFrame) error {
	if err := ValidateName(f.Channel); err != nil {
		return err
	}
	if f.Since != nil && *f.Since < 0 {
		return invalid("since is an offset, 0 or more")
	}
	if c.joined[f.Channel] {
		return invalid("already joined %s", f.Channel)
	}
	if len(c.joined) >= c.hub.cfg.MaxChannels {
		return fmt.Errorf("%w: a connection may join at most %d channels", ErrRateLimited, c.hub.cfg.MaxChannels)
	}
	if err := c.hub.join(ctx, c, f.Channel, f.Since, f.ID); err != nil {
		return err
	}
	c.joined[f.Channel] = true
	return nil
}

func (c *conn) leaveFrame(ctx context.Context, f ClientFrame) error {
	if err := ValidateName(f.Channel); err != nil {
		return err
	}
	if !c.joined[f.Channel] {
		return fmt.Errorf("%w: %s was not joined", ErrNotJoined, f.Channel)
	}
	delete(c.joined, f.Channel)
	c.hub.leave(ctx, c, f.Channel)
	c.send(okFrame{Type: TypeOK, ID: f.ID, Channel: f.Channel})
	return nil
}

// maxSendsInFlight bounds the sends of one connection whose store write
// is under way: as many as the embedded store commits in one group.
const maxSendsInFlight = 64

// queuedSend is a checked send waiting for its offset.
type queuedSend struct {
	m        Message
	err      error
	numbered bool // set under allocMu
}

// sendFrame handles a send frame: its checks now, its offset, store
// write and answer on a goroutine of its own (see conn.sends).
func (c *conn) sendFrame(f ClientFrame) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	m, err := c.checkSend(f)
	q := &queuedSend{m: m, err: err, numbered: err != nil}
	if err == nil {
		c.queueMu.Lock()
		c.toNumber = append(c.toNumber, q)
		c.queueMu.Unlock()
	}
	if c.sendSlots == nil {
		c.sendSlots = make(chan struct{}, maxSendsInFlight)
	}
	c.sendSlots <- struct{}{}
	prev, done := c.lastSend, make(chan struct{})
	c.lastSend = done
	c.sends.Add(1)
	go func() {
		defer func() {
			cancel()
			close(done)
			<-c.sendSlots
			c.sends.Done()
		}()
		c.number(ctx, q)
		m, err := q.m, q.err
		if err == nil {
			m, err = c.hub.commit(ctx, m, true)
		}
		if prev != nil {
			<-prev
		}
		if err != nil {
			c.sendError(f.ID, err)
			return
		}
		c.send(okFrame{Type: TypeOK, ID: f.ID, Channel: f.Channel, Offset: m.Offset})
	}()
}

// number gives q its offset: unless an earlier round did, it takes the
// offsets of every send queued by now, in frame order, one store write
// per channel.
func (c *conn) number(ctx context.Context, q *queuedSend) {
	c.allocMu.Lock()
	defer c.allocMu.Unlock()
	if q.numbered {
		return
	}
	c.queueMu.Lock()
	batch := c.toNumber
	c.toNumber = nil
	c.queueMu.Unlock()
	var order []string
	byChannel := map[string][]*queuedSend{}
	for _, s := range batch {
		if byChannel[s.m.Channel] == nil {
			order = append(order, s.m.Channel)
		}
		byChannel[s.m.Channel] = append(byChannel[s.m.Channel], s)
	}
	for _, name := range order {
		sends := byChannel[name]
		last, err := c.hub.log.allocateN(ctx, name, len(sends))
		for i, s := range sends {
			s.numbered = true
			if err != nil {
				s.err = err
				continue
			}
			s.m.Offset = last - int64(len(sends)-1-i)
		}
	}
}

// checkSend checks a send frame and returns its message, without its
// offset.
func (c *conn) checkSend(f ClientFrame) (Message, error) {
	if err := ValidateName(f.Channel); err != nil {
		return Message{}, err
	}
	if f.Data == nil {
		return Message{}, invalid("send needs data")
	}
	rule := c.hub.rules.match(f.Channel)
	if err := allowed(rule.Send, f.Channel, c.user); err != nil {
		return Message{}, err
	}
	if rule.Send == Member && !c.joined[f.Channel] {
		return Message{}, fmt.Errorf("%w: join %s before sending to it", ErrNotJoined, f.Channel)
	}
	return c.hub.check(f.Channel, f.Data, c.user)
}
