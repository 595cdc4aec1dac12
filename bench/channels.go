package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Realtime channels against a bare gorilla hub, the baseline: a minimal
// broadcast server (one writer goroutine and a buffered queue per
// connection, every text frame sent to every connection, a connection
// whose queue is full dropped, as in gorilla's own chat example). Both run
// in a child process; the clients (gorilla, in this process) stamp each
// message with the time it was sent, so delivery latency is measured on
// one clock.

const (
	childHub = "gorilla-hub" // the bare gorilla hub on GET /ws

	benchChannel   = "bench:room"
	fanoutSubs     = 1000
	fanoutRate     = 100 // messages per second at the fixed rate
	saturateWindow = 8   // messages in flight at saturation
	idleConns      = 10000
	crossSubs      = 100
)

func channelScenarios() []Scenario {
	var out []Scenario
	for _, kind := range []string{childMoonbase, childHub} {
		out = append(out,
			Scenario{
				Name:  "channels/" + kind + "/fanout-1000-at-100",
				About: "1,000 subscribers on one channel, 100 messages/s from one publisher: each op is one delivery, latency from send to receipt",
				Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
					return fanout(ctx, env, opts, kind, false)
				},
			},
			Scenario{
				Name:  "channels/" + kind + "/fanout-1000-saturated",
				About: "1,000 subscribers on one channel, the publisher keeping 8 messages in flight: deliveries/s at saturation",
				Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
					return fanout(ctx, env, opts, kind, true)
				},
			},
			Scenario{
				Name:  "channels/" + kind + "/idle-10000",
				About: "10,000 connections joined to one channel, idle: the server's resident memory",
				Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
					return idle(ctx, env, opts, kind)
				},
			},
		)
	}
	for _, via := range []string{"nats", "store"} {
		out = append(out, Scenario{
			Name:  "channels/moonbase/cross-process-" + via,
			About: "100 subscribers on process B, 100 messages/s sent through process A (one data directory), fanned out over " + via,
			Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
				return crossProcess(ctx, env, opts, via)
			},
		})
	}
	return out
}

// serveHub serves the bare gorilla hub.
func serveHub() (string, func(context.Context) error, error) {
	type client struct{ send chan []byte }
	var mu sync.Mutex
	clients := map[*client]*websocket.Conn{}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &client{send: make(chan []byte, 512)}
		mu.Lock()
		clients[c] = ws
		mu.Unlock()
		go func() {
			for b := range c.send {
				_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if ws.WriteMessage(websocket.TextMessage, b) != nil {
					break
				}
			}
			_ = ws.Close()
		}()
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				break
			}
			mu.Lock()
			for o := range clients {
				select {
				case o.send <- b:
				default:
					delete(clients, o)
					close(o.send)
				}
			}
			mu.Unlock()
		}
		mu.Lock()
		if _, ok := clients[c]; ok {
			delete(clients, c)
			close(c.send)
		}
		mu.Unlock()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv.Shutdown, nil
}

// wsURL is the WebSocket address of a child's server.
func wsURL(kind, base string) string {
	u := "ws://" + strings.TrimPrefix(base, "http://")
	if kind == childHub {
		return u + "/ws"
	}
	return u + "/api/ws"
}

// stamp is the data of every benchmark message.
type stamp struct {
	T int64 `json:"t"` // send time, Unix nanoseconds
}

func sendFrame(kind string) func(t time.Time) []byte {
	return func(t time.Time) []byte {
		if kind == childHub {
			b, _ := json.Marshal(map[string]any{"type": "message", "data": stamp{T: t.UnixNano()}})
			return b
		}
		b, _ := json.Marshal(map[string]any{"type": "send", "channel": benchChannel, "data": stamp{T: t.UnixNano()}})
		return b
	}
}

// stampOf reads the send time out of a message frame without decoding
// the whole frame, so that the clients, which share the machine with the
// server, cost as little as they can; other frames are not messages.
func stampOf(b []byte) (int64, bool) {
	if !bytes.Contains(b, []byte(`"type":"message"`)) {
		return 0, false
	}
	i := bytes.Index(b, []byte(`"t":`))
	if i < 0 {
		return 0, false
	}
	var t int64
	j := i + 4
	for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
		t = t*10 + int64(b[j]-'0')
	}
	return t, j > i+4
}

// dialJoin connects and, on moonbase, joins the bench channel and waits
// for the answer.
func dialJoin(ctx context.Context, kind, url string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	ws, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	if kind == childHub {
		return ws, nil
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"join","channel":"`+benchChannel+`"}`)); err != nil {
		ws.Close()
		return nil, err
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, b, err := ws.ReadMessage()
	_ = ws.SetReadDeadline(time.Time{})
	if err != nil || !strings.Contains(string(b), `"type":"ok"`) {
		ws.Close()
		return nil, fmt.Errorf("join: %s %v", b, err)
	}
	return ws, nil
}

// dialMany connects n clients, 50 at a time.
func dialMany(ctx context.Context, kind, url string, n int) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	sem := make(chan struct{}, 50)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws, err := dialJoin(ctx, kind, url)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			conns[i] = ws
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		closeAll(conns)
		return nil, err
	}
	return conns, nil
}

func closeAll(conns []*websocket.Conn) {
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// startChild starts the server a scenario measures.
func startChild(env *Env, kind string, dir string, natsURL string) (*serverProc, error) {
	spec := childSpec{Kind: kind}
	if kind == childMoonbase {
		spec.Dir, spec.ChannelsBench, spec.NATSURL = dir, true, natsURL
	}
	return startServerProc(env, spec)
}

// receiver reads frames from subscribers, recording the latency of each
// message frame into per-goroutine histograms while measuring is on.
type receiver struct {
	measuring  atomic.Bool
	delivered  atomic.Uint64 // every message frame, measured or not
	measured   atomic.Uint64
	errors     atomic.Uint64
	firstErr   atomic.Value
	mu         sync.Mutex
	hist       histogram
	wg         sync.WaitGroup
	shouldStop atomic.Bool
}

func (r *receiver) read(ws *websocket.Conn) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		var h histogram
		defer func() {
			r.mu.Lock()
			r.hist.merge(&h)
			r.mu.Unlock()
		}()
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				if !r.shouldStop.Load() {
					r.errors.Add(1)
					r.firstErr.CompareAndSwap(nil, err)
				}
				return
			}
			t, ok := stampOf(b)
			if !ok {
				continue
			}
			r.delivered.Add(1)
			if r.measuring.Load() {
				h.record(time.Since(time.Unix(0, t)))
				r.measured.Add(1)
			}
		}
	}()
}

// fanout measures delivery to fanoutSubs subscribers of one channel, at a
// fixed rate or saturated.
func fanout(ctx context.Context, env *Env, opts RunOptions, kind string, saturate bool) (Result, error) {
	start := time.Now()
	p, err := startChild(env, kind, envDir(env, "fanout"), "")
	if err != nil {
		return Result{}, err
	}
	defer p.stop()
	url := wsURL(kind, p.url)
	subs, err := dialMany(ctx, kind, url, fanoutSubs)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(subs)
	pub, err := dialJoin(ctx, kind, url)
	if err != nil {
		return Result{}, err
	}
	defer pub.Close()
	var oks atomic.Int64
	go func() { // the publisher's own frames (its copy, its answers) are read and dropped
		for {
			_, b, err := pub.ReadMessage()
			if err != nil {
				return
			}
			if bytes.Contains(b, []byte(`"type":"ok"`)) {
				oks.Add(1)
			}
		}
	}()
	var r receiver
	for _, s := range subs {
		r.read(s)
	}
	res := Result{Name: "", Workers: 1, Setup: time.Since(start)}
	frame := sendFrame(kind)
	sent := uint64(0)
	publish := func(until time.Time) error {
		tick := time.NewTicker(time.Second / fanoutRate)
		defer tick.Stop()
		for time.Now().Before(until) {
			if saturate {
				// At most saturateWindow messages not yet delivered to everyone.
				for r.delivered.Load()+saturateWindow*fanoutSubs < sent*fanoutSubs {
					if time.Now().After(until) {
						return nil
					}
					time.Sleep(50 * time.Microsecond)
				}
			} else {
				<-tick.C
			}
			if err := pub.WriteMessage(websocket.TextMessage, frame(time.Now())); err != nil {
				return err
			}
			sent++
		}
		return nil
	}
	if err := publish(time.Now().Add(opts.Warmup)); err != nil {
		return res, err
	}
	w, err := openWindow(p)
	if err != nil {
		return res, err
	}
	r.measuring.Store(true)
	t0 := time.Now()
	err = profileDuring(p, opts.CPUProfile, func() error { return publish(t0.Add(opts.Duration)) })
	r.measuring.Store(false)
	res.Elapsed = time.Since(t0)
	// What the publisher offered against what the server took in and
	// what reached the subscribers, to tell a server that falls behind
	// from clients that do.
	if kind == childMoonbase {
		fmt.Fprintf(os.Stderr, "bench:   %d messages sent (warm-up included), %d answered by the server, %d deliveries\n", sent, oks.Load(), r.delivered.Load())
	} else {
		fmt.Fprintf(os.Stderr, "bench:   %d messages sent (warm-up included), %d deliveries\n", sent, r.delivered.Load())
	}
	if ferr := w.fill(&res); err == nil {
		err = ferr
	}
	r.shouldStop.Store(true)
	closeAll(subs)
	r.wg.Wait()
	res.Ops = r.measured.Load()
	res.Errors = r.errors.Load()
	if e, _ := r.firstErr.Load().(error); e != nil {
		res.FirstErr = e
	}
	res.P50, res.P99 = r.hist.quantile(0.50), r.hist.quantile(0.99)
	return res, err
}

// idle measures the server's resident memory holding idleConns
// connections joined to one channel.
func idle(ctx context.Context, env *Env, opts RunOptions, kind string) (Result, error) {
	start := time.Now()
	p, err := startChild(env, kind, envDir(env, "idle"), "")
	if err != nil {
		return Result{}, err
	}
	defer p.stop()
	w, err := openWindow(p)
	if err != nil {
		return Result{}, err
	}
	t0 := time.Now()
	conns, err := dialMany(ctx, kind, wsURL(kind, p.url), idleConns)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	res := Result{Workers: 50, Setup: time.Since(start) - time.Since(t0), Elapsed: time.Since(t0), Ops: idleConns}
	// Idle for the measured duration, so that memory settles.
	err = profileDuring(p, opts.CPUProfile, func() error {
		select {
		case <-time.After(opts.Duration):
		case <-ctx.Done():
		}
		return nil
	})
	if ferr := w.fill(&res); err == nil {
		err = ferr
	}
	if rss, rerr := procStatusBytes(p.pid(), "VmRSS"); rerr == nil {
		res.PeakRSS = rss // what 10,000 idle connections hold now, not the connecting burst
		res.PeakReset = false
	}
	return res, err
}

// crossProcess sends through one moonbase process and measures delivery
// to subscribers of another sharing its data directory.
func crossProcess(ctx context.Context, env *Env, opts RunOptions, via string) (Result, error) {
	start := time.Now()
	natsURL := ""
	if via == "nats" {
		ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
		if err != nil {
			return Result{}, err
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			return Result{}, errors.New("NATS server did not start")
		}
		defer ns.Shutdown()
		natsURL = ns.ClientURL()
	}
	dir := envDir(env, "cross-"+via)
	a, err := startChild(env, childMoonbase, dir, natsURL)
	if err != nil {
		return Result{}, err
	}
	defer a.stop()
	b, err := startChild(env, childMoonbase, dir, natsURL)
	if err != nil {
		return Result{}, err
	}
	defer b.stop()
	subs, err := dialMany(ctx, childMoonbase, wsURL(childMoonbase, b.url), crossSubs)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(subs)
	pub, err := dialJoin(ctx, childMoonbase, wsURL(childMoonbase, a.url))
	if err != nil {
		return Result{}, err
	}
	defer pub.Close()
	go func() {
		for {
			if _, _, err := pub.ReadMessage(); err != nil {
				return
			}
		}
	}()
	var r receiver
	for _, s := range subs {
		r.read(s)
	}
	// Wait until B hears of A (its heartbeat) before measuring.
	frame := sendFrame(childMoonbase)
	ready := time.Now().Add(30 * time.Second)
	for r.delivered.Load() == 0 {
		if time.Now().After(ready) {
			return Result{}, errors.New("no message crossed from A to B within 30s")
		}
		if err := pub.WriteMessage(websocket.TextMessage, frame(time.Now())); err != nil {
			return Result{}, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	res := Result{Workers: 1, Setup: time.Since(start)}
	w, err := openWindow(a, b)
	if err != nil {
		return res, err
	}
	r.measuring.Store(true)
	t0 := time.Now()
	tick := time.NewTicker(time.Second / fanoutRate)
	for time.Since(t0) < opts.Duration {
		<-tick.C
		if err = pub.WriteMessage(websocket.TextMessage, frame(time.Now())); err != nil {
			break
		}
	}
	tick.Stop()
	// Let the last messages arrive.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && r.measured.Load() < uint64(opts.Duration.Seconds()*fanoutRate*crossSubs)*9/10 {
		time.Sleep(10 * time.Millisecond)
	}
	r.measuring.Store(false)
	res.Elapsed = time.Since(t0)
	if ferr := w.fill(&res); err == nil {
		err = ferr
	}
	r.shouldStop.Store(true)
	closeAll(subs)
	r.wg.Wait()
	res.Ops, res.Errors = r.measured.Load(), r.errors.Load()
	if e, _ := r.firstErr.Load().(error); e != nil {
		res.FirstErr = e
	}
	res.P50, res.P99 = r.hist.quantile(0.50), r.hist.quantile(0.99)
	return res, err
}

// envDir is a fresh data directory under the run's scratch space.
func envDir(env *Env, name string) string {
	return fmt.Sprintf("%s/channels-%s-%d", env.Dir, name, time.Now().UnixNano())
}
