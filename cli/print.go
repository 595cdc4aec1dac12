package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/moonbase-dev/moonbase/lua/functions"
)

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

// triggerString is a trigger as a table shows it: "invoke", "http",
// "event:doc_created(orders)", "event:chan_in(room:*)", "schedule:daily at 09:00 (Europe/Paris)".
func triggerString(t functions.Trigger) string {
	var parts []string
	if t.Invoke {
		parts = append(parts, "invoke")
	}
	if t.HTTP {
		parts = append(parts, "http")
	}
	if t.Event != "" {
		s := "event:" + t.Event
		if t.Collection != "" {
			s += "(" + t.Collection + ")"
		}
		if t.Channel != "" {
			s += "(" + t.Channel + ")"
		}
		parts = append(parts, s)
	}
	if t.Schedule != "" {
		s := "schedule:" + t.Schedule
		if t.Timezone != "" {
			s += " (" + t.Timezone + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "+")
}

// triggerList joins a function's triggers for a table cell.
func triggerList(ts []functions.Trigger) string {
	if len(ts) == 0 {
		return "-"
	}
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = triggerString(t)
	}
	return strings.Join(s, ", ")
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

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// outputLines turns a run's captured output into lines: print lines as
// they are, log lines with their level.
func outputLines(lines []functions.LogLine) []string {
	var out []string
	for _, l := range lines {
		msg := l.Message
		if l.Level != "" && l.Level != "print" {
			msg = "[" + l.Level + "] " + msg
		}
		out = append(out, strings.Split(strings.TrimRight(msg, "\n"), "\n")...)
	}
	return out
}
