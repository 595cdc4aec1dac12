package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
)

// Command is one command of the tree New builds.
type Command = cobra.Command

// clientGroups are the constructors of the top-level client commands. A
// new area of the admin API adds its own here; each gets --url, --token
// and --json, and sends its requests through exchange.
func clientGroups() []func(*clientOptions) *cobra.Command {
	return []func(*clientOptions) *cobra.Command{
		newFunctionsCmd,
		newDeployCmd,
		newJobsCmd,
		newSchedulesCmd,
		newSecretsCmd,
		newWebhooksCmd,
	}
}

// New builds the whole command tree: serve (also what a bare `moonbase`
// runs), version, and the client commands. It panics on a Config that does
// not validate or a missing Deps.Serve, both mistakes of the caller.
func New(cfg Config, deps Deps) *Command {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if deps.Serve == nil {
		panic(errors.New("cli: Deps.Serve is nil"))
	}
	var configPath string
	serve := func(cmd *cobra.Command, _ []string) error {
		return deps.Serve(cmd.Context(), configPath, cmd.Flags().Changed("config"))
	}
	// --config belongs to the server alone: it is a flag of the root (which
	// serves) and of serve, not of every command, so the client commands'
	// help does not offer it.
	configFlag := func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&configPath, "config", "config.yaml", "configuration file (a missing default file means defaults)")
	}
	root := &cobra.Command{
		Use:           "moonbase",
		Short:         "Moonbase: a backend in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE:          serve,
	}
	configFlag(root)
	serveCmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (the default command)",
		Args:  cobra.NoArgs,
		RunE:  serve,
	}
	configFlag(serveCmd)
	root.AddCommand(serveCmd, &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "moonbase %s (%s)\n", cfg.Version, runtime.Version())
		},
	})
	opts := &clientOptions{getenv: deps.getenv(), version: cfg.Version}
	for _, group := range clientGroups() {
		cmd := group(opts)
		f := cmd.PersistentFlags()
		f.StringVar(&opts.url, "url", "", "server URL (default $MOONBASE_URL, else "+defaultServerURL+")")
		f.StringVar(&opts.token, "token", "", "admin token (default $MOONBASE_ADMIN_TOKEN)")
		f.BoolVar(&opts.json, "json", false, "print the server's JSON answer as it is, for scripts")
		root.AddCommand(cmd)
	}
	return root
}

// Execute runs root with the process's arguments and returns the exit
// status: 0, or 1 after printing the error as one "moonbase: …" line on
// stderr.
func Execute(ctx context.Context, root *Command, stderr io.Writer) int {
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "moonbase: "+OneLine(err.Error()))
		return 1
	}
	return 0
}

// OneLine joins a message's lines with "; ", so every error is one line.
func OneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }
