package main

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
)

// maxFollowBatch is how many new executions one --follow poll asks for:
// the server's cap, so a busy function loses none between polls.
const maxFollowBatch = 1000

// execution is one run's record as the admin API lists it.
type execution struct {
	ID         string          `json:"id"`
	Version    int64           `json:"version"`
	Trigger    string          `json:"trigger"`
	StartedAt  time.Time       `json:"started_at"`
	DurationMs float64         `json:"duration_ms"`
	Status     string          `json:"status"`
	Error      string          `json:"error"`
	Line       int             `json:"line"`
	Output     json.RawMessage `json:"output"`
	Logs       json.RawMessage `json:"logs"`
}

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
			l := &logPrinter{c: c, name: args[0], w: cmd.OutOrStdout(), json: o.json}
			if err := l.poll(ctx, "", limit, !follow); err != nil {
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
				if err := l.poll(ctx, l.last, maxFollowBatch, false); err != nil {
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

// logPrinter fetches and prints a function's executions, remembering the
// newest one it printed.
type logPrinter struct {
	c    *apiClient
	name string
	w    io.Writer
	json bool
	last string // id of the newest execution printed
}

// poll prints the executions newer than after (all when after is ""),
// oldest first. raw prints the answer as it came, for a one-off --json.
func (l *logPrinter) poll(ctx context.Context, after string, limit int, raw bool) error {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	var ans struct {
		Executions []json.RawMessage `json:"executions"`
	}
	data, err := l.c.call(ctx, http.MethodGet, functionPath(l.name)+"/executions?"+q.Encode(), nil, &ans)
	if err != nil {
		return err
	}
	if len(ans.Executions) > 0 {
		var newest execution
		if err := json.Unmarshal(ans.Executions[0], &newest); err != nil {
			return fmt.Errorf("unexpected answer from the server: %v", err)
		}
		l.last = newest.ID
	}
	if raw && l.json {
		return printRaw(l.w, data)
	}
	for _, item := range slices.Backward(ans.Executions) {
		if l.json {
			fmt.Fprintln(l.w, compactJSON(item))
			continue
		}
		var e execution
		if err := json.Unmarshal(item, &e); err != nil {
			return fmt.Errorf("unexpected answer from the server: %v", err)
		}
		printExecution(l.w, e)
	}
	return nil
}

// printExecution writes one run: a header line, then its output and
// error indented below it.
func printExecution(w io.Writer, e execution) {
	fmt.Fprintf(w, "%s  %-7s  %-7s  v%d  %s\n", localTime(e.StartedAt), e.Status, shortDuration(e.DurationMs), e.Version, orDash(e.Trigger))
	for _, line := range outputLines(e.Output, e.Logs) {
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
