package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/valyala/fasthttp"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

func openStore(t *testing.T, dir string) db.Store {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

// tokens is the session lookup of these tests: token → user. The server
// package tests the real one, over sessions.
type tokens map[string]User

func (ts tokens) Authenticate(_ context.Context, token string) (*User, string, error) {
	u, ok := ts[token]
	if !ok {
		return nil, "", fmt.Errorf("%w: unknown or expired token", ErrUnauthenticated)
	}
	return &u, "session-" + token, nil
}

func (ts tokens) LiveSessions(_ context.Context, ids []string) (map[string]bool, error) {
	live := map[string]bool{}
	for _, id := range ids {
		_, live[id] = ts[strings.TrimPrefix(id, "session-")]
	}
	return live, nil
}

var (
	alice   = User{ID: "u-alice", Name: "Alice"}
	bob     = User{ID: "u-bob", Name: "Bob"}
	testIDs = tokens{"tok-alice": alice, "tok-bob": bob}
)

// sinkRecorder stores each message in a transaction of the store, as the
// server does with its chan_in event, and keeps what it committed.
type sinkRecorder struct {
	store db.Store
	mu    sync.Mutex
	msgs  []Message
}

func (s *sinkRecorder) CommitMessage(ctx context.Context, m Message, write func(context.Context, db.Tx) error) error {
	if err := s.store.Transact(ctx, func(ctx context.Context, tx db.Tx) error { return write(ctx, tx) }); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *sinkRecorder) all() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// testHub is a started hub behind a fasthttp server on 127.0.0.1.
type testHub struct {
	*Hub
	url  string
	srv  *fasthttp.Server
	sink *sinkRecorder
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startHub starts a hub over store with cfg; deps.Store, Auth, Sink and
// Logger are filled in when unset.
func startHub(t *testing.T, store db.Store, cfg Config, deps Deps) *testHub {
	t.Helper()
	sink := &sinkRecorder{store: store}
	deps.Store = store
	if deps.Auth == nil {
		deps.Auth = testIDs
	}
	if deps.Sink == nil {
		deps.Sink = sink
	}
	if deps.Logger == nil {
		deps.Logger = quietLogger()
	}
	h, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/ws" {
			h.Handle(ctx)
			return
		}
		ctx.SetStatusCode(404)
	}}
	go func() { _ = srv.Serve(ln) }()
	th := &testHub{Hub: h, url: "ws://" + ln.Addr().String() + "/ws", srv: srv, sink: sink}
	t.Cleanup(func() { th.stop(t) })
	return th
}

func (th *testHub) stop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_ = th.srv.ShutdownWithContext(ctx)
	if err := th.Shutdown(ctx); err != nil {
		t.Errorf("hub shutdown: %v", err)
	}
}

// client is a gorilla client with its frames read into a channel.
type client struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan map[string]any
	closed chan error // the read error that ended the connection
	seq    int
	kept   []map[string]any // frames received but not asked for yet
}

func dial(t *testing.T, url string, header http.Header) *client {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	c := &client{t: t, ws: ws, frames: make(chan map[string]any, 10000), closed: make(chan error, 1)}
	go func() {
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				c.closed <- err
				close(c.frames)
				return
			}
			var f map[string]any
			if err := json.Unmarshal(b, &f); err != nil {
				c.closed <- fmt.Errorf("server sent something that is not JSON: %q", b)
				close(c.frames)
				return
			}
			c.frames <- f
		}
	}()
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

// signedIn dials and signs in with the auth frame.
func signedIn(t *testing.T, url, token string) *client {
	c := dial(t, url, nil)
	c.call(map[string]any{"type": "auth", "token": token}).mustOK()
	return c
}

func (c *client) write(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the first frame not returned yet for which keep is true,
// failing after waitTimeout. Frames it passes over stay for later calls.
func (c *client) next(what string, keep func(map[string]any) bool) map[string]any {
	c.t.Helper()
	for i, f := range c.kept {
		if keep(f) {
			c.kept = append(c.kept[:i], c.kept[i+1:]...)
			return f
		}
	}
	deadline := time.After(waitTimeout)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("waiting for %s: connection closed: %v", what, <-c.closed)
			}
			if keep(f) {
				return f
			}
			c.kept = append(c.kept, f)
		case <-deadline:
			c.t.Fatalf("no %s within %s", what, waitTimeout)
		}
	}
}

// answer is the answer to one frame.
type answer struct {
	t *testing.T
	f map[string]any
}

// call sends frame with a fresh id and returns its answer.
func (c *client) call(frame map[string]any) answer {
	c.t.Helper()
	c.seq++
	id := fmt.Sprintf("q%d", c.seq)
	frame["id"] = id
	c.write(frame)
	f := c.next("the answer to "+id, func(f map[string]any) bool { return f["id"] == id })
	return answer{t: c.t, f: f}
}

func (a answer) mustOK() map[string]any {
	a.t.Helper()
	if a.f["type"] != TypeOK {
		a.t.Fatalf("want ok, got %v", a.f)
	}
	return a.f
}

func (a answer) mustError(code string) {
	a.t.Helper()
	if a.f["type"] != TypeError {
		a.t.Fatalf("want error %s, got %v", code, a.f)
	}
	e, _ := a.f["error"].(map[string]any)
	if e["code"] != code || e["message"] == "" {
		a.t.Fatalf("want error %s with a message, got %v", code, a.f)
	}
}

func (c *client) join(channel string, extra ...any) map[string]any {
	c.t.Helper()
	f := map[string]any{"type": "join", "channel": channel}
	for i := 0; i+1 < len(extra); i += 2 {
		f[extra[i].(string)] = extra[i+1]
	}
	return c.call(f).mustOK()
}

func (c *client) send(channel string, data any) int64 {
	c.t.Helper()
	ok := c.call(map[string]any{"type": "send", "channel": channel, "data": data}).mustOK()
	return int64(ok["offset"].(float64))
}

// message waits for the message frame of channel at offset.
func (c *client) message(channel string, offset int64) map[string]any {
	c.t.Helper()
	return c.next(fmt.Sprintf("message %d of %s", offset, channel), func(f map[string]any) bool {
		return f["type"] == TypeMessage && f["channel"] == channel && int64(f["offset"].(float64)) == offset
	})
}

// messages collects the next n message frames of channel, in the order
// they came.
func (c *client) messages(channel string, n int) []map[string]any {
	c.t.Helper()
	out := make([]map[string]any, 0, n)
	for len(out) < n {
		out = append(out, c.next(fmt.Sprintf("message %d of %d on %s", len(out)+1, n, channel), func(f map[string]any) bool {
			return f["type"] == TypeMessage && f["channel"] == channel
		}))
	}
	return out
}

// presence waits for a presence frame of channel in which pred holds.
func (c *client) presence(channel string, pred func(joins, leaves []string) bool) {
	c.t.Helper()
	c.next("presence on "+channel, func(f map[string]any) bool {
		if f["type"] != TypePresence || f["channel"] != channel {
			return false
		}
		return pred(ids(f["joins"]), ids(f["leaves"]))
	})
}

// closeCode waits for the connection to end and returns its close code.
func (c *client) closeCode() (int, string) {
	c.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case _, ok := <-c.frames:
			if ok {
				continue
			}
			err := <-c.closed
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Text
			}
			return -1, err.Error()
		case <-deadline:
			c.t.Fatalf("connection still open after %s", waitTimeout)
		}
	}
}

func ids(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, u := range list {
		m, _ := u.(map[string]any)
		out = append(out, fmt.Sprint(m["id"]))
	}
	return out
}

func offsets(msgs any) []int64 {
	list, _ := msgs.([]any)
	out := []int64{}
	for _, m := range list {
		mm, _ := m.(map[string]any)
		out = append(out, int64(mm["offset"].(float64)))
	}
	return out
}

func withRules(pairs map[string]Rule) Config { return Config{Rules: pairs} }

func intp(n int) *int    { return &n }
func boolp(b bool) *bool { return &b }
