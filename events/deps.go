package events

import (
	"log/slog"
	"time"

	"github.com/moonbase-dev/moonbase/db"
)

// Deps are what the parts of the package need. One value serves every
// constructor; each part uses the fields it needs.
type Deps struct {
	// Store holds _events, _jobs, _schedules and reads _functions.
	Store db.Store
	// Queue is where the Bus and the Scheduler enqueue function runs. A Bus
	// without one only records events.
	Queue *Queue
	// Runner runs functions; NewQueue registers KindFunction with it.
	Runner FunctionRunner
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock; it defaults to time.Now. Tests move it.
	Now func() time.Time
}

func (d Deps) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

func (d Deps) clock() func() time.Time {
	if d.Now == nil {
		return time.Now
	}
	return d.Now
}
