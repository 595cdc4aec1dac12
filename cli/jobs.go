package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// jobStatuses are the statuses GET /api/admin/jobs filters on.
const jobStatuses = "pending, running, done, dead"

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
			q, err := statusQuery(dead, status, "job", jobStatuses, limit)
			if err != nil {
				return err
			}
			return exchange(cmd, o, http.MethodGet, "/api/admin/jobs?"+q.Encode(), nil, func(w io.Writer, ans adminapi.JobsAnswer) error {
				if len(ans.Jobs) == 0 {
					fmt.Fprintln(w, "no jobs")
					return nil
				}
				t := newTable(w, "ID", "KIND", "FUNCTION", "STATUS", "ATTEMPT", "RUN AT", "LAST ERROR")
				for _, j := range ans.Jobs {
					fn, _ := j.Payload["function"].(string)
					t.row(j.ID, j.Kind, orDash(fn), j.Status, fmt.Sprintf("%d/%d", j.Attempt, j.MaxAttempts), localTime(j.RunAt), orDash(j.LastError))
				}
				return t.flush()
			})
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
			if allDead {
				return exchange(cmd, o, http.MethodPost, "/api/admin/jobs/replay-dead", nil, func(w io.Writer, ans adminapi.ReplayedAnswer) error {
					_, err := fmt.Fprintf(w, "replayed %s\n", plural(ans.Replayed, "dead job"))
					return err
				})
			}
			return exchange(cmd, o, http.MethodPost, "/api/admin/jobs/"+pathName(args[0])+"/replay", nil, func(w io.Writer, ans adminapi.JobAnswer) error {
				j := ans.Job
				_, err := fmt.Fprintf(w, "replayed job %s: %s, attempt %d of %d\n", args[0], orDash(j.Status), j.Attempt, j.MaxAttempts)
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&allDead, "all-dead", false, "replay every dead job")
	return cmd
}

// statusQuery is the query of a list with --dead, --status (one of
// statuses, "a, b, c") and --limit: a status contradicting --dead, one
// that is not a status of a noun, and a limit under 1 are refused.
func statusQuery(dead bool, status, noun, statuses string, limit int) (url.Values, error) {
	if dead {
		if status != "" && status != "dead" {
			return nil, errors.New("--dead and --status " + status + " contradict each other; give one")
		}
		status = "dead"
	}
	if status != "" && !slices.Contains(strings.Split(statuses, ", "), status) {
		return nil, fmt.Errorf("--status %q is not a %s status: use one of %s", status, noun, statuses)
	}
	if limit < 1 {
		return nil, errors.New("--limit must be at least 1")
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if status != "" {
		q.Set("status", status)
	}
	return q, nil
}
