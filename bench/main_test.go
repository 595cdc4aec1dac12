package main

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	t.Parallel()
	var h histogram
	r := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	for range 100_000 {
		d := time.Duration(r.ExpFloat64() * float64(200*time.Microsecond))
		h.record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := all[int(q*float64(len(all)))]
		got := h.quantile(q)
		if diff := float64(got-exact) / float64(exact); diff > 0.01 || diff < -0.01 {
			t.Errorf("p%v = %s, exact %s: off by %.2f%%", q*100, got, exact, diff*100)
		}
	}
}

func TestHistogramBuckets(t *testing.T) {
	t.Parallel()
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345, 1<<63 + 1, ^uint64(0)} {
		i := histBucket(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucket(%d) = %d, outside [0,%d)", v, i, histBuckets)
		}
		mid := histValue(i)
		if diff := float64(mid) - float64(v); diff > float64(v)/128+1 || -diff > float64(v)/128+1 {
			t.Errorf("bucket(%d) = %d whose middle %d is more than 1/128 away", v, i, mid)
		}
	}
	var a, b histogram
	a.record(time.Millisecond)
	b.record(3 * time.Millisecond)
	b.record(-time.Second) // a clock step backwards counts as 0
	a.merge(&b)
	if a.total != 3 || a.quantile(0) != 0 || a.quantile(0.99) < 2*time.Millisecond {
		t.Fatalf("merged: total %d, p0 %s, p99 %s", a.total, a.quantile(0), a.quantile(0.99))
	}
	var empty histogram
	if empty.quantile(0.5) != 0 {
		t.Fatal("empty histogram has a median")
	}
}

func TestSelectScenarios(t *testing.T) {
	t.Parallel()
	all := []Scenario{{Name: "store/embedded/get-by-id"}, {Name: "store/embedded/insert-one"}, {Name: "store/mongodb/get-by-id"}, {Name: "storex/a"}}
	scenarios := []struct {
		only string
		want []string
		err  string
	}{
		{"", []string{"store/embedded/get-by-id", "store/embedded/insert-one", "store/mongodb/get-by-id", "storex/a"}, ""},
		{"store/embedded/get-by-id", []string{"store/embedded/get-by-id"}, ""},
		{"store/embedded", []string{"store/embedded/get-by-id", "store/embedded/insert-one"}, ""},
		{"store/", []string{"store/embedded/get-by-id", "store/embedded/insert-one", "store/mongodb/get-by-id"}, ""},
		{"store/*/get-by-id, storex/a", []string{"store/embedded/get-by-id", "store/mongodb/get-by-id", "storex/a"}, ""},
		{"store/embedded/get", nil, `-only "store/embedded/get" matches no scenario (see -list)`},
		{"[", nil, `-only "[": syntax error in pattern`},
	}
	for _, s := range scenarios {
		got, err := selectScenarios(all, s.only)
		if s.err != "" {
			if err == nil || err.Error() != s.err {
				t.Errorf("-only %q: error %v, want %s", s.only, err, s.err)
			}
			continue
		}
		var names []string
		for _, sc := range got {
			names = append(names, sc.Name)
		}
		if err != nil || !slices.Equal(names, s.want) {
			t.Errorf("-only %q = %v, %v; want %v", s.only, names, err, s.want)
		}
	}
}

func TestSharedBuildsOnce(t *testing.T) {
	t.Parallel()
	env := NewEnv(10, t.TempDir())
	var builds, closes atomic.Int32
	build := func() (int, error) {
		builds.Add(1)
		env.Cleanup(func() error { closes.Add(1); return nil })
		return 42, nil
	}
	for range 3 {
		if v, err := Shared(env, "k", build); err != nil || v != 42 {
			t.Fatalf("Shared = %v, %v", v, err)
		}
	}
	if _, err := Shared[string](env, "k", func() (string, error) { return "", nil }); err == nil {
		t.Fatal("Shared returned a value of the wrong type")
	}
	boom := errors.New("boom")
	if _, err := Shared(env, "bad", func() (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("a failed build: %v", err)
	}
	if err := env.Close(); err != nil || builds.Load() != 1 || closes.Load() != 1 {
		t.Fatalf("Close: %v; built %d times, cleaned up %d times", err, builds.Load(), closes.Load())
	}
}

func TestRunCountsOpsAndErrors(t *testing.T) {
	t.Parallel()
	var calls atomic.Uint64
	s := Scenario{Name: "test/flaky", Workers: 3, Setup: func(context.Context, *Env) (Op, error) {
		return func(_ context.Context, w *Worker) error {
			switch calls.Add(1) % 10 {
			case 0:
				return errors.New("every tenth fails")
			case 5:
				panic("and one in ten panics")
			}
			return nil
		}, nil
	}}
	res, err := Run(context.Background(), s, NewEnv(1, t.TempDir()), RunOptions{Workers: 1, Ops: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 1000 || res.Errors != 200 || res.Workers != 3 || res.FirstErr == nil || res.PeakRSS <= 0 || res.CPU <= 0 {
		t.Fatalf("result %+v: want 1000 ops, 200 errors, 3 workers, a first error, a peak RSS and CPU time", res)
	}
	res, err = Run(context.Background(), s, NewEnv(1, t.TempDir()), RunOptions{Workers: 2, Duration: 50 * time.Millisecond, Warmup: 10 * time.Millisecond})
	if err != nil || res.Ops == 0 || res.Elapsed < 50*time.Millisecond || res.OpsPerSec() <= 0 {
		t.Fatalf("by duration: %+v, %v", res, err)
	}
}

func TestRunReportsMarkdown(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	err := run([]string{"-only", "harness", "-n", "1000", "-warmup", "0", "-dir", t.TempDir()}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{
		"- command: `go run ./bench -only harness -n 1000 -warmup 0 -dir ",
		"| scenario | workers | ops | ops/s | p50 | p99 | CPU cores | ops/CPU-s | peak RSS | errors |",
		"load average after: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	row := regexp.MustCompile(`(?m)^\| harness/noop \| 4 \| 1000 \| [\d,]+ \| [\d.]+ [nµm]s \| [\d.]+ [nµm]s \| \d+\.\d\d \| [\d,]+ \| \d+ MiB \| 0 \|$`)
	if !row.MatchString(out.String()) {
		t.Errorf("no well-formed row for harness/noop:\n%s", out.String())
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		args []string
		want string
	}{
		{[]string{"-only", "nothing/here"}, `-only "nothing/here" matches no scenario (see -list)`},
		{[]string{"extra"}, `unexpected argument "extra" (flags only; see -h)`},
		{[]string{"-docs", "0"}, "-docs and -workers must be at least 1"},
		{[]string{"-duration", "soon"}, `invalid value "soon" for flag -duration: parse error`},
	}
	for _, s := range scenarios {
		var out, errOut bytes.Buffer
		err := run(s.args, &out, &errOut)
		if err == nil || err.Error() != s.want {
			t.Errorf("run %v: %v, want %s", s.args, err, s.want)
		}
	}
}

func TestStoreScenariosOnEmbedded(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	err := run([]string{"-only", "store/embedded,sqlite", "-docs", "300", "-n", "300", "-warmup", "0", "-dir", t.TempDir()}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, name := range []string{"sqlite/raw/find-by-indexed-field", "store/embedded/get-by-id", "store/embedded/find-one-by-indexed-field", "store/embedded/insert-one", "store/embedded/update-mix"} {
		if !regexp.MustCompile(`(?m)^\| ` + name + ` \| 4 \| 300 \| .* \| 0 \|$`).MatchString(out.String()) {
			t.Errorf("no clean row for %s:\n%s", name, out.String())
		}
	}
}
