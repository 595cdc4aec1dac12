package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/cli"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server"
)

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^moonbase \S+ \(go\S+\)\n$`).MatchString(out.String()) {
		t.Errorf("version printed %q", out.String())
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(bad, []byte("server:\n  adr: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--config", bad}, "config: " + bad + ": line 2: unknown key adr"},
		{[]string{"--config", filepath.Join(dir, "missing.yaml")}, "missing.yaml: no such file or directory"},
		{[]string{"serve", "extra"}, `unknown command "extra"`},
	} {
		root := newRootCmd()
		root.SetArgs(c.args)
		root.SetOut(&bytes.Buffer{})
		root.SetErr(&bytes.Buffer{})
		err := root.Execute()
		if err == nil || !strings.Contains(cli.OneLine(err.Error()), c.want) || strings.Contains(cli.OneLine(err.Error()), "\n") {
			t.Errorf("%v: %v, want one line with %q", c.args, err, c.want)
		}
	}
}

// TestServeUntilStopped runs serve as the command does, checks it answers
// and printed the admin token, then ends its context as a signal would.
func TestServeUntilStopped(t *testing.T) {
	t.Parallel()
	cfg := server.DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr testsupport.LockedBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, func() {}, cfg, &stderr) }()

	listening := regexp.MustCompile(`msg="moonbase listening" addr=(\S+)`)
	var addr string
	deadline := time.Now().Add(20 * time.Second)
	for addr == "" {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", stderr.String())
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()
	if !regexp.MustCompile(`\n      mbadmin_[A-Za-z0-9_-]{43}\n`).MatchString(stderr.String()) {
		t.Errorf("no admin token printed:\n%s", stderr.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	if !strings.Contains(stderr.String(), `msg="moonbase stopped"`) {
		t.Errorf("no clean stop logged:\n%s", stderr.String())
	}
}
