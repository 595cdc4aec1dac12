package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// runAnswer is adminapi.RunAnswer with its result kept as the server
// wrote it, so printing it changes neither its numbers nor its key order.
type runAnswer struct {
	adminapi.RunAnswer
	Result json.RawMessage `json:"result"`
}

func newFunctionsInvokeCmd(o *clientOptions) *cobra.Command {
	var data, user, userToken string
	cmd := &cobra.Command{
		Use:   "invoke NAME",
		Short: "Run a saved function now with --data as its input and print what it returned",
		Long: "Run a saved function now, as a test run, and print its result as JSON. Nobody is signed in\n" +
			"unless --user EMAIL or --user-token TOKEN (a token of the app's /api/auth/login) names who.\n" +
			"What the function printed or logged goes to stderr. A run that fails, or answers an error\n" +
			"status (4xx, 5xx), exits non-zero; a failure names its Lua line.",
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if user != "" && userToken != "" {
				return errors.New("give --user or --user-token, not both")
			}
			input, err := readData(data, cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var ans runAnswer
			raw, err := c.call(cmd.Context(), http.MethodPost, functionPath(args[0])+"/run", adminapi.RunRequest{Input: input, User: user, UserToken: userToken}, &ans)
			if err != nil {
				return err
			}
			err = o.print(cmd, raw, func(w io.Writer) error {
				for _, line := range outputLines(ans.Output) {
					fmt.Fprintln(cmd.ErrOrStderr(), line)
				}
				if ans.Error == "" && ans.Status != 0 && ans.Status != http.StatusOK && ans.Status < 400 {
					fmt.Fprintf(cmd.ErrOrStderr(), "(answered with status %d)\n", ans.Status)
				}
				if ans.Error == "" || (len(ans.Result) > 0 && string(ans.Result) != "null") {
					return printRaw(w, orNull(ans.Result))
				}
				return nil
			})
			if err != nil {
				return err
			}
			if ans.Error != "" {
				return &runFailedError{Message: ans.Error, Line: ans.Line}
			}
			if ans.Status >= 400 {
				return fmt.Errorf("function %q answered %d %s", args[0], ans.Status, http.StatusText(ans.Status))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the input as JSON, @FILE to read it from a file, or - for stdin (default {})")
	cmd.Flags().StringVar(&user, "user", "", "run as the user with this email, signed in")
	cmd.Flags().StringVar(&userToken, "user-token", "", "run as the user of this session token (from /api/auth/login)")
	return cmd
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
