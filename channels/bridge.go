package channels

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/valyala/fasthttp"
)

// The bridge between fasthttp, which serves moonbase's HTTP, and
// gorilla/websocket, which needs an http.Hijacker: the request's headers
// are copied into an http.Request, fasthttp is told to hand the raw
// connection over without answering, and gorilla gets a ResponseWriter
// whose Hijack returns that connection, so gorilla writes the 101
// handshake itself.

// Upgrade upgrades the request of ctx to a WebSocket. It returns at once;
// once fasthttp has handed the connection over, serve runs with it on
// fasthttp's goroutine and the connection closes when serve returns. A
// request gorilla refuses (not a WebSocket handshake, a refused origin)
// gets gorilla's error answer on the raw connection.
func Upgrade(ctx *fasthttp.RequestCtx, up *websocket.Upgrader, serve func(*websocket.Conn, *http.Request)) {
	req := httpRequest(ctx)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(raw net.Conn) {
		conn := &guardedConn{Conn: raw}
		defer conn.release()
		w := &hijackWriter{conn: conn, header: http.Header{}}
		ws, err := up.Upgrade(w, req, nil)
		if err != nil {
			// gorilla has written its answer (400, 403) through w.
			return
		}
		serve(ws, req)
	})
}

// guardedConn is the hijacked connection as gorilla sees it. fasthttp
// closes the connection and recycles its wrapper once the hijack handler
// returns, and its Close does nothing before that; so Close here ends
// blocked reads and writes through their deadlines (the handler then
// returns and fasthttp closes for real), and once released every call
// fails instead of touching a recycled wrapper.
type guardedConn struct {
	net.Conn
	mu      sync.RWMutex
	closing atomic.Bool
	gone    bool

	// While corked, writes are gathered and go out in one write at
	// uncork: a batch of frames for one connection costs one system call.
	wmu    sync.Mutex
	corked bool
	batch  []byte
}

// cork starts gathering writes.
func (g *guardedConn) cork() {
	g.wmu.Lock()
	g.corked = true
	g.wmu.Unlock()
}

// uncork writes what was gathered, within deadline.
func (g *guardedConn) uncork(deadline time.Time) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	g.corked = false
	if len(g.batch) == 0 {
		return nil
	}
	b := g.batch
	g.batch = nil
	return g.do(func() error {
		if err := g.Conn.SetWriteDeadline(deadline); err != nil {
			return err
		}
		_, err := g.Conn.Write(b)
		return err
	})
}

func (g *guardedConn) do(f func() error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.gone || g.closing.Load() {
		return net.ErrClosed
	}
	return f()
}

func (g *guardedConn) Read(b []byte) (n int, err error) {
	err = g.do(func() error { n, err = g.Conn.Read(b); return err })
	return n, err
}

func (g *guardedConn) Write(b []byte) (n int, err error) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if g.corked {
		g.batch = append(g.batch, b...)
		return len(b), nil
	}
	err = g.do(func() error { n, err = g.Conn.Write(b); return err })
	return n, err
}

func (g *guardedConn) SetDeadline(t time.Time) error {
	return g.do(func() error { return g.Conn.SetDeadline(t) })
}

func (g *guardedConn) SetReadDeadline(t time.Time) error {
	return g.do(func() error { return g.Conn.SetReadDeadline(t) })
}

func (g *guardedConn) SetWriteDeadline(t time.Time) error {
	return g.do(func() error { return g.Conn.SetWriteDeadline(t) })
}

// Close wakes whatever is blocked on the connection; fasthttp closes it
// when the handler returns.
func (g *guardedConn) Close() error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.gone || !g.closing.CompareAndSwap(false, true) {
		return nil
	}
	return g.Conn.SetDeadline(time.Now())
}

// release marks the connection handed back to fasthttp.
func (g *guardedConn) release() {
	g.mu.Lock()
	g.gone = true
	g.mu.Unlock()
}

// httpRequest is the part of ctx's request an upgrade reads: method, URL,
// headers, remote address.
func httpRequest(ctx *fasthttp.RequestCtx) *http.Request {
	r := &http.Request{
		Method:     string(ctx.Method()),
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       string(ctx.Host()),
		RemoteAddr: ctx.RemoteAddr().String(),
		RequestURI: string(ctx.RequestURI()),
	}
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	r.URL = u
	for k, v := range ctx.Request.Header.All() {
		r.Header.Add(string(k), string(v))
	}
	return r
}

// hijackWriter is the http.ResponseWriter gorilla upgrades through. Only
// Hijack is really used; the rest writes a plain HTTP answer on the raw
// connection for the handshakes gorilla refuses.
type hijackWriter struct {
	conn     net.Conn
	header   http.Header
	status   int
	hijacked bool
}

func (w *hijackWriter) Header() http.Header { return w.header }

func (w *hijackWriter) WriteHeader(status int) {
	if w.status != 0 || w.hijacked {
		return
	}
	w.status = status
	resp := &http.Response{StatusCode: status, ProtoMajor: 1, ProtoMinor: 1, Header: w.header}
	w.header.Set("Connection", "close")
	_ = resp.Write(w.conn)
}

func (w *hijackWriter) Write(b []byte) (int, error) {
	if w.hijacked {
		return 0, errors.New("connection hijacked")
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.conn.Write(b)
}

// Hijack hands gorilla the connection fasthttp gave up.
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, errors.New("connection already hijacked")
	}
	w.hijacked = true
	// gorilla reads and writes through buffers of its own after the
	// handshake; these only need to exist, so they are as small as bufio
	// allows (the handshake's answer grows past the writer's as needed).
	return w.conn, bufio.NewReadWriter(bufio.NewReaderSize(w.conn, 16), bufio.NewWriterSize(w.conn, 16)), nil
}
