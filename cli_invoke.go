package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// runAnswer is the answer of POST /api/admin/functions/:name/run.
type runAnswer struct {
	Result      json.RawMessage `json:"result"`
	Status      int             `json:"status"`
	Error       string          `json:"error"`
	Line        int             `json:"line"`
	Output      json.RawMessage `json:"output"`
	Logs        json.RawMessage `json:"logs"`
	DurationMs  float64         `json:"duration_ms"`
	ExecutionID string          `json:"execution_id"`
}

func newFunctionsInvokeCmd(o *clientOptions) *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "invoke NAME",
		Short: "Run a saved function now with --data as its input and print what it returned",
		Long: "Run a saved function now, as a test run with no signed-in user, and print its result as JSON.\n" +
			"What the function printed or logged goes to stderr. A run that fails exits non-zero with the\n" +
			"error and its Lua line.",
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			input, err := readData(data, cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var ans runAnswer
			raw, err := c.call(cmd.Context(), http.MethodPost, functionPath(args[0])+"/run", map[string]any{"input": input}, &ans)
			if err != nil {
				return err
			}
			if o.json {
				if err := printRaw(cmd.OutOrStdout(), raw); err != nil {
					return err
				}
			} else {
				for _, line := range outputLines(ans.Output, ans.Logs) {
					fmt.Fprintln(cmd.ErrOrStderr(), line)
				}
				if ans.Error == "" && ans.Status != 0 && ans.Status != http.StatusOK {
					fmt.Fprintf(cmd.ErrOrStderr(), "(answered with status %d)\n", ans.Status)
				}
				if ans.Error == "" || (len(ans.Result) > 0 && string(ans.Result) != "null") {
					if err := printRaw(cmd.OutOrStdout(), orNull(ans.Result)); err != nil {
						return err
					}
				}
			}
			if ans.Error != "" {
				return &runFailedError{Message: ans.Error, Line: ans.Line}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the input as JSON, @FILE to read it from a file, or - for stdin (default {})")
	return cmd
}

// runFailedError is a run that ended with an error; its message is the
// server's, which names the function and the Lua line.
type runFailedError struct {
	Message string
	Line    int
}

func (e *runFailedError) Error() string {
	if e.Line > 0 && !strings.Contains(e.Message, "line") {
		return fmt.Sprintf("%s (line %d)", e.Message, e.Line)
	}
	return e.Message
}

// readData returns --data as JSON: the text itself, a file's content
// (@FILE) or stdin (-); {} when not given.
func readData(data string, stdin io.Reader) (json.RawMessage, error) {
	var b []byte
	var err error
	from := "--data"
	switch {
	case data == "":
		return json.RawMessage("{}"), nil
	case data == "-":
		from = "stdin"
		b, err = io.ReadAll(stdin)
	case strings.HasPrefix(data, "@"):
		from = data[1:]
		b, err = os.ReadFile(data[1:])
	default:
		b = []byte(data)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", from, err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %v", from, err)
	}
	return json.RawMessage(b), nil
}

func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

// outputLines turns a run's captured output into lines: the server sends
// it as text, as a list of strings, or as a list of {level, message}.
// print lines show as they are, log lines with their level.
func outputLines(raws ...json.RawMessage) []string {
	var lines []string
	for _, raw := range raws {
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var text string
		if json.Unmarshal(raw, &text) == nil {
			lines = append(lines, splitLines(text)...)
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			lines = append(lines, string(raw))
			continue
		}
		for _, item := range list {
			var entry struct {
				Level   string `json:"level"`
				Message string `json:"message"`
			}
			switch {
			case json.Unmarshal(item, &text) == nil:
				lines = append(lines, splitLines(text)...)
			case json.Unmarshal(item, &entry) == nil && entry.Message != "":
				if entry.Level != "" && entry.Level != "print" {
					entry.Message = "[" + entry.Level + "] " + entry.Message
				}
				lines = append(lines, splitLines(entry.Message)...)
			default:
				lines = append(lines, string(item))
			}
		}
	}
	return lines
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
