package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestConfigFlagIsTheServers: --config belongs to serve (and the bare
// command, which serves); the client commands neither offer nor take it.
func TestConfigFlagIsTheServers(t *testing.T) {
	t.Parallel()
	type call struct {
		path     string
		explicit bool
	}
	scenarios := []struct {
		args      []string
		wantServe *call
		wantErr   string
	}{
		{args: nil, wantServe: &call{"config.yaml", false}},
		{args: []string{"--config", "prod.yaml"}, wantServe: &call{"prod.yaml", true}},
		{args: []string{"serve"}, wantServe: &call{"config.yaml", false}},
		{args: []string{"serve", "--config", "prod.yaml"}, wantServe: &call{"prod.yaml", true}},
		{args: []string{"functions", "list", "--config", "prod.yaml"}, wantErr: "unknown flag: --config"},
		{args: []string{"--config", "prod.yaml", "secrets", "list"}, wantErr: "unknown flag: --config"},
	}
	for _, s := range scenarios {
		t.Run(strings.Join(s.args, " "), func(t *testing.T) {
			var got *call
			root := New(Config{Version: "test"}, Deps{Serve: func(_ context.Context, path string, explicit bool) error {
				got = &call{path, explicit}
				return nil
			}})
			root.SetArgs(s.args)
			root.SetOut(&bytes.Buffer{})
			root.SetErr(&bytes.Buffer{})
			err := root.Execute()
			if s.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Errorf("error %v, want %q", err, s.wantErr)
				}
				if got != nil {
					t.Errorf("served %+v", *got)
				}
				return
			}
			if err != nil || got == nil || *got != *s.wantServe {
				t.Errorf("served %+v (%v), want %+v", got, err, *s.wantServe)
			}
		})
	}

	for _, args := range [][]string{{"functions", "--help"}, {"functions", "logs", "--help"}, {"deploy", "--help"}, {"jobs", "list", "--help"}, {"secrets", "set", "--help"}} {
		r := runCLI(t, "", args...)
		if r.err != nil || !strings.Contains(r.stdout, "--url") || strings.Contains(r.stdout, "--config") {
			t.Errorf("moonbase %s: the help should offer --url and not --config:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	if r := runCLI(t, "", "serve", "--help"); !strings.Contains(r.stdout, "--config") || strings.Contains(r.stdout, "--url") {
		t.Errorf("moonbase serve --help:\n%s", r.stdout)
	}
}
