package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// maxFollowBatch is how many executions one --follow poll asks for: the
// server's cap, so a busy function loses none between polls.
const maxFollowBatch = 1000

// A run's record is written when it ends, but listed by when it started, so
// a long run appears behind shorter runs that started after it. --follow
// therefore asks each time for every run that started within lookback of the
// newest one it printed (the function's timeout, or defaultLookback when it
// has none of its own, plus followMargin) and prints the ones it has not
// printed yet.
const (
	defaultLookback = time.Minute
	followMargin    = 10 * time.Second
)

func newFunctionsLogsCmd(o *clientOptions) *cobra.Command {
	var (
		limit    int
		follow   bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print a function's recent runs, oldest first, with their output and errors",
		Long: "Print a function's recent runs, oldest first: time, status, duration, version and trigger,\n" +
			"then what the run printed or logged and its error. --follow prints the --limit latest runs,\n" +
			"then every run recorded after, each once, until interrupted; with --json it prints one JSON\n" +
			"object per run and line. A run is listed when it ends, so a long run may print after shorter\n" +
			"runs that started later.",
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > maxFollowBatch {
				return fmt.Errorf("--limit must be between 1 and %d", maxFollowBatch)
			}
			if interval <= 0 {
				return fmt.Errorf("--interval must be positive")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if follow {
				var stop context.CancelFunc
				ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
				defer stop()
			}
			l := newLogPrinter(c, args[0], cmd.OutOrStdout(), o.json)
			if err := l.first(ctx, limit, follow); err != nil {
				return err
			}
			if !follow {
				return nil
			}
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
				if err := l.next(ctx); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
			}
		},
	}
	f := cmd.Flags()
	f.IntVar(&limit, "limit", 50, "how many of the latest runs to print first")
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new runs until interrupted")
	f.DurationVar(&interval, "interval", time.Second, "how often --follow asks for new runs")
	return cmd
}

// lookbackOf is how far before the newest printed run --follow looks for
// runs that ended late: the function's own timeout, else defaultLookback,
// plus followMargin.
func lookbackOf(fn adminapi.Function) time.Duration {
	d, err := time.ParseDuration(fn.Timeout)
	if err != nil || d <= 0 {
		d = defaultLookback
	}
	return d + followMargin
}

// logPrinter fetches and prints a function's executions, each once.
type logPrinter struct {
	c        *apiClient
	name     string
	w        io.Writer
	json     bool
	lookback time.Duration
	newest   time.Time // start of the newest run printed
	// floor is the start of the oldest run first printed when --limit
	// left older runs out: the first follow-up poll passes over the runs
	// it has not printed that started no later, instead of printing them
	// late and out of order.
	floor time.Time
	seen  map[string]time.Time // ids printed or passed over, with their start
}

func newLogPrinter(c *apiClient, name string, w io.Writer, json bool) *logPrinter {
	return &logPrinter{c: c, name: name, w: w, json: json, seen: map[string]time.Time{}}
}

// first checks that the function exists, then prints its limit latest
// runs, oldest first; with --json and no follow, the answer as it came.
func (l *logPrinter) first(ctx context.Context, limit int, follow bool) error {
	var fn adminapi.FunctionAnswer
	if _, err := l.c.call(ctx, http.MethodGet, functionPath(l.name), nil, &fn); err != nil {
		return err
	}
	l.lookback = lookbackOf(fn.Function)
	execs, items, raw, err := l.fetch(ctx, limit, "")
	if err != nil {
		return err
	}
	if !follow && l.json {
		return printRaw(l.w, raw)
	}
	l.print(execs, items)
	if len(execs) == limit {
		l.floor = execs[len(execs)-1].StartedAt
	}
	return nil
}

// next prints the runs recorded since the last call, oldest first.
func (l *logPrinter) next(ctx context.Context) error {
	execs, items, _, err := l.fetch(ctx, maxFollowBatch, objectIDAt(l.cursor()))
	if err != nil {
		return err
	}
	if !l.floor.IsZero() {
		for _, e := range execs {
			if _, done := l.seen[e.ID]; !done && !e.StartedAt.After(l.floor) {
				l.seen[e.ID] = e.StartedAt
			}
		}
		l.floor = time.Time{}
	}
	l.print(execs, items)
	// Forget only the runs no later query can return: those that started
	// before the whole second the next one asks from. Ids carry their
	// start in whole seconds, so a cursor inside a second still lists
	// that second's earlier runs, which must stay remembered.
	from := l.cursor()
	for id, at := range l.seen {
		if at.Before(from) {
			delete(l.seen, id)
		}
	}
	return nil
}

// cursor is the whole second from which next asks for runs.
func (l *logPrinter) cursor() time.Time {
	if l.newest.IsZero() {
		return time.Time{}
	}
	return l.newest.Add(-l.lookback).Truncate(time.Second)
}

// fetch lists up to limit runs, newest first, after the execution id after
// when it is not empty; items are the runs as the server wrote them.
func (l *logPrinter) fetch(ctx context.Context, limit int, after string) ([]adminapi.Execution, []json.RawMessage, []byte, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	var ans struct {
		Executions []json.RawMessage `json:"executions"`
	}
	raw, err := l.c.call(ctx, http.MethodGet, functionPath(l.name)+"/executions?"+q.Encode(), nil, &ans)
	if err != nil {
		return nil, nil, nil, err
	}
	execs := make([]adminapi.Execution, len(ans.Executions))
	for i, item := range ans.Executions {
		if err := json.Unmarshal(item, &execs[i]); err != nil {
			return nil, nil, nil, fmt.Errorf("unexpected answer from the server: %v", err)
		}
	}
	return execs, ans.Executions, raw, nil
}

// print writes the runs not printed yet, oldest first; execs come newest
// first.
func (l *logPrinter) print(execs []adminapi.Execution, items []json.RawMessage) {
	for i := len(execs) - 1; i >= 0; i-- {
		e := execs[i]
		if _, done := l.seen[e.ID]; done {
			continue
		}
		l.seen[e.ID] = e.StartedAt
		if e.StartedAt.After(l.newest) {
			l.newest = e.StartedAt
		}
		if l.json {
			fmt.Fprintln(l.w, compactJSON(items[i]))
			continue
		}
		printExecution(l.w, e)
	}
}

// objectIDAt is the smallest execution id of a run started at t or later
// (ids begin with their start time in seconds), for the after parameter.
func objectIDAt(t time.Time) string {
	return fmt.Sprintf("%08x%016x", uint32(max(t.Unix(), 0)), 0)
}

// printExecution writes one run: a header line (ending with the identity
// its data calls used: a user's id, anonymous or system), then its output
// and error indented below it.
func printExecution(w io.Writer, e adminapi.Execution) {
	as := ""
	if e.Identity != "" {
		as = "  as " + e.Identity
	}
	fmt.Fprintf(w, "%s  %-7s  %-7s  v%d  %s%s\n", localTime(e.StartedAt), e.Status, shortDuration(e.DurationMs), e.Version, orDash(e.Trigger), as)
	for _, line := range outputLines(e.Output) {
		fmt.Fprintln(w, "    "+line)
	}
	if e.Error != "" {
		fmt.Fprintln(w, "    error: "+(&runFailedError{Message: e.Error, Line: e.Line}).Error())
	}
}

func compactJSON(raw json.RawMessage) string {
	var b []byte
	if out, err := json.Marshal(raw); err == nil {
		b = out
	} else {
		b = raw
	}
	return string(b)
}
