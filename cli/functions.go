package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonbase-dev/moonbase/lua/functions"
	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// newFunctionsCmd is `moonbase functions …`.
func newFunctionsCmd(o *clientOptions) *cobra.Command {
	return groupCmd("functions", "Create, change, run and inspect the functions of a running server",
		newFunctionsListCmd(o),
		newFunctionsCreateCmd(o),
		newFunctionsUpdateCmd(o),
		newFunctionsDeleteCmd(o),
		newFunctionsInvokeCmd(o),
		newFunctionsLogsCmd(o),
		newFunctionsVersionsCmd(o),
		newFunctionsRollbackCmd(o),
	)
}

func functionPath(name string) string { return "/api/admin/functions/" + pathName(name) }

func newFunctionsListCmd(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the functions with their version and triggers",
		Args:  argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			add := func(all *adminapi.FunctionsAnswer, page adminapi.FunctionsAnswer) string {
				if all.Functions == nil {
					all.Functions = []adminapi.Function{} // printed as [] with --json, not null
				}
				all.Functions = append(all.Functions, page.Functions...)
				return page.Next
			}
			return exchangeAll(cmd, o, "/api/admin/functions", add, func(w io.Writer, ans adminapi.FunctionsAnswer) error {
				if len(ans.Functions) == 0 {
					fmt.Fprintln(w, "no functions yet: add one with `moonbase functions create FILE` or `moonbase deploy`")
					return nil
				}
				t := newTable(w, "NAME", "VERSION", "TRIGGERS", "UPDATED")
				for _, f := range ans.Functions {
					t.row(f.Name, fmt.Sprintf("v%d", f.Version), triggerList(f.Triggers), localTime(f.UpdatedAt))
				}
				return t.flush()
			})
		},
	}
}

func newFunctionsCreateCmd(o *clientOptions) *cobra.Command {
	var (
		name, handler, timeout, timezone string
		collection, channel              string
		invoke, httpTrigger              bool
		events, schedules                []string
		retries                          int
	)
	cmd := &cobra.Command{
		Use:   "create FILE",
		Short: "Create a function from a Lua file (its name is the file's name without .lua)",
		Args:  argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			if name == "" {
				name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
			}
			if timezone != "" && len(schedules) == 0 {
				return errors.New("--timezone applies to a --schedule; give one")
			}
			if collection != "" && len(events) == 0 {
				return errors.New("--collection applies to an --event; give one")
			}
			if channel != "" && len(events) == 0 {
				return errors.New("--channel applies to an --event (chan_in or channel_join); give one")
			}
			src, err := readSource(file)
			if err != nil {
				return err
			}
			def := functions.Definition{Name: name, Source: src, Handler: handler, Triggers: []functions.Trigger{}}
			if timeout != "" {
				if err := def.Timeout.UnmarshalText([]byte(timeout)); err != nil {
					return fmt.Errorf("--timeout %q is not a duration (write it like 10s, 1m30s or 250ms)", timeout)
				}
			}
			if invoke {
				def.Triggers = append(def.Triggers, functions.Trigger{Invoke: true})
			}
			if httpTrigger {
				def.Triggers = append(def.Triggers, functions.Trigger{HTTP: true})
			}
			for _, e := range events {
				def.Triggers = append(def.Triggers, functions.Trigger{Event: e, Collection: collection, Channel: channel})
			}
			for _, s := range schedules {
				def.Triggers = append(def.Triggers, functions.Trigger{Schedule: s, Timezone: timezone})
			}
			if cmd.Flags().Changed("retries") {
				def.Retries = &retries
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			// PUT creates or replaces; create must not replace a function
			// someone else wrote.
			_, err = c.do(cmd.Context(), http.MethodGet, functionPath(name), nil)
			if err == nil {
				return fmt.Errorf("function %q already exists; change it with `moonbase functions update %s %s`", name, name, file)
			}
			if ae, ok := err.(*apiError); !ok || ae.Status != http.StatusNotFound {
				return err
			}
			var ans adminapi.FunctionAnswer
			raw, err := c.call(cmd.Context(), http.MethodPut, functionPath(name), def, &ans)
			if err != nil {
				return err
			}
			return o.print(cmd, raw, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "created %s v%d (triggers: %s)\n", name, ans.Function.Version, triggerList(ans.Function.Triggers))
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "function name (default: the file's name without .lua)")
	f.BoolVar(&invoke, "invoke", false, "clients may call it (POST /api/functions/NAME, executeFunction)")
	f.BoolVar(&httpTrigger, "http", false, "public HTTP endpoint ANY /functions/NAME")
	f.StringArrayVar(&events, "event", nil, "run on this event (repeatable)")
	f.StringVar(&collection, "collection", "", "only the doc_* events of this collection")
	f.StringVar(&channel, "channel", "", `only the chan_in and channel_join events of these channels: a name, or a prefix ending in "*"`)
	f.StringArrayVar(&schedules, "schedule", nil, `run on this schedule, e.g. "daily at 09:00" or "0 9 * * *" (repeatable)`)
	f.StringVar(&timezone, "timezone", "", "IANA time zone of the schedules (default UTC)")
	f.StringVar(&handler, "handler", "", "the global function that handles runs (default handle)")
	f.StringVar(&timeout, "timeout", "", "time limit of one run, e.g. 30s (default: the server's)")
	f.IntVar(&retries, "retries", 0, "retries of a failed event or schedule run (default: the server's)")
	return cmd
}

func newFunctionsUpdateCmd(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "update NAME [FILE]",
		Short: "Replace a function's source, keeping its triggers and settings",
		Long: "Replace a function's source with FILE, keeping its triggers and settings. Without FILE it reads\n" +
			"NAME.lua, or else the entry file (default main.lua) of functions/NAME/ in a project laid out for\n" +
			"`moonbase deploy`. To change triggers and settings from function.yaml as well, deploy.",
		Args: argsBetween(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			var src string
			var err error
			if len(args) == 2 {
				src, err = readSource(args[1])
			} else {
				src, err = findSource(name)
			}
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var before adminapi.FunctionAnswer
			if _, err := c.call(cmd.Context(), http.MethodGet, functionPath(name), nil, &before); err != nil {
				return err
			}
			def, err := before.Function.Definition(src)
			if err != nil {
				return err
			}
			var after adminapi.FunctionAnswer
			raw, err := c.call(cmd.Context(), http.MethodPut, functionPath(name), def, &after)
			if err != nil {
				return err
			}
			return o.print(cmd, raw, func(w io.Writer) error {
				action := "updated"
				if after.Function.Version == before.Function.Version {
					action = "unchanged"
				}
				_, err := fmt.Fprintf(w, "%s %s v%d\n", action, name, after.Function.Version)
				return err
			})
		},
	}
}

func newFunctionsDeleteCmd(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a function, its versions and its schedules",
		Args:  argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return exchange(cmd, o, http.MethodDelete, functionPath(args[0]), nil, func(w io.Writer, _ struct{}) error {
				_, err := fmt.Fprintf(w, "deleted %s\n", args[0])
				return err
			})
		},
	}
}

func newFunctionsVersionsCmd(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "versions NAME",
		Short: "List a function's saved versions, newest first",
		Args:  argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return exchange(cmd, o, http.MethodGet, functionPath(args[0])+"/versions", nil, func(w io.Writer, ans adminapi.VersionsAnswer) error {
				t := newTable(w, "VERSION", "CREATED")
				for _, v := range ans.Versions {
					t.row(fmt.Sprintf("v%d", v.Version), localTime(v.CreatedAt))
				}
				return t.flush()
			})
		},
	}
}

func newFunctionsRollbackCmd(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rollback NAME VERSION",
		Short: "Make an earlier version's source current again (as a new version)",
		Args:  argsBetween(2, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			version, err := strconv.ParseInt(strings.TrimPrefix(strings.ToLower(args[1]), "v"), 10, 64)
			if err != nil || version < 1 {
				return fmt.Errorf("version %q is not a version number such as 3 or v3", args[1])
			}
			name := args[0]
			c, err := o.client()
			if err != nil {
				return err
			}
			var before, after adminapi.FunctionAnswer
			if _, err := c.call(cmd.Context(), http.MethodGet, functionPath(name), nil, &before); err != nil {
				return err
			}
			raw, err := c.call(cmd.Context(), http.MethodPost, functionPath(name)+"/rollback", adminapi.RollbackRequest{Version: version}, &after)
			if err != nil {
				return err
			}
			return o.print(cmd, raw, func(w io.Writer) error {
				now := after.Function.Version
				var err error
				switch {
				case now == before.Function.Version && now == version:
					_, err = fmt.Fprintf(w, "nothing changed: v%d is the current version of %s\n", version, name)
				case now == before.Function.Version:
					_, err = fmt.Fprintf(w, "nothing changed: %s v%d is the same as v%d\n", name, now, version)
				default:
					_, err = fmt.Fprintf(w, "rolled %s back to the source of v%d, now v%d\n", name, version, now)
				}
				return err
			})
		},
	}
}

// findSource reads the source of the function name from the working
// directory: name.lua, or else functions/name/ as deploy reads it.
func findSource(name string) (string, error) {
	file := name + ".lua"
	if _, err := os.Stat(file); err == nil {
		return readSource(file)
	}
	if st, err := os.Stat(filepath.Join(defaultFunctionsDir, name)); err == nil && st.IsDir() {
		def, problems := readFunctionFolder(defaultFunctionsDir, name)
		if len(problems) > 0 {
			return "", errors.New(strings.Join(problems, "\n"))
		}
		return def.Source, nil
	}
	return "", fmt.Errorf("no %s or %s here; give the file: moonbase functions update %s FILE",
		file, filepath.Join(defaultFunctionsDir, name, defaultEntry), name)
}

// readSource reads a Lua file, saying which one when it cannot.
func readSource(file string) (string, error) {
	src, err := os.ReadFile(file)
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return "", fmt.Errorf("read %s: %w", file, pathErr.Err)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return string(src), nil
}
