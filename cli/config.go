package cli

import (
	"context"
	"errors"
	"os"
)

// Config is what the command line says about itself.
type Config struct {
	// Version is what `moonbase version` prints and the client sends in
	// its User-Agent.
	Version string
}

// Validate refuses a Config that New cannot use.
func (c Config) Validate() error {
	if c.Version == "" {
		return errors.New("cli: Config.Version is empty")
	}
	return nil
}

// Deps are what the command line needs from the program that wires it.
type Deps struct {
	// Serve runs the server configured by the file at configPath until
	// ctx ends or a signal stops it. explicit says --config was given, so
	// that a missing file is an error rather than the defaults.
	Serve func(ctx context.Context, configPath string, explicit bool) error
	// Getenv reads MOONBASE_URL and MOONBASE_ADMIN_TOKEN; nil is os.Getenv.
	Getenv func(string) string
}

func (d Deps) getenv() func(string) string {
	if d.Getenv == nil {
		return os.Getenv
	}
	return d.Getenv
}
