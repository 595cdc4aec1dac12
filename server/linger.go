package server

import (
	"io"
	"net"
	"sync"
	"time"
)

// How long, and how much, a closing connection keeps reading what the
// client still sends.
const (
	lingerTimeout  = 2 * time.Second
	lingerMaxBytes = 16 << 20
)

// lingerListener makes closing a connection graceful. When the server
// answers before reading a whole request (an oversize body gets 413 as soon
// as its Content-Length is seen) and closes at once, the client is still
// sending, and the kernel answers the unread data with a reset that
// destroys the response in the client's buffers: the client sees
// "connection reset" instead of 413. Like nginx's lingering close, a
// closing connection first shuts its sending side (the client sees the end
// of the response), then reads and discards what is still coming for a
// short while, and only then closes.
type lingerListener struct {
	net.Listener
	closing *lingerSet // tracks lingering closes, so Shutdown can wait for them
}

// lingerSet counts the connections closing gracefully. Once the server has
// begun waiting for them, a connection that closes later (a WebSocket the
// hub ends during shutdown, a client closing at that moment) closes at
// once instead of joining the count, so waiting and joining never race.
type lingerSet struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// join counts one more lingering close, or reports false once wait began.
func (s *lingerSet) join() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *lingerSet) leave() { s.wg.Done() }

// wait stops new lingering closes and waits for those under way.
func (s *lingerSet) wait() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.wg.Wait()
}

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingerConn{TCPConn: tc, closing: l.closing}, nil
	}
	return c, nil
}

type lingerConn struct {
	*net.TCPConn
	closing *lingerSet
	once    sync.Once
}

// Close starts the lingering close and returns at once.
func (c *lingerConn) Close() error {
	c.once.Do(func() {
		if !c.closing.join() {
			_ = c.TCPConn.Close()
			return
		}
		if c.TCPConn.CloseWrite() != nil || c.TCPConn.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
			_ = c.TCPConn.Close()
			c.closing.leave()
			return
		}
		go func() {
			defer c.closing.leave()
			_, _ = io.CopyN(io.Discard, c.TCPConn, lingerMaxBytes)
			_ = c.TCPConn.Close()
		}()
	})
	return nil
}
