// Command moonbase is the Moonbase server and its command-line client.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/moonbase-dev/moonbase/server"
)

// version is Moonbase's release; builds from a module proxy report their
// module version instead.
const version = "0.1.0-dev"

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "moonbase: "+oneLine(err.Error()))
		os.Exit(1)
	}
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func newRootCmd() *cobra.Command {
	var configPath string
	root := &cobra.Command{
		Use:           "moonbase",
		Short:         "Moonbase: a backend in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveCmd(cmd, configPath)
		},
	}
	root.PersistentFlags().StringVar(&configPath, "config", "config.yaml", "configuration file (a missing default file means defaults)")
	root.AddCommand(&cobra.Command{
		Use:   "serve",
		Short: "Run the server (the default command)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveCmd(cmd, configPath)
		},
	})
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "moonbase %s (%s)\n", buildVersion(), runtime.Version())
		},
	})
	addClientCommands(root)
	return root
}

func buildVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return version
}

// serveCmd runs the server until SIGINT or SIGTERM.
func serveCmd(cmd *cobra.Command, configPath string) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := server.LoadConfig(configPath, cmd.Flags().Changed("config"), os.Environ())
	if err != nil {
		return err
	}
	return serve(ctx, stop, cfg, os.Stderr)
}

// serve runs the server until ctx ends, then shuts it down within
// server.shutdown_timeout. stop is called once ctx has ended, so that a
// second signal is no longer caught and ends the process at once.
func serve(ctx context.Context, stop func(), cfg server.Config, stderr io.Writer) error {
	logger := newLogger(cfg.Log, stderr)
	slog.SetDefault(logger)
	srv, err := server.New(cfg, server.Deps{Logger: logger, Stderr: stderr})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	<-ctx.Done()
	stop()
	logger.Info("shutting down", "timeout", cfg.Server.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func newLogger(c server.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by LoadConfig
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
