package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// addClientCommands adds the commands that drive a running server through
// its admin API: functions, deploy, jobs, schedules and secrets.
func addClientCommands(root *cobra.Command) {
	opts := &clientOptions{getenv: os.Getenv}
	for _, cmd := range []*cobra.Command{
		newFunctionsCmd(opts),
		newDeployCmd(opts),
		newJobsCmd(opts),
		newSchedulesCmd(opts),
		newSecretsCmd(opts),
	} {
		f := cmd.PersistentFlags()
		f.StringVar(&opts.url, "url", "", "server URL (default $MOONBASE_URL, else "+defaultServerURL+")")
		f.StringVar(&opts.token, "token", "", "admin token (default $MOONBASE_ADMIN_TOKEN)")
		f.BoolVar(&opts.json, "json", false, "print the server's JSON answer as it is, for scripts")
		root.AddCommand(cmd)
	}
}

// clientOptions are the flags every client command shares.
type clientOptions struct {
	url, token string
	json       bool
	getenv     func(string) string
}

// client resolves the server URL and token (flags first, then the
// environment) and returns an admin API client.
func (o *clientOptions) client() (*apiClient, error) {
	u := o.url
	if u == "" {
		u = o.getenv("MOONBASE_URL")
	}
	if u == "" {
		u = defaultServerURL
	}
	token := o.token
	if token == "" {
		token = o.getenv("MOONBASE_ADMIN_TOKEN")
	}
	return newAPIClient(u, token)
}

// groupCmd is a command that only holds subcommands. Given no subcommand it
// prints its help; given an unknown one it says so (cobra would otherwise
// print the help and succeed).
func groupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return fmt.Errorf("unknown command %q for %q; see `%s --help`", args[0], cmd.CommandPath(), cmd.CommandPath())
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// argsBetween checks the number of positional arguments and names the
// command's usage when it is wrong, instead of cobra's bare count.
func argsBetween(minArgs, maxArgs int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < minArgs || len(args) > maxArgs {
			return fmt.Errorf("usage: %s", cmd.UseLine())
		}
		return nil
	}
}

// printRaw prints an answer as JSON for --json, indented for a reader; jq
// and friends take it as well. A 204 answer prints nothing.
func printRaw(w io.Writer, raw []byte) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// table writes aligned columns, header first.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		// A tab or newline inside a cell would break the columns.
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// unwrap returns the object under key when raw is {key: {…}}, and raw
// itself otherwise, so an answer documented as {function} reads the same
// whether the server wraps the object or not.
func unwrap(raw []byte, key string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil {
		if inner, ok := m[key]; ok && len(m) == 1 && bytes.HasPrefix(bytes.TrimSpace(inner), []byte("{")) {
			return inner
		}
	}
	return raw
}

// decodeUnder decodes raw (unwrapped from key) into out.
func decodeUnder(raw []byte, key string, out any) error {
	if err := json.Unmarshal(unwrap(raw, key), out); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	return nil
}

// localTime formats a server time for a table, in the local zone; "-" for
// none.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// shortDuration formats milliseconds as "12ms", "1.5s".
func shortDuration(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", ms)
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

// orDash is s, or "-" when s is empty, so a table cell is never blank.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
