package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// jobStatuses are the statuses GET /api/admin/jobs filters on.
const jobStatuses = "pending, running, done, dead"

// jobInfo is a queue job as the admin API lists it.
type jobInfo struct {
	ID          string         `json:"id"`
	Kind        string         `json:"kind"`
	Status      string         `json:"status"`
	Attempt     int            `json:"attempt"`
	MaxAttempts int            `json:"max_attempts"`
	RunAt       time.Time      `json:"run_at"`
	LastError   string         `json:"last_error"`
	Payload     map[string]any `json:"payload"`
}

// newJobsCmd is `moonbase jobs …`.
func newJobsCmd(o *clientOptions) *cobra.Command {
	return groupCmd("jobs", "Inspect the job queue and replay failed jobs",
		newJobsListCmd(o),
		newJobsReplayCmd(o),
	)
}

func newJobsListCmd(o *clientOptions) *cobra.Command {
	var (
		status string
		dead   bool
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "list [--dead | --status STATUS]",
		Short: "List jobs: every status, or only pending, running, done or dead ones",
		Args:  argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dead {
				if status != "" && status != "dead" {
					return errors.New("--dead and --status " + status + " contradict each other; give one")
				}
				status = "dead"
			}
			if status != "" && !slices.Contains(strings.Split(jobStatuses, ", "), status) {
				return fmt.Errorf("--status %q is not a job status: use one of %s", status, jobStatuses)
			}
			if limit < 1 {
				return errors.New("--limit must be at least 1")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if status != "" {
				q.Set("status", status)
			}
			var ans struct {
				Jobs []jobInfo `json:"jobs"`
			}
			raw, err := c.call(cmd.Context(), http.MethodGet, "/api/admin/jobs?"+q.Encode(), nil, &ans)
			if err != nil {
				return err
			}
			if o.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			if len(ans.Jobs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no jobs")
				return nil
			}
			t := newTable(cmd.OutOrStdout(), "ID", "KIND", "FUNCTION", "STATUS", "ATTEMPT", "RUN AT", "LAST ERROR")
			for _, j := range ans.Jobs {
				fn, _ := j.Payload["function"].(string)
				t.row(j.ID, j.Kind, orDash(fn), j.Status, fmt.Sprintf("%d/%d", j.Attempt, j.MaxAttempts), localTime(j.RunAt), orDash(j.LastError))
			}
			return t.flush()
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dead, "dead", false, "only dead letters: jobs that failed their last attempt")
	f.StringVar(&status, "status", "", "only jobs of this status: "+jobStatuses)
	f.IntVar(&limit, "limit", 100, "at most this many jobs")
	return cmd
}

func newJobsReplayCmd(o *clientOptions) *cobra.Command {
	var allDead bool
	cmd := &cobra.Command{
		Use:   "replay ID | --all-dead",
		Short: "Queue a job again with its attempts reset, or every dead job",
		Args:  argsBetween(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if allDead == (len(args) == 1) {
				return errors.New("give a job ID or --all-dead (not both)")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			if allDead {
				var ans struct {
					Replayed int `json:"replayed"`
				}
				raw, err := c.call(cmd.Context(), http.MethodPost, "/api/admin/jobs/replay-dead", nil, &ans)
				if err != nil {
					return err
				}
				if o.json {
					return printRaw(cmd.OutOrStdout(), raw)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "replayed %s\n", plural(ans.Replayed, "dead job"))
				return nil
			}
			raw, err := c.do(cmd.Context(), http.MethodPost, "/api/admin/jobs/"+pathName(args[0])+"/replay", nil)
			if err != nil {
				return err
			}
			if o.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			var j jobInfo
			if err := decodeUnder(raw, "job", &j); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "replayed job %s: %s, attempt %d of %d\n", args[0], orDash(j.Status), j.Attempt, j.MaxAttempts)
			return nil
		},
	}
	cmd.Flags().BoolVar(&allDead, "all-dead", false, "replay every dead job")
	return cmd
}
