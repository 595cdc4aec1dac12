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
	wg *sync.WaitGroup // tracks lingering closes, so Shutdown can wait for them
}

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingerConn{TCPConn: tc, wg: l.wg}, nil
	}
	return c, nil
}

type lingerConn struct {
	*net.TCPConn
	wg   *sync.WaitGroup
	once sync.Once
}

// Close starts the lingering close and returns at once.
func (c *lingerConn) Close() error {
	c.once.Do(func() {
		if c.TCPConn.CloseWrite() != nil || c.TCPConn.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
			_ = c.TCPConn.Close()
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_, _ = io.CopyN(io.Discard, c.TCPConn, lingerMaxBytes)
			_ = c.TCPConn.Close()
		}()
	})
	return nil
}
