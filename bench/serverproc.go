package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/channels"
	"github.com/moonbase-dev/moonbase/server"
)

// childEnv, in the environment of a process started from this program's
// own executable, makes that process serve instead of benchmark. A server
// measured from another process is measured alone: its CPU time and peak
// memory come from /proc/<pid>, with no load generator mixed in.
const childEnv = "MOONBASE_BENCH_CHILD"

// benchAdminToken is the admin token of every server the benchmark starts.
const benchAdminToken = "bench-admin-token-0123456789"

// Kinds of server a child process runs.
const (
	childMoonbase = "moonbase" // server.New with its default configuration
	childFiber    = "fiber"    // a bare fiber app: GET /hello answers {"message":"hello"}
)

// childSpec says what a child process serves.
type childSpec struct {
	Kind string `json:"kind"`
	// Dir is a Moonbase server's data directory (embedded store).
	Dir string `json:"dir,omitempty"`
	// Collections are the data API's collections (config.yaml's).
	Collections map[string]server.CollectionConfig `json:"collections,omitempty"`
	// AllowHosts lets functions' backend.http.request reach these hosts.
	AllowHosts []string `json:"allow_hosts,omitempty"`
	// ChannelsBench opens the bench: channels to anyone, with no limit on
	// the frame rate and no presence.
	ChannelsBench bool `json:"channels_bench,omitempty"`
	// NATSURL fans channels out over this NATS server.
	NATSURL string `json:"nats_url,omitempty"`
	// MemoryLimit and FunctionTimeout, when not zero, set
	// functions.memory_limit and functions.timeout.
	MemoryLimit     int64         `json:"memory_limit,omitempty"`
	FunctionTimeout time.Duration `json:"function_timeout,omitempty"`
}

// childMain is the whole life of a child process: it serves spec, prints
// "listening URL" on stdout, then obeys the lines it reads on stdin —
// "profile PATH" starts a CPU profile, "stop-profile" ends it, "heap
// PATH" writes a heap profile, each answered "ok" or "error: …" — and
// shuts down when stdin closes. It returns the exit status.
func childMain(rawSpec string, stdin io.Reader, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "bench server:", err)
		return 2
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(rawSpec), &spec); err != nil {
		return fail(fmt.Errorf("%s: %w", childEnv, err))
	}
	url, shutdown, err := serveChild(spec)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "listening %s\n", url)
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		fmt.Fprintln(stdout, childCommand(sc.Text()))
	}
	pprof.StopCPUProfile()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		return fail(err)
	}
	return 0
}

// childCommand runs one control line and returns its answer.
func childCommand(line string) string {
	cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch cmd {
	case "profile":
		f, err := os.Create(arg)
		if err != nil {
			return "error: " + err.Error()
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return "error: " + err.Error()
		}
		return "ok"
	case "stop-profile":
		pprof.StopCPUProfile()
		return "ok"
	case "heap":
		f, err := os.Create(arg)
		if err != nil {
			return "error: " + err.Error()
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			return "error: " + err.Error()
		}
		return "ok"
	}
	return fmt.Sprintf("error: unknown command %q", line)
}

// serveChild starts what spec asks for on a free loopback port.
func serveChild(spec childSpec) (string, func(context.Context) error, error) {
	switch spec.Kind {
	case childFiber:
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Get("/hello", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"message": "hello"}) })
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		go func() { _ = app.Listener(ln) }()
		return "http://" + ln.Addr().String(), app.ShutdownWithContext, nil
	case childHub:
		return serveHub()
	case childMoonbase:
		cfg := server.DefaultConfig()
		cfg.Server.Addr = "127.0.0.1:0"
		cfg.DataDir = spec.Dir
		cfg.AdminToken = benchAdminToken
		cfg.Collections = spec.Collections
		cfg.Functions.HTTP.AllowHosts = spec.AllowHosts
		if spec.MemoryLimit != 0 {
			cfg.Functions.MemoryLimit = spec.MemoryLimit
		}
		if spec.FunctionTimeout != 0 {
			cfg.Functions.Timeout = spec.FunctionTimeout
		}
		if spec.ChannelsBench {
			cfg.Channels.Rules = map[string]channels.Rule{"bench:*": {Join: channels.Public, Send: channels.Public, Presence: new(false)}}
			cfg.Channels.MessagesPerSecond = 1 << 30
			cfg.Channels.NATSURL = spec.NATSURL
		}
		if err := cfg.Validate(); err != nil {
			return "", nil, err
		}
		// Request logs are formatted as in production, then dropped: the
		// cost of the terminal or file they would go to is not Moonbase's.
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv, err := server.New(cfg, server.Deps{Logger: logger, Stderr: io.Discard})
		if err != nil {
			return "", nil, err
		}
		if err := srv.Start(context.Background()); err != nil {
			_ = srv.Shutdown(context.Background())
			return "", nil, err
		}
		return srv.URL(), srv.Shutdown, nil
	}
	return "", nil, fmt.Errorf("unknown server kind %q", spec.Kind)
}

// serverProc is a child process serving a childSpec.
type serverProc struct {
	cmd     *exec.Cmd
	url     string
	stdin   io.WriteCloser
	replies chan string
	logs    *lockedBuffer
	done    chan struct{}
	stopped sync.Once
	stopErr error
}

// lockedBuffer collects a child's stderr for error messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServerProc starts a child serving spec from this program's own
// executable, waits until it listens, and stops it when the run ends.
func startServerProc(env *Env, spec childSpec) (*serverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	p := &serverProc{replies: make(chan string, 4), logs: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(exe)
	p.cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	p.cmd.Stderr = p.logs
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	env.Cleanup(p.stop)
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				listening <- url
				continue
			}
			p.replies <- sc.Text()
		}
	}()
	select {
	case p.url = <-listening:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s server exited before listening: %s", spec.Kind, strings.TrimSpace(p.logs.String()))
	case <-time.After(2 * time.Minute):
		_ = p.stop()
		return nil, fmt.Errorf("%s server did not listen within 2 minutes: %s", spec.Kind, strings.TrimSpace(p.logs.String()))
	}
}

// pid is the child's process id.
func (p *serverProc) pid() int { return p.cmd.Process.Pid }

// command sends one control line and waits for its answer.
func (p *serverProc) command(line string) error {
	if _, err := fmt.Fprintln(p.stdin, line); err != nil {
		return err
	}
	select {
	case r := <-p.replies:
		if r != "ok" {
			return fmt.Errorf("server process: %s", r)
		}
		return nil
	case <-p.done:
		return fmt.Errorf("server process exited: %s", strings.TrimSpace(p.logs.String()))
	case <-time.After(30 * time.Second):
		return errors.New("server process did not answer " + line)
	}
}

// stop closes the child's stdin, which shuts it down, and kills it if it
// has not exited within 40 seconds. It is idempotent.
func (p *serverProc) stop() error {
	p.stopped.Do(func() {
		_ = p.stdin.Close()
		select {
		case <-p.done:
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				p.stopErr = fmt.Errorf("server process %d exited with status %d: %s", p.pid(), code, strings.TrimSpace(p.logs.String()))
			}
		case <-time.After(40 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			p.stopErr = fmt.Errorf("server process %d did not shut down within 40s; killed", p.pid())
		}
	})
	return p.stopErr
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// 100 on every Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

// procCPU is the user and system time process pid has used, every thread
// included, to the kernel's 10 ms tick.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15 of the whole line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// procStatusBytes reads a "kB" field of /proc/<pid>/status, such as VmHWM
// (peak resident set) or VmRSS, in bytes.
func procStatusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// procWindow measures server processes over a stretch of time: their
// CPU time, and their peak resident sets since the window opened.
type procWindow struct {
	procs []*serverProc
	cpu0  []time.Duration
	reset bool
}

// openWindow resets the processes' peak resident sets to their current
// ones (Linux 4.0 and later) and notes their CPU time.
func openWindow(procs ...*serverProc) (*procWindow, error) {
	w := &procWindow{procs: procs, reset: true}
	for _, p := range procs {
		if err := os.WriteFile("/proc/"+strconv.Itoa(p.pid())+"/clear_refs", []byte("5"), 0); err != nil {
			w.reset = false
		}
		cpu, err := procCPU(p.pid())
		if err != nil {
			return nil, err
		}
		w.cpu0 = append(w.cpu0, cpu)
	}
	return w, nil
}

// close returns the CPU time the processes used since the window opened,
// all together, and the largest of their peak resident sets.
func (w *procWindow) close() (cpu time.Duration, peak int64, err error) {
	for i, p := range w.procs {
		c, err := procCPU(p.pid())
		if err != nil {
			return 0, 0, err
		}
		cpu += c - w.cpu0[i]
		hwm, err := procStatusBytes(p.pid(), "VmHWM")
		if err != nil {
			return 0, 0, err
		}
		peak = max(peak, hwm)
	}
	return cpu, peak, nil
}

// fill sets res's CPU and peak RSS from the window, which it closes.
func (w *procWindow) fill(res *Result) error {
	cpu, peak, err := w.close()
	res.CPU, res.PeakRSS, res.PeakReset = cpu, peak, w.reset
	return err
}

// profileDuring runs fn with a CPU profile of p written to path when path
// is not empty, and then writes p's heap profile to path.heap.
func profileDuring(p *serverProc, path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	if err := p.command("profile " + path); err != nil {
		return err
	}
	err := fn()
	return errors.Join(err, p.command("stop-profile"), p.command("heap "+path+".heap"))
}
