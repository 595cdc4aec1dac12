package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

func TestStartReportsBoundAddress(t *testing.T) {
	t.Parallel()
	s, err := New(testConfig(t), Deps{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr() != "" || s.URL() != "" {
		t.Errorf("before Start: Addr %q URL %q", s.Addr(), s.URL())
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || strings.HasSuffix(s.Addr(), ":0") {
		t.Errorf("Addr %q, want 127.0.0.1 with the bound port", s.Addr())
	}
	if err := s.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
	res, err := http.Get(s.URL() + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	ctx := context.Background()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := s.Store().Ping(ctx); !errors.Is(err, db.ErrClosed) {
		t.Errorf("store after Shutdown: Ping = %v, want ErrClosed", err)
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	t.Parallel()
	s, err := New(testConfig(t), Deps{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Error("Start after Shutdown succeeded")
	}
}

func TestStartOnBusyPort(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	cfg := testConfig(t)
	cfg.Server.Addr = ts.Addr()
	s, err := New(cfg, Deps{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "listen on "+ts.Addr()) {
		t.Errorf("Start on a busy port: %v", err)
	}
}

// TestShutdownDrainsInFlightRequests holds a request in its handler while
// Shutdown runs: the request completes, new connections are refused, and
// Shutdown returns only after the request is answered.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	t.Parallel()
	s, err := New(testConfig(t), Deps{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	s.App().Get("/slow", func(c *fiber.Ctx) error {
		close(entered)
		<-release
		// The store is still open while a request is in flight.
		if err := s.Store().Ping(c.UserContext()); err != nil {
			return err
		}
		return c.SendString("done")
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get(s.URL() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{status: res.StatusCode, body: string(b), err: err}
	}()
	<-entered

	var shutDown atomic.Bool
	shutdownErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdownErr <- s.Shutdown(ctx)
		shutDown.Store(true)
	}()
	testsupport.WaitFor(t, "the listener to close", func() bool {
		fresh := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		c, err := fresh.Get(s.URL() + "/healthz")
		if err == nil {
			c.Body.Close()
		}
		return err != nil
	})
	if shutDown.Load() {
		t.Fatal("Shutdown returned while a request was in flight")
	}
	close(release)
	r := <-got
	if r.err != nil || r.status != http.StatusOK || r.body != "done" {
		t.Errorf("in-flight request: %+v", r)
	}
	if err := <-shutdownErr; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t), Deps{})
	for _, path := range []string{"/healthz", "/readyz"} {
		res := ts.do(t, "GET", path, "", "")
		if res.status != http.StatusOK || res.body != `{"status":"ok"}` {
			t.Errorf("%s: %d %s", path, res.status, res.body)
		}
	}
	// With the store closed under it, the server is alive but not ready.
	if err := ts.Store().Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := ts.do(t, "GET", "/readyz", "", ""); res.status != http.StatusServiceUnavailable ||
		res.body != `{"error":{"code":"unavailable","message":"the database does not answer"}}` {
		t.Errorf("readyz on a closed store: %d %s", res.status, res.body)
	}
	if res := ts.do(t, "GET", "/healthz", "", ""); res.status != http.StatusOK {
		t.Errorf("healthz on a closed store: %d", res.status)
	}
}
