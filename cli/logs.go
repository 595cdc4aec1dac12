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
	"slices"
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
			"then what the run printed or logged and its error. --follow keeps printing new runs until\n" +
			"interrupted; with --json it prints one JSON object per run and line.",
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
			l := &logPrinter{c: c, name: args[0], w: cmd.OutOrStdout(), json: o.json, seen: map[string]time.Time{}}
			if err := l.poll(ctx, limit, !follow); err != nil {
				return err
			}
			if !follow {
				return nil
			}
			if l.lookback, err = functionLookback(ctx, c, args[0]); err != nil {
				return err
			}
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
				if err := l.poll(ctx, maxFollowBatch, false); err != nil {
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

// functionLookback is how far before the newest printed run --follow looks
// for runs that ended late: the function's own timeout, else
// defaultLookback, plus followMargin.
func functionLookback(ctx context.Context, c *apiClient, name string) (time.Duration, error) {
	var ans adminapi.FunctionAnswer
	if _, err := c.call(ctx, http.MethodGet, functionPath(name), nil, &ans); err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(ans.Function.Timeout)
	if err != nil || d <= 0 {
		d = defaultLookback
	}
	return d + followMargin, nil
}

// logPrinter fetches and prints a function's executions. Once it follows
// (lookback > 0), it remembers the runs it printed that started within
// lookback of the newest one, and prints each run once.
type logPrinter struct {
	c        *apiClient
	name     string
	w        io.Writer
	json     bool
	lookback time.Duration
	newest   time.Time            // start of the newest run printed
	seen     map[string]time.Time // ids printed, with their start
}

// poll prints the latest executions, oldest first: the last limit runs on
// the first call, and afterwards the runs not printed yet that started
// within lookback of the newest one printed. raw prints the answer as it
// came, for a one-off --json.
func (l *logPrinter) poll(ctx context.Context, limit int, raw bool) error {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if l.lookback > 0 && !l.newest.IsZero() {
		q.Set("after", objectIDAt(l.newest.Add(-l.lookback)))
	}
	var ans struct {
		Executions []json.RawMessage `json:"executions"`
	}
	data, err := l.c.call(ctx, http.MethodGet, functionPath(l.name)+"/executions?"+q.Encode(), nil, &ans)
	if err != nil {
		return err
	}
	if raw && l.json {
		return printRaw(l.w, data)
	}
	for _, item := range slices.Backward(ans.Executions) {
		var e adminapi.Execution
		if err := json.Unmarshal(item, &e); err != nil {
			return fmt.Errorf("unexpected answer from the server: %v", err)
		}
		if _, done := l.seen[e.ID]; done {
			continue
		}
		l.seen[e.ID] = e.StartedAt
		if e.StartedAt.After(l.newest) {
			l.newest = e.StartedAt
		}
		if l.json {
			fmt.Fprintln(l.w, compactJSON(item))
			continue
		}
		printExecution(l.w, e)
	}
	if l.lookback > 0 {
		for id, at := range l.seen {
			if at.Before(l.newest.Add(-l.lookback)) {
				delete(l.seen, id)
			}
		}
	}
	return nil
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
