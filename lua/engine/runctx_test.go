package engine

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// Contexts derived from a run's (gopher-lua derives one per coroutine)
// follow it without a goroutine each, and end with it.
func TestRunContextChildrenNeedNoGoroutines(t *testing.T) {
	rc := newRunCtx(context.Background(), time.Now(), time.Now().Add(time.Minute))
	before := runtime.NumGoroutine()
	var children []context.Context
	for range 200 {
		child, cancel := context.WithCancel(rc)
		defer cancel()
		children = append(children, child)
	}
	if after := runtime.NumGoroutine(); after > before+10 {
		t.Fatalf("200 children started %d goroutines", after-before)
	}
	rc.cancel(ErrTimeout)
	for _, child := range children {
		select {
		case <-child.Done():
		default:
			t.Fatal("a child did not end with the run")
		}
	}
	if !errors.Is(rc.Err(), ErrTimeout) {
		t.Errorf("Err() = %v", rc.Err())
	}
	late, cancel := context.WithCancel(rc)
	defer cancel()
	testsupport.WaitFor(t, "a child made after the end to end", func() bool { return late.Err() != nil })
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", Config{}, ""},
		{"negative timeout", Config{Timeout: -time.Second}, "invalid functions config: timeout is negative (-1s)"},
		{"timeout over max", Config{Timeout: time.Hour}, "invalid functions config: timeout (1h0m0s) is longer than max_timeout (5m0s)"},
		{"tiny memory limit", Config{MemoryLimit: 1 << 20}, "invalid functions config: memory_limit is 1048576 bytes; below 16 MiB the server itself would trip it"},
		{"memory limit off", Config{MemoryLimit: -1}, ""},
		{"bad memory limit", Config{MemoryLimit: -5}, "invalid functions config: memory_limit is -5; use a number of bytes, or -1 to turn the check off"},
		{"tiny strings", Config{MaxStringBytes: 10}, "invalid functions config: max_string_bytes is 10; use at least 1024"},
		{"call stack", Config{CallStackSize: 5}, "invalid functions config: call_stack_size is 5; use 16 to 100000"},
		{"call depth", Config{MaxCallDepth: 100}, "invalid functions config: max_call_depth is 100; use 1 to 64"},
		{"allow host with a path", Config{HTTP: HTTPConfig{AllowHosts: []string{"http://x/y"}}},
			`invalid functions config: http.allow_hosts entry "http://x/y" is not a host name or address (write it like api.internal, 10.0.0.5 or 127.0.0.1:8080)`},
		{"allow host with a port", Config{HTTP: HTTPConfig{AllowHosts: []string{"127.0.0.1:8080", "::1", "localhost"}}}, ""},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			err := s.cfg.Validate()
			got := ""
			if err != nil {
				got = err.Error()
				if !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("%v is not ErrInvalidConfig", err)
				}
			}
			if got != s.want {
				t.Errorf("got %q, want %q", got, s.want)
			}
		})
	}
}
