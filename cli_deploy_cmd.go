package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

// deployResult is one function of a deploy's answer.
type deployResult struct {
	Name    string `json:"name"`
	Action  string `json:"action"` // created, updated, unchanged
	Version int64  `json:"version"`
}

func newDeployCmd(o *clientOptions) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "deploy [DIR]",
		Short: "Deploy a folder of functions (default ./functions) all at once, or none of them",
		Long: "Deploy every DIR/<name>/function.yaml with its entry file (default main.lua) in one request.\n" +
			"The server checks every function first (Lua syntax, triggers, schedules) and, if any fails,\n" +
			"refuses the whole deploy and changes nothing. Functions on the server that are not in the\n" +
			"folder are left alone.",
		Args: argsBetween(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "functions"
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
			body := map[string]any{"functions": defs, "dry_run": dryRun}
			raw, err := c.do(cmd.Context(), http.MethodPost, "/api/admin/deploy", body)
			var ae *apiError
			if errors.As(err, &ae) && ae.Code == "deploy_refused" {
				return deployRefused(cmd.ErrOrStderr(), ae, len(defs))
			}
			if err != nil {
				return err
			}
			if o.json {
				return printRaw(cmd.OutOrStdout(), raw)
			}
			var ans struct {
				Functions []deployResult `json:"functions"`
			}
			if err := json.Unmarshal(raw, &ans); err != nil {
				return fmt.Errorf("unexpected answer from the server: %v", err)
			}
			for _, r := range ans.Functions {
				fmt.Fprintln(cmd.OutOrStdout(), deployLine(r, dryRun))
			}
			if dryRun {
				fmt.Fprintln(cmd.OutOrStdout(), "dry run: nothing was changed")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check every function and say what would change, changing nothing")
	return cmd
}

// deployLine says what a deploy did to one function: "created
// trial-reminder v1", or in a dry run "would create trial-reminder".
func deployLine(r deployResult, dryRun bool) string {
	version := ""
	if r.Version > 0 {
		version = fmt.Sprintf(" v%d", r.Version)
	}
	if !dryRun || r.Action == "unchanged" {
		return r.Action + " " + r.Name + version
	}
	switch r.Action {
	case "created":
		return "would create " + r.Name
	case "updated":
		return "would update " + r.Name
	}
	return r.Action + " " + r.Name + version
}

// deployRefused prints every problem of a refused deploy, one per line,
// and returns the one-line summary.
func deployRefused(stderr io.Writer, ae *apiError, total int) error {
	var details []struct {
		Name  string `json:"name"`
		Error string `json:"error"`
	}
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

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
