package cli

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// newSecretsCmd is `moonbase secrets …`.
func newSecretsCmd(o *clientOptions) *cobra.Command {
	return groupCmd("secrets", "Set, list and delete the secrets functions read with backend.env",
		newSecretsSetCmd(o),
		newSecretsListCmd(o),
		newSecretsDeleteCmd(o),
	)
}

func secretPath(name string) string { return "/api/admin/secrets/" + pathName(name) }

func newSecretsSetCmd(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "set NAME VALUE",
		Short: "Set a secret (VALUE - reads it from stdin, keeping it out of the shell's history)",
		Args:  argsBetween(2, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, value := args[0], args[1]
			if value == "-" {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return fmt.Errorf("read the secret from stdin: %w", err)
				}
				value = strings.TrimRight(string(b), "\r\n")
			}
			return exchange(cmd, o, http.MethodPut, secretPath(name), adminapi.SecretRequest{Value: &value}, func(w io.Writer, _ struct{}) error {
				_, err := fmt.Fprintf(w, "set secret %s\n", name)
				return err
			})
		},
	}
}

func newSecretsListCmd(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the secrets' names (values are never shown)",
		Args:  argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			add := func(all *adminapi.SecretsAnswer, page adminapi.SecretsAnswer) string {
				if all.Secrets == nil {
					all.Secrets = []string{} // printed as [] with --json, not null
				}
				all.Secrets = append(all.Secrets, page.Secrets...)
				return page.Next
			}
			return exchangeAll(cmd, o, "/api/admin/secrets", add, func(w io.Writer, ans adminapi.SecretsAnswer) error {
				if len(ans.Secrets) == 0 {
					fmt.Fprintln(cmd.ErrOrStderr(), "no secrets")
				}
				for _, s := range ans.Secrets {
					fmt.Fprintln(w, s)
				}
				return nil
			})
		},
	}
}

func newSecretsDeleteCmd(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a secret",
		Args:  argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return exchange(cmd, o, http.MethodDelete, secretPath(args[0]), nil, func(w io.Writer, _ struct{}) error {
				_, err := fmt.Fprintf(w, "deleted secret %s\n", args[0])
				return err
			})
		},
	}
}
