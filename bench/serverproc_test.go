package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as a child process, as the benchmark
// program does: the scenarios start servers from their own executable.
func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(childMain(spec, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestServerProcMeasured(t *testing.T) {
	t.Parallel()
	env := NewEnv(1, t.TempDir())
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	})
	p, err := startServerProc(env, childSpec{Kind: childFiber})
	if err != nil {
		t.Fatal(err)
	}
	w, err := openWindow(p)
	if err != nil {
		t.Fatal(err)
	}
	r := goLoad(t.Context(), hostOf(p.url), loadTarget{Method: "GET", Path: "/hello", Want: `"message":"hello"`}, 4, 0, 2000)
	if r.ops != 2000 || r.errors != 0 {
		t.Fatalf("ops %d, errors %d: %v", r.ops, r.errors, r.firstErr)
	}
	var res Result
	if err := w.fill(&res); err != nil {
		t.Fatal(err)
	}
	if res.PeakRSS < 1<<20 || !res.PeakReset {
		t.Errorf("peak RSS %d bytes, reset %v", res.PeakRSS, res.PeakReset)
	}
	profile := t.TempDir() + "/cpu"
	if err := profileDuring(p, profile, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{profile, profile + ".heap"} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("profile %s: %v", f, err)
		}
	}
	if err := p.command("dance"); err == nil || err.Error() != `server process: error: unknown command "dance"` {
		t.Errorf("unknown command: %v", err)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := procCPU(p.pid()); err == nil {
		t.Error("a stopped process still has a CPU time")
	}
}

func TestServerProcRefusesUnknownKind(t *testing.T) {
	t.Parallel()
	env := NewEnv(1, t.TempDir())
	defer env.Close()
	_, err := startServerProc(env, childSpec{Kind: "nginx"})
	if err == nil || !strings.Contains(err.Error(), `nginx server exited before listening: bench server: unknown server kind "nginx"`) {
		t.Fatalf("got %v", err)
	}
}

func TestProcCPUOfSelf(t *testing.T) {
	t.Parallel()
	start := time.Now()
	for time.Since(start) < 50*time.Millisecond {
	}
	cpu, err := procCPU(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Fatalf("cpu %s, %v", cpu, err)
	}
	if _, err := procStatusBytes(os.Getpid(), "VmNothing"); err == nil || !strings.Contains(err.Error(), "VmNothing not in /proc/") {
		t.Fatalf("missing field: %v", err)
	}
}

func TestRawConnChecksAnswers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "headers", http.StatusBadRequest)
				return
			}
			w.Write([]byte(`{"message":"hello"}`))
		case "/missing":
			http.Error(w, "no such thing", http.StatusNotFound)
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte(`{"message":"bye"}`))
		case "/chunked":
			w.Write([]byte("part"))
			w.(http.Flusher).Flush()
			w.Write([]byte("more"))
		}
	}))
	defer srv.Close()
	c := &rawConn{addr: hostOf(srv.URL)}
	defer c.close()
	body := []byte(`{}`)
	scenarios := []struct {
		path, want, err string
	}{
		{"/ok", "hello", ""},
		{"/ok", "goodbye", `POST /ok: answer lacks goodbye: {"message":"hello"}`},
		{"/missing", "", "POST /missing: status 404: no such thing\n"},
		{"/close", "bye", ""},
		{"/ok", "hello", ""}, // on a new connection
		{"/chunked", "", `POST /chunked: Transfer-Encoding "chunked" is not read by this client`},
		{"/ok", "hello", ""},
	}
	for _, s := range scenarios {
		err := c.do(loadTarget{Method: "POST", Path: s.path, Token: "tok"}, body, s.want)
		if got := errString(err); got != s.err {
			t.Errorf("%s: got error %q, want %q", s.path, got, s.err)
		}
	}
	closed := &rawConn{addr: "127.0.0.1:1"}
	var opErr *net.OpError
	if err := closed.do(loadTarget{Method: "GET", Path: "/"}, nil, ""); !errors.As(err, &opErr) {
		t.Errorf("refused connection: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
