package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadgenEnv chooses the load generator of the HTTP load scenarios: "wrk"
// (Debian's wrk, which must be on PATH), "go" (the generator below, in
// this process), or unset for wrk when it is on PATH and go otherwise.
// Runs of exactly -n requests always use go: wrk runs for a time.
const loadgenEnv = "MOONBASE_BENCH_LOADGEN"

// loadTarget is the request a load run sends over and over.
type loadTarget struct {
	Method string
	Path   string
	// Token, when set, goes as "Authorization: Bearer Token".
	Token string
	// Body, when set, makes a request's JSON body and a string its answer
	// must hold; without it requests have no body and answers hold Want.
	Body func(r *rand.Rand) (body []byte, want string)
	Want string
	// Status is the answer's expected status; 0 means 200.
	Status int
	// WrkBody is a Lua expression wrk evaluates for each request's body
	// (wrk checks no answers); "" sends Body's first body every time.
	WrkBody string
}

func (t loadTarget) status() int {
	if t.Status == 0 {
		return 200
	}
	return t.Status
}

// loadResult is what one load run measured.
type loadResult struct {
	generator string
	ops       uint64
	errors    uint64
	firstErr  error
	elapsed   time.Duration
	p50, p99  time.Duration
}

// loadGenerator picks the generator for a run of d (or exactly n
// requests when n > 0).
func loadGenerator(n uint64) (string, error) {
	switch g := os.Getenv(loadgenEnv); g {
	case "go":
		return "go", nil
	case "wrk":
		if n > 0 {
			return "go", nil
		}
		if _, err := exec.LookPath("wrk"); err != nil {
			return "", fmt.Errorf("%s=wrk: %w", loadgenEnv, err)
		}
		return "wrk", nil
	case "":
		if _, err := exec.LookPath("wrk"); err == nil && n == 0 {
			return "wrk", nil
		}
		return "go", nil
	default:
		return "", fmt.Errorf("%s=%q: use go or wrk", loadgenEnv, g)
	}
}

// runLoad sends t to base from conns keep-alive connections for d, or
// exactly n requests when n > 0.
func runLoad(ctx context.Context, gen, base string, t loadTarget, conns int, d time.Duration, n uint64, scratch string) (loadResult, error) {
	if gen == "wrk" {
		return wrkLoad(ctx, base, t, conns, d, scratch)
	}
	u, err := url.Parse(base)
	if err != nil {
		return loadResult{}, err
	}
	return goLoad(ctx, u.Host, t, conns, d, n), nil
}

// goLoad is the built-in generator: one goroutine per connection, each
// writing a request and reading its answer whole (status, Content-Length
// body, the expected content) before the next, with nothing between the
// socket and the timer but a bufio.Reader.
func goLoad(ctx context.Context, addr string, t loadTarget, conns int, d time.Duration, n uint64) loadResult {
	var (
		stop     atomic.Bool
		claimed  atomic.Uint64
		errCount atomic.Uint64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	hists := make([]histogram, conns)
	done := make([]uint64, conns)
	start := time.Now()
	for id := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &rawConn{addr: addr}
			defer c.close()
			r := rand.New(rand.NewPCG(3, uint64(id)))
			for !stop.Load() && ctx.Err() == nil {
				if n > 0 && claimed.Add(1) > n {
					break
				}
				body, want := []byte(nil), t.Want
				if t.Body != nil {
					body, want = t.Body(r)
				}
				t0 := time.Now()
				err := c.do(t, body, want)
				hists[id].record(time.Since(t0))
				done[id]++
				if err != nil {
					errCount.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			}
		}()
	}
	if n == 0 {
		timer := time.AfterFunc(d, func() { stop.Store(true) })
		defer timer.Stop()
	}
	wg.Wait()
	res := loadResult{generator: "go", elapsed: time.Since(start), errors: errCount.Load(), firstErr: firstErr}
	var h histogram
	for i := range hists {
		h.merge(&hists[i])
		res.ops += done[i]
	}
	res.p50, res.p99 = h.quantile(0.50), h.quantile(0.99)
	return res
}

// rawConn is one keep-alive HTTP/1.1 connection, dialled on first use and
// again after an error or a "Connection: close".
type rawConn struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	req  []byte
	body []byte
}

func (c *rawConn) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}

// do sends one request and checks its answer.
func (c *rawConn) do(t loadTarget, body []byte, want string) error {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return err
		}
		c.conn, c.br = conn, bufio.NewReaderSize(conn, 16<<10)
	}
	c.req = append(c.req[:0], t.Method...)
	c.req = append(c.req, ' ')
	c.req = append(c.req, t.Path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.addr...)
	c.req = append(c.req, "\r\n"...)
	if t.Token != "" {
		c.req = append(c.req, "Authorization: Bearer "...)
		c.req = append(c.req, t.Token...)
		c.req = append(c.req, "\r\n"...)
	}
	if body != nil {
		c.req = append(c.req, "Content-Type: application/json\r\nContent-Length: "...)
		c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
		c.req = append(c.req, "\r\n"...)
	}
	c.req = append(c.req, "\r\n"...)
	c.req = append(c.req, body...)
	if _, err := c.conn.Write(c.req); err != nil {
		c.close()
		return err
	}
	status, err := c.read()
	if err != nil {
		c.close()
		return fmt.Errorf("%s %s: %w", t.Method, t.Path, err)
	}
	if status != t.status() {
		return fmt.Errorf("%s %s: status %d: %.200s", t.Method, t.Path, status, c.body)
	}
	if !bytes.Contains(c.body, []byte(want)) {
		return fmt.Errorf("%s %s: answer lacks %s: %.200s", t.Method, t.Path, want, c.body)
	}
	return nil
}

// read reads one answer: its status, and its body into c.body.
func (c *rawConn) read() (int, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("not an HTTP answer: %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("status line %q", line)
	}
	length, closing := -1, false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("Transfer-Encoding %q is not read by this client", value)
		}
	}
	if length < 0 {
		return 0, errors.New("answer without Content-Length")
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	if _, err := io.ReadFull(c.br, c.body); err != nil {
		return 0, err
	}
	if closing {
		c.close()
	}
	return status, nil
}

// wrkLoad runs `wrk -t1 -cN -dD --latency` with a script sending t.
func wrkLoad(ctx context.Context, base string, t loadTarget, conns int, d time.Duration, scratch string) (loadResult, error) {
	script, err := os.CreateTemp(scratch, "wrk-*.lua")
	if err != nil {
		return loadResult{}, err
	}
	defer os.Remove(script.Name())
	if _, err := io.WriteString(script, wrkScript(t)); err != nil {
		script.Close()
		return loadResult{}, err
	}
	if err := script.Close(); err != nil {
		return loadResult{}, err
	}
	secs := max(int((d+time.Second/2)/time.Second), 1)
	cmd := exec.CommandContext(ctx, "wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(secs)+"s",
		"--timeout", "10s", "--latency", "-s", filepath.Clean(script.Name()), base+t.Path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %w: %s%s", err, out, stderr.Bytes())
	}
	return parseWrk(string(out))
}

// wrkScript is the Lua that makes wrk send t.
func wrkScript(t loadTarget) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", t.Method)
	if t.Token != "" {
		fmt.Fprintf(&b, "wrk.headers[\"Authorization\"] = %q\n", "Bearer "+t.Token)
	}
	if t.Body == nil {
		return b.String()
	}
	b.WriteString("wrk.headers[\"Content-Type\"] = \"application/json\"\n")
	if t.WrkBody == "" {
		body, _ := t.Body(rand.New(rand.NewPCG(0, 0)))
		fmt.Fprintf(&b, "wrk.body = %q\n", body)
		return b.String()
	}
	fmt.Fprintf(&b, "request = function()\n  return wrk.format(nil, nil, nil, %s)\nend\n", t.WrkBody)
	return b.String()
}

var (
	wrkTotal    = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),`)
	wrkQuantile = regexp.MustCompile(`(?m)^\s*(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$`)
	wrkRate     = regexp.MustCompile(`(?m)^Requests/sec:\s+([\d.]+)`)
	wrkNon2xx   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk's report.
func parseWrk(out string) (loadResult, error) {
	res := loadResult{generator: "wrk"}
	m := wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return res, fmt.Errorf("wrk printed no request count: %s", out)
	}
	res.ops, _ = strconv.ParseUint(m[1], 10, 64)
	res.elapsed = wrkDuration(m[2], m[3])
	// The rate has more digits than the time wrk prints: it is the count
	// over the time in microseconds.
	if r := wrkRate.FindStringSubmatch(out); r != nil {
		if rate, _ := strconv.ParseFloat(r[1], 64); rate > 0 {
			res.elapsed = time.Duration(math.Round(float64(res.ops) / rate * float64(time.Second)))
		}
	}
	for _, q := range wrkQuantile.FindAllStringSubmatch(out, -1) {
		if q[1] == "50" {
			res.p50 = wrkDuration(q[2], q[3])
		} else {
			res.p99 = wrkDuration(q[2], q[3])
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		res.errors += n
		res.firstErr = fmt.Errorf("%d answers were not 2xx or 3xx", n)
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		var sum uint64
		for _, s := range m[1:] {
			n, _ := strconv.ParseUint(s, 10, 64)
			sum += n
		}
		if sum > 0 {
			res.errors += sum
			if res.firstErr == nil {
				res.firstErr = errors.New(strings.TrimSpace(m[0]))
			}
		}
	}
	return res, nil
}

func wrkDuration(num, unit string) time.Duration {
	f, _ := strconv.ParseFloat(num, 64)
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	return time.Duration(math.Round(f * float64(scale)))
}
