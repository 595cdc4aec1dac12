// Command moonbase is the Moonbase server and its command-line client. It
// only wires the parts together: the commands live in package cli, the
// server in package server.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/moonbase-dev/moonbase/cli"
	"github.com/moonbase-dev/moonbase/server"
)

// version is Moonbase's release; builds from a module proxy report their
// module version instead.
const version = "0.1.0-dev"

func main() {
	os.Exit(cli.Execute(context.Background(), newRootCmd(), os.Stderr))
}

func newRootCmd() *cli.Command {
	return cli.New(cli.Config{Version: buildVersion()}, cli.Deps{Serve: serveFile, Getenv: os.Getenv})
}

func buildVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return version
}

// serveFile runs the server configured by the file at configPath until
// SIGINT or SIGTERM; explicit says the path was given, so a missing file is
// an error rather than the defaults.
func serveFile(ctx context.Context, configPath string, explicit bool) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := server.LoadConfig(configPath, explicit, os.Environ())
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
