package main

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	t.Parallel()
	clean := `Running 2s test @ http://127.0.0.1:44183/hello
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.62ms    1.80ms  23.08ms   90.71%
    Req/Sec    38.70k     6.12k   50.85k    70.00%
  Latency Distribution
     50%  856.00us
     75%    1.74ms
     90%    3.20ms
     99%    9.72ms
  77165 requests in 2.01s, 9.35MB read
Requests/sec:  38412.62
Transfer/sec:      4.65MB
`
	failing := `  Latency Distribution
     50%    0.96ms
     75%    1.54ms
     90%    3.50ms
     99%    1.01s
  49997 requests in 1.00m, 6.82MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 49997
Requests/sec:  49812.64
`
	scenarios := []struct {
		name, out string
		want      loadResult
		err       string
	}{
		{"clean", clean, loadResult{generator: "wrk", ops: 77165, elapsed: 2008845010, p50: 856 * time.Microsecond, p99: 9720 * time.Microsecond}, ""},
		{"failing", failing, loadResult{generator: "wrk", ops: 49997, errors: 49997 + 5, elapsed: 1003701069, p50: 960 * time.Microsecond, p99: 1010 * time.Millisecond}, "49997 answers were not 2xx or 3xx"},
	}
	// The elapsed times are the counts over the rates: 77165 / 38412.62 s
	// and 49997 / 49812.64 s.
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			got, err := parseWrk(s.out)
			if err != nil {
				t.Fatal(err)
			}
			if errString(got.firstErr) != s.err {
				t.Errorf("first error %v, want %q", got.firstErr, s.err)
			}
			got.firstErr = nil
			if got != s.want {
				t.Errorf("got %+v\nwant %+v", got, s.want)
			}
		})
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil || !strings.HasPrefix(err.Error(), "wrk printed no request count: unable to connect") {
		t.Errorf("no report: %v", err)
	}
}

func TestWrkScript(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		target loadTarget
		want   string
	}{
		{"get", loadTarget{Method: "GET", Path: "/hello"}, "wrk.method = \"GET\"\n"},
		{"post with a fixed body", loadTarget{Method: "POST", Token: "tok", Body: func(*rand.Rand) ([]byte, string) { return []byte(`{"name":"bench"}`), "" }},
			"wrk.method = \"POST\"\nwrk.headers[\"Authorization\"] = \"Bearer tok\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = \"{\\\"name\\\":\\\"bench\\\"}\"\n"},
		{"post with a body per request", findOneTarget(&Env{Docs: 10}),
			"wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nrequest = function()\n  return wrk.format(nil, nil, nil, string.format('{\"email\":\"user%07d@example.com\"}', math.random(0, 9)))\nend\n"},
	}
	for _, s := range scenarios {
		if got := wrkScript(s.target); got != s.want {
			t.Errorf("%s:\n%s\nwant\n%s", s.name, got, s.want)
		}
	}
}

func TestLoadGeneratorChoice(t *testing.T) {
	scenarios := []struct {
		env  string
		n    uint64
		want string
		err  string
	}{
		{"go", 0, "go", ""},
		{"go", 10, "go", ""},
		{"wrk", 10, "go", ""},
		{"ab", 0, "", `MOONBASE_BENCH_LOADGEN="ab": use go or wrk`},
	}
	for _, s := range scenarios {
		t.Setenv(loadgenEnv, s.env)
		got, err := loadGenerator(s.n)
		if got != s.want || errString(err) != s.err {
			t.Errorf("%s=%s, n %d: got %q, %v", loadgenEnv, s.env, s.n, got, err)
		}
	}
}
