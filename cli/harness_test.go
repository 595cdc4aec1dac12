package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server"
)

const cliTestToken = "cli-e2e-admin-token-0123456789"

// startMoonbase starts a real server on 127.0.0.1:0 with the embedded
// store in a temporary folder, configure changing its configuration
// first, and returns a client for it.
func startMoonbase(t *testing.T, configure ...func(*server.Config)) adminCLI {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Auth.BcryptCost = 4
	cfg.AdminToken = cliTestToken
	for _, f := range configure {
		f(&cfg)
	}
	srv, err := server.New(cfg, server.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Stderr: io.Discard})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return adminCLI{t: t, url: srv.URL(), token: cliTestToken}
}

// adminCLI runs commands against one server with its URL and token.
type adminCLI struct {
	t          *testing.T
	url, token string
}

func (a adminCLI) run(args ...string) cliRun {
	a.t.Helper()
	return a.runWithInput("", args...)
}

// runWithInput runs a command with stdin.
func (a adminCLI) runWithInput(stdin string, args ...string) cliRun {
	a.t.Helper()
	return runCLI(a.t, stdin, append(args, "--url", a.url, "--token", a.token)...)
}

// ok runs a command that must succeed and returns its stdout.
func (a adminCLI) ok(args ...string) string {
	a.t.Helper()
	r := a.run(args...)
	if r.err != nil {
		a.t.Fatalf("moonbase %s: %v\nstderr: %s", strings.Join(args, " "), r.err, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail and checks its whole stderr.
func (a adminCLI) fails(wantStderr string, args ...string) {
	a.t.Helper()
	r := a.run(args...)
	if r.err == nil {
		a.t.Fatalf("moonbase %s succeeded; stdout %q", strings.Join(args, " "), r.stdout)
	}
	if r.stderr != wantStderr {
		a.t.Errorf("moonbase %s: stderr\n got %q\nwant %q", strings.Join(args, " "), r.stderr, wantStderr)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeTree creates files under a new temporary folder: path → content.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// cliRun is what one command printed and returned.
type cliRun struct {
	stdout, stderr string
	err            error
}

// runCLI runs the real command tree with args, as main does: stderr ends
// with the "moonbase: …" line main prints for an error.
func runCLI(t *testing.T, stdin string, args ...string) cliRun {
	t.Helper()
	return runCLIContext(context.Background(), t, stdin, &testsupport.LockedBuffer{}, args...)
}

func runCLIContext(ctx context.Context, t *testing.T, stdin string, stdout *testsupport.LockedBuffer, args ...string) cliRun {
	t.Helper()
	root := newTestRoot()
	var stderr testsupport.LockedBuffer
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(stdin))
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(&stderr, "moonbase: "+OneLine(err.Error()))
	}
	return cliRun{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// newTestRoot is the command tree as main builds it, with a server that
// the client tests never start.
func newTestRoot() *Command {
	return New(Config{Version: "test"}, Deps{
		Serve: func(context.Context, string, bool) error { return errors.New("serve is not part of the client tests") },
	})
}
