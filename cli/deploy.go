package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonbase-dev/moonbase/server/adminapi"
)

func newDeployCmd(o *clientOptions) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "deploy [DIR]",
		Short: "Deploy a folder of functions (default ./functions) all at once, or none of them",
		Long: "Deploy every function folder under DIR in one request: each folder with function.yaml and its\n" +
			"entry file (default main.lua) is one function, named after the folder. A folder with neither\n" +
			"function.yaml nor Lua files may hold more function folders, so `moonbase deploy examples`\n" +
			"deploys every example. The server checks every function first (Lua syntax, triggers,\n" +
			"schedules) and, if any fails, refuses the whole deploy and changes nothing. Functions on the\n" +
			"server that are not in the folder are left alone.",
		Args: argsBetween(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := defaultFunctionsDir
			if len(args) == 1 {
				dir = args[0]
			}
			defs, err := readFunctionsDir(dir)
			var fe *folderError
			if errors.As(err, &fe) {
				for _, p := range fe.Problems {
					fmt.Fprintln(cmd.ErrOrStderr(), p)
				}
				return fmt.Errorf("nothing was deployed: %s in %s", plural(len(fe.Problems), "problem"), dir)
			}
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			body := adminapi.DeployRequest{Functions: defs, DryRun: dryRun}
			var ans adminapi.DeployAnswer
			raw, err := c.call(cmd.Context(), http.MethodPost, "/api/admin/deploy", body, &ans)
			var ae *apiError
			if errors.As(err, &ae) && ae.Code == "deploy_refused" {
				return deployRefused(cmd.ErrOrStderr(), ae, len(defs))
			}
			if err != nil {
				return err
			}
			return o.print(cmd, raw, func(w io.Writer) error {
				for _, r := range ans.Functions {
					fmt.Fprintln(w, deployLine(r, dryRun))
				}
				if dryRun {
					fmt.Fprintln(w, "dry run: nothing was changed")
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check every function and say what would change, changing nothing")
	return cmd
}

// deployLine says what a deploy did to one function: "created
// trial-reminder v1", or in a dry run "would create trial-reminder".
func deployLine(r adminapi.DeployResult, dryRun bool) string {
	version := ""
	if r.Version > 0 {
		version = fmt.Sprintf(" v%d", r.Version)
	}
	if !dryRun || r.Action == adminapi.DeployUnchanged {
		return r.Action + " " + r.Name + version
	}
	switch r.Action {
	case adminapi.DeployCreated:
		return "would create " + r.Name
	case adminapi.DeployUpdated:
		return "would update " + r.Name
	}
	return r.Action + " " + r.Name + version
}

// deployRefused prints every problem of a refused deploy, one per line,
// and returns the one-line summary.
func deployRefused(stderr io.Writer, ae *apiError, total int) error {
	var details []adminapi.DeployProblem
	if len(ae.Details) == 0 || json.Unmarshal(ae.Details, &details) != nil || len(details) == 0 {
		// The message lists every problem when there are no details.
		fmt.Fprintln(stderr, ae.Message)
		return errors.New("deploy refused, nothing was changed")
	}
	for _, d := range details {
		if strings.Contains(d.Error, d.Name) {
			fmt.Fprintln(stderr, d.Error) // it names the function already
		} else {
			fmt.Fprintf(stderr, "%s: %s\n", d.Name, d.Error)
		}
	}
	return fmt.Errorf("deploy refused, nothing was changed: %d of %s failed", len(details), plural(total, "function"))
}
