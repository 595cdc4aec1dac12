package server

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// TestChannelsSurviveSIGKILL runs three server processes on one data
// directory, kills one with SIGKILL while messages flow, and checks: a
// client of the dead process that reconnects elsewhere with since loses
// nothing and gets nothing twice, the members it held leave presence, and
// the survivors keep serving. Once fanning out by polling the store, once
// over NATS.
func TestChannelsSurviveSIGKILL(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server did not start")
	}
	t.Cleanup(ns.Shutdown)

	for _, via := range []string{"store", "nats"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfgPath := filepath.Join(t.TempDir(), "config.yaml")
			yaml := "channels:\n  \"chat:*\":\n    send: member\n    history: 1000\n"
			if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{
				serveConfigHelper + "=" + cfgPath,
				"MOONBASE_CHANNELS_HEARTBEAT=200ms",
				"MOONBASE_CHANNELS_PRESENCE_TIMEOUT=1s",
				"MOONBASE_CHANNELS_POLL_INTERVAL=20ms",
			}
			if via == "nats" {
				env = append(env, "MOONBASE_CHANNELS_NATS_URL="+ns.ClientURL(), "MOONBASE_CHANNELS_NATS_SUBJECT=kill."+via+fmt.Sprint(time.Now().UnixNano()))
			}
			a := startServerProcess(t, dir, env...)
			b := startServerProcess(t, dir, env...)
			c := startServerProcess(t, dir, env...)
			token := func(p *serverProcess, email string) string {
				res := p.call(t, "POST", "/api/auth/register", `{"email":"`+email+`","password":"password1","name":"`+email+`"}`, "")
				if res.status != http.StatusCreated {
					t.Fatalf("register %s: %d %s", email, res.status, res.body)
				}
				return res.json(t)["token"].(string)
			}
			alice, bob, carol, dave := token(a, "alice@x.com"), token(b, "bob@x.com"), token(c, "carol@x.com"), token(c, "dave@x.com")

			sender := dialProc(t, a, alice)
			sender.join(t, "chat:1", -1)
			watcher := dialProc(t, b, bob)
			watcher.join(t, "chat:1", -1)
			victim := dialProc(t, c, carol)
			victim.join(t, "chat:1", -1)
			ghost := dialProc(t, c, dave)
			ghost.join(t, "chat:1", -1)
			sender.waitFor(t, "dave's presence on A", func(f map[string]any) bool {
				return f["type"] == "presence" && strings.Contains(fmt.Sprint(f["joins"]), "dave@x.com")
			})

			const total = 60
			go func() {
				for i := 1; i <= total; i++ {
					_ = sender.ws.WriteJSON(map[string]any{"type": "send", "channel": "chat:1", "data": i})
					time.Sleep(5 * time.Millisecond)
				}
			}()
			// Carol sees some of the traffic, then her process dies.
			last := int64(0)
			for last < 10 {
				f := victim.waitFor(t, "a message on C", func(f map[string]any) bool { return f["type"] == "message" })
				last = int64(f["offset"].(float64))
			}
			c.kill(t)

			// Bob, on a survivor, gets every message once, in order.
			for i := int64(1); i <= total; i++ {
				f := watcher.waitFor(t, fmt.Sprintf("message %d on B", i), func(f map[string]any) bool { return f["type"] == "message" })
				if got := int64(f["offset"].(float64)); got != i {
					t.Fatalf("B got offset %d, want %d", got, i)
				}
			}
			// Carol reconnects to B with the last offset she saw: the rest,
			// in order, once.
			back := dialProc(t, b, carol)
			ans := back.join(t, "chat:1", last)
			got := []int64{}
			for _, m := range ans["messages"].([]any) {
				got = append(got, int64(m.(map[string]any)["offset"].(float64)))
			}
			want := []int64{}
			for i := last + 1; i <= total; i++ {
				want = append(want, i)
			}
			if ans["recovered"] != true || !slices.Equal(got, want) {
				t.Fatalf("recovery after the kill: recovered %v, offsets %v, want %v", ans["recovered"], got, want)
			}
			// Dave was only on the dead process: he leaves presence.
			start := time.Now()
			sender.waitFor(t, "dave's leave on A", func(f map[string]any) bool {
				return f["type"] == "presence" && strings.Contains(fmt.Sprint(f["leaves"]), "dave@x.com")
			})
			if d := time.Since(start); d > 30*time.Second {
				t.Fatalf("dave left presence %s after the kill", d)
			}
			// The survivors keep serving.
			if f := back.call(t, map[string]any{"type": "send", "channel": "chat:1", "data": "still here"}); f["offset"] != float64(total+1) {
				t.Fatalf("send after the kill: %v", f)
			}
			sender.waitFor(t, "the message sent on B, on A", func(f map[string]any) bool {
				return f["type"] == "message" && f["offset"] == float64(total+1)
			})
		})
	}
}

// procClient is a WebSocket client of a server process.
type procClient struct {
	ws     *websocket.Conn
	frames chan map[string]any
	kept   []map[string]any
	closed chan error // the error that ended the connection
}

func dialProc(t *testing.T, p *serverProcess, token string) *procClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+strings.TrimPrefix(p.url, "http://")+"/api/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatalf("dial %s: %v", p.url, err)
	}
	c := &procClient{ws: ws, frames: make(chan map[string]any, 1000), closed: make(chan error, 1)}
	go func() {
		defer close(c.frames)
		for {
			var f map[string]any
			if err := ws.ReadJSON(&f); err != nil {
				c.closed <- err
				return
			}
			c.frames <- f
		}
	}()
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

// waitFor returns the first frame not returned yet for which keep holds;
// the frames it passes over stay for later calls.
func (c *procClient) waitFor(t *testing.T, what string, keep func(map[string]any) bool) map[string]any {
	t.Helper()
	for i, f := range c.kept {
		if keep(f) {
			c.kept = append(c.kept[:i], c.kept[i+1:]...)
			return f
		}
	}
	timeout := time.After(45 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				t.Fatalf("connection closed waiting for %s", what)
			}
			if keep(f) {
				return f
			}
			c.kept = append(c.kept, f)
		case <-timeout:
			t.Fatalf("no %s", what)
		}
	}
}

func (c *procClient) call(t *testing.T, frame map[string]any) map[string]any {
	t.Helper()
	id := fmt.Sprint(time.Now().UnixNano())
	frame["id"] = id
	if err := c.ws.WriteJSON(frame); err != nil {
		t.Fatal(err)
	}
	f := c.waitFor(t, "the answer to "+fmt.Sprint(frame["type"]), func(f map[string]any) bool { return f["id"] == id })
	if f["type"] != "ok" {
		t.Fatalf("%v answered %v", frame, f)
	}
	return f
}

// join joins channel, with since when it is not negative.
func (c *procClient) join(t *testing.T, channel string, since int64) map[string]any {
	t.Helper()
	f := map[string]any{"type": "join", "channel": channel}
	if since >= 0 {
		f["since"] = since
	}
	return c.call(t, f)
}

// closeCode waits for the connection to end and returns its close code
// and reason.
func (c *procClient) closeCode(t *testing.T, within time.Duration) (int, string) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case _, ok := <-c.frames:
			if ok {
				continue
			}
			var ce *websocket.CloseError
			if err := <-c.closed; errors.As(err, &ce) {
				return ce.Code, ce.Text
			} else {
				return -1, err.Error()
			}
		case <-timeout:
			t.Fatalf("connection still open after %s", within)
		}
	}
}

// TestSignOutClosesChannelsEverywhere runs two server processes on one
// data directory and ends sessions through one of them: a sign-out, and
// a password change that ends the user's other sessions. The WebSockets
// of those sessions close with 1008 "signed out" on both processes (at
// once on the one that ended them, within channels.session_check on the
// other); those of the sessions that go on stay open.
func TestSignOutClosesChannelsEverywhere(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two server processes")
	}
	dir := t.TempDir()
	env := []string{"MOONBASE_CHANNELS_SESSION_CHECK=100ms", "MOONBASE_CHANNELS_POLL_INTERVAL=20ms", "MOONBASE_CHANNELS_HEARTBEAT=200ms", "MOONBASE_CHANNELS_PRESENCE_TIMEOUT=1s"}
	a := startServerProcess(t, dir, env...)
	b := startServerProcess(t, dir, env...)
	login := func(p *serverProcess) string {
		res := p.call(t, "POST", "/api/auth/login", `{"email":"alice@x.com","password":"password123"}`, "")
		if res.status != http.StatusOK {
			t.Fatalf("login: %d %s", res.status, res.body)
		}
		return res.json(t)["token"].(string)
	}
	first := a.signUp(t, "alice@x.com")
	kept, other := login(b), login(a)
	bob := b.signUp(t, "bob@x.com")

	onA := dialProc(t, a, first)
	onA.join(t, "chat", -1)
	onB := dialProc(t, b, first)
	onB.join(t, "chat", -1)
	keptB := dialProc(t, b, kept)
	keptB.join(t, "chat", -1)
	otherB := dialProc(t, b, other)
	otherB.join(t, "chat", -1)
	watcher := dialProc(t, a, bob)
	watcher.join(t, "chat", -1)

	if res := a.call(t, "POST", "/api/auth/logout", "", first); res.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", res.status, res.body)
	}
	for name, c := range map[string]*procClient{"on A": onA, "on B": onB} {
		if code, reason := c.closeCode(t, 10*time.Second); code != websocket.ClosePolicyViolation || reason != "signed out" {
			t.Fatalf("the signed-out session's socket %s closed with %d %q, want 1008 \"signed out\"", name, code, reason)
		}
	}
	// The same token no longer signs a socket in.
	late := dialProc(t, b, first)
	if f := late.waitFor(t, "the refused sign-in", func(f map[string]any) bool { return f["type"] == "error" }); errorCode(f) != "unauthenticated" {
		t.Fatalf("a socket with the signed-out token got %v", f)
	}

	body := `{"current_password":"password123","new_password":"password456"}`
	if res := a.call(t, "POST", "/api/auth/password", body, kept); res.status >= 300 {
		t.Fatalf("change password: %d %s", res.status, res.body)
	}
	if code, reason := otherB.closeCode(t, 10*time.Second); code != websocket.ClosePolicyViolation || reason != "signed out" {
		t.Fatalf("the socket of a session the password change ended closed with %d %q", code, reason)
	}
	// The session that changed the password goes on, and so does bob's.
	if f := keptB.call(t, map[string]any{"type": "send", "channel": "chat", "data": "still here"}); f["offset"] == nil {
		t.Fatalf("send on the kept session: %v", f)
	}
	watcher.waitFor(t, "the kept session's message", func(f map[string]any) bool { return f["type"] == "message" && f["data"] == "still here" })
	if err := watcher.ws.WriteJSON(map[string]any{"type": "ping", "id": "p"}); err != nil {
		t.Fatal(err)
	}
	watcher.waitFor(t, "bob's pong", func(f map[string]any) bool { return f["type"] == "pong" })
}
