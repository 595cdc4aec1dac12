package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

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
