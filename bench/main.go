// Command bench measures Moonbase's moving parts under load and prints a
// Markdown report: one table row per scenario with its throughput, median
// and 99th-percentile latency and the process's peak resident memory.
//
//	go run ./bench                                # every scenario
//	go run ./bench -list                          # what there is
//	go run ./bench -only store/embedded/get-by-id # one scenario
//	go run ./bench -only store/embedded -duration 5s -workers 8
//
// docs/benchmarks.md records results and explains how to add a scenario.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"strings"
	"time"
)

// mongoURIEnv names the variable that adds the MongoDB store's scenarios.
const mongoURIEnv = "MOONBASE_BENCH_MONGO_URI"

func main() {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(childMain(spec, os.Stdin, os.Stdout, os.Stderr))
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(1)
	}
}

// scenarios lists every scenario in the order they run. A new area adds
// one function returning its scenarios and one line here.
func scenarios(mongoURI string) []Scenario {
	var all []Scenario
	all = append(all, harnessScenarios()...)
	all = append(all, sqliteScenarios()...)
	all = append(all, storeScenarios(storeImpls(mongoURI))...)
	all = append(all, httpDataScenarios()...)
	all = append(all, functionScenarios()...)
	all = append(all, limitScenarios()...)
	all = append(all, eventScenarios()...)
	all = append(all, channelScenarios()...)
	all = append(all, adminScenarios()...)
	all = append(all, webhookScenarios()...)
	return all
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		list     = fs.Bool("list", false, "list the scenarios and exit")
		only     = fs.String("only", "", "comma-separated scenario names, name prefixes (store/embedded) or patterns (store/*/get-by-id)")
		n        = fs.Uint64("n", 0, "measure exactly this many operations per scenario instead of -duration")
		duration = fs.Duration("duration", 10*time.Second, "measured time per scenario")
		warmup   = fs.Duration("warmup", time.Second, "unmeasured warm-up per scenario")
		workers  = fs.Int("workers", 4, "concurrent workers per scenario (unless the scenario sets its own)")
		docs     = fs.Int("docs", 100_000, "documents in the collections lookups run against")
		dir      = fs.String("dir", "", "parent of the scratch directory (default: the system's temporary directory)")
		cpuprof  = fs.String("cpuprofile", "", "write the measured loop's CPU profile here (one file per scenario, suffixed by its name when several run)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	selected, err := selectScenarios(scenarios(os.Getenv(mongoURIEnv)), *only)
	if err != nil {
		return err
	}
	if *list {
		for _, s := range selected {
			fmt.Fprintf(stdout, "%-45s %s\n", s.Name, s.About)
		}
		if os.Getenv(mongoURIEnv) == "" {
			fmt.Fprintf(stdout, "(set %s to add the MongoDB store's scenarios)\n", mongoURIEnv)
		}
		return nil
	}
	if *docs < 1 || *workers < 1 {
		return errors.New("-docs and -workers must be at least 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	scratch, err := os.MkdirTemp(*dir, "moonbase-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	env := NewEnv(*docs, scratch)
	opts := RunOptions{Workers: *workers, Duration: *duration, Ops: *n, Warmup: *warmup}
	writeHeader(stdout, ReadMachine(), "go run ./bench "+strings.Join(args, " "), opts, *docs)
	var failed []string
	for _, s := range selected {
		if ctx.Err() != nil {
			break
		}
		o := opts
		if *cpuprof != "" {
			o.CPUProfile = *cpuprof
			if len(selected) > 1 {
				o.CPUProfile += "." + strings.ReplaceAll(s.Name, "/", "-")
			}
		}
		fmt.Fprintf(stderr, "bench: %s …\n", s.Name)
		res, err := Run(ctx, s, env, o)
		if err != nil {
			fmt.Fprintf(stdout, "| %s | | | | | | | | | %s |\n", s.Name, strings.ReplaceAll(err.Error(), "|", "\\|"))
			failed = append(failed, s.Name)
			continue
		}
		fmt.Fprintf(stderr, "bench: %s: set up in %s\n", s.Name, res.Setup.Round(time.Millisecond))
		writeRow(stdout, res)
		if res.Errors > 0 {
			failed = append(failed, s.Name)
		}
	}
	writeFooter(stdout)
	closeErr := env.Close()
	if len(failed) > 0 {
		return fmt.Errorf("%d scenario(s) failed or had errors: %s", len(failed), strings.Join(failed, ", "))
	}
	return closeErr
}

// selectScenarios keeps the scenarios -only names. An entry matches a
// scenario by its full name, as a prefix ending at a "/" boundary, or as a
// path.Match pattern; an entry matching nothing is an error, so a typo does
// not pass silently as an empty run.
func selectScenarios(all []Scenario, only string) ([]Scenario, error) {
	if strings.TrimSpace(only) == "" {
		return all, nil
	}
	var pats []string
	for _, p := range strings.Split(only, ",") {
		if p = strings.Trim(strings.TrimSpace(p), "/"); p != "" {
			pats = append(pats, p)
		}
	}
	hit := make([]bool, len(pats))
	var out []Scenario
	for _, s := range all {
		keep := false
		for i, p := range pats {
			ok, err := path.Match(p, s.Name)
			if err != nil {
				return nil, fmt.Errorf("-only %q: %w", p, err)
			}
			if ok || s.Name == p || strings.HasPrefix(s.Name, p+"/") {
				hit[i], keep = true, true
			}
		}
		if keep {
			out = append(out, s)
		}
	}
	for i, p := range pats {
		if !hit[i] {
			return nil, fmt.Errorf("-only %q matches no scenario (see -list)", p)
		}
	}
	return out, nil
}
