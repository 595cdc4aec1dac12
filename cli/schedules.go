package cli

import (
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// newSchedulesCmd is `moonbase schedules …`.
func newSchedulesCmd(o *clientOptions) *cobra.Command {
	return groupCmd("schedules", "List, pause, resume and run the functions' schedules",
		newSchedulesListCmd(o),
		newScheduleActionCmd(o, "pause", "Stop a function's schedules from firing until resumed", "paused the schedules of %s\n"),
		newScheduleActionCmd(o, "resume", "Let a paused function's schedules fire again", "resumed the schedules of %s\n"),
		newScheduleActionCmd(o, "run", "Run a scheduled function now, once, as its schedule would", ""),
	)
}

func newSchedulesListCmd(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every schedule with its next run",
		Args:  argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			add := func(all *adminapi.SchedulesAnswer, page adminapi.SchedulesAnswer) string {
				if all.Schedules == nil {
					all.Schedules = []events.ScheduleInfo{} // printed as [] with --json, not null
				}
				all.Schedules = append(all.Schedules, page.Schedules...)
				return page.Next
			}
			return exchangeAll(cmd, o, "/api/admin/schedules", add, func(w io.Writer, ans adminapi.SchedulesAnswer) error {
				if len(ans.Schedules) == 0 {
					fmt.Fprintln(w, "no schedules")
					return nil
				}
				t := newTable(w, "FUNCTION", "SCHEDULE", "TIMEZONE", "STATE", "NEXT RUN")
				for _, s := range ans.Schedules {
					state, next := "active", "-"
					if s.Paused {
						state = "paused"
					}
					if s.Error != "" {
						state = "broken: " + s.Error
					}
					if len(s.Next) > 0 {
						next = localTime(s.Next[0])
					}
					t.row(s.Function, s.Expression, orDash(s.Timezone), state, next)
				}
				return t.flush()
			})
		},
	}
}

// newScheduleActionCmd is `schedules pause|resume|run FUNCTION`; done
// formats what happened with the function's name.
func newScheduleActionCmd(o *clientOptions, action, short, done string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " FUNCTION",
		Short: short,
		Args:  argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return exchange(cmd, o, http.MethodPost, "/api/admin/schedules/"+pathName(args[0])+"/"+action, nil, func(w io.Writer, ans adminapi.QueuedAnswer) error {
				if action == "run" {
					_, err := fmt.Fprintf(w, "queued a run of %s as job %s (see `moonbase functions logs %s`)\n", args[0], orDash(ans.JobID), args[0])
					return err
				}
				_, err := fmt.Fprintf(w, done, args[0])
				return err
			})
		},
	}
}
