package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/server"
)

// TestTryCommands runs the "try it" commands of README.md and
// examples/README.md as they are written, with the moonbase command built
// as the README says, each against a fresh server. The one change is the
// address: localhost:8080 becomes the test server's, which listens on a
// free port of 127.0.0.1.
func TestTryCommands(t *testing.T) {
	bin := t.TempDir()
	readme := readFile(t, "README.md")
	if !strings.Contains(readme, "go build -o moonbase .") {
		t.Fatal("README.md no longer says how to build the moonbase command")
	}
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "moonbase"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// README.md: a block that starts the server, then the commands.
	blocks := shBlocks(sectionOf(t, readme, "## Try it"))
	if len(blocks) != 2 || !strings.Contains(blocks[0], "moonbase serve") {
		t.Fatalf("README.md's Try it section should hold the serve block and the commands, found %q", blocks)
	}
	token := exportedToken(t, blocks[0])
	out := runTry(t, bin, token, blocks[1])
	for _, want := range []string{"created sendWelcomeEmail v1", `"message":"Hello, Ada Lovelace!"`, `"message": "Hello, Ada Lovelace!"`} {
		if !strings.Contains(out, want) {
			t.Errorf("README.md's commands did not print %q:\n%s", want, out)
		}
	}

	// examples/README.md: the commands against a server already running.
	examples := readFile(t, filepath.Join("examples", "README.md"))
	blocks = shBlocks(sectionOf(t, examples, "Try them"))
	if len(blocks) == 0 {
		t.Fatal("examples/README.md has no commands after Try them")
	}
	out = runTry(t, bin, "examples-try-admin-token-0123456789", blocks[0])
	for _, want := range []string{"created processData v1", "created trial-reminder v1", `"batch": 123`, `"sent": 0`, `"message":"Hello, Alice!"`, `"message":"Hello, Dan!"`} {
		if !strings.Contains(out, want) {
			t.Errorf("examples/README.md's commands did not print %q:\n%s", want, out)
		}
	}
}

// runTry runs script with sh -e against a new server whose admin token is
// token, from the repository's root with bin first on PATH, and returns
// what it printed.
func runTry(t *testing.T, bin, token, script string) string {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Auth.BcryptCost = 4
	cfg.AdminToken = token
	srv, err := server.New(cfg, server.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Stderr: io.Discard})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}()
	addr := strings.TrimPrefix(srv.URL(), "http://")
	script = strings.ReplaceAll(script, "localhost:8080", addr)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-x", "-c", script)
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "MOONBASE_URL=" + srv.URL(), "MOONBASE_ADMIN_TOKEN=" + token}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "MOONBASE_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the commands failed: %v\n%s", err, out)
	}
	return string(out)
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sectionOf is the text from the line starting with heading to the next
// "## " heading.
func sectionOf(t *testing.T, doc, heading string) string {
	t.Helper()
	at := strings.Index(doc, "\n"+heading)
	if at < 0 {
		t.Fatalf("no %q in the document", heading)
	}
	rest := doc[at+1:]
	if end := strings.Index(rest[len(heading):], "\n## "); end >= 0 {
		rest = rest[:len(heading)+end]
	}
	return rest
}

// shBlocks returns the ```sh code blocks of a Markdown text.
func shBlocks(md string) []string {
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(strings.NewReader(md))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && line == "```sh":
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// exportedToken is the admin token a block exports.
func exportedToken(t *testing.T, block string) string {
	t.Helper()
	for _, line := range strings.Split(block, "\n") {
		if v, ok := strings.CutPrefix(line, "export MOONBASE_ADMIN_TOKEN="); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("the block does not export MOONBASE_ADMIN_TOKEN:\n%s", block)
	return ""
}
