package adminapi

import (
	"encoding/json"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// Function is a saved function as the admin API shows it. Timeout is left
// out when the function has none of its own (the server's
// functions.timeout applies), so that sending a function back as it was
// read does not pin today's default. Source is left out of lists.
type Function struct {
	Name      string              `json:"name"`
	Version   int64               `json:"version"`
	Source    string              `json:"source,omitempty"`
	Handler   string              `json:"handler"`
	Triggers  []functions.Trigger `json:"triggers"`
	Timeout   string              `json:"timeout,omitempty"`
	Retries   *int                `json:"retries,omitempty"`
	Backoff   *functions.Backoff  `json:"backoff,omitempty"`
	CreatedAt time.Time           `json:"created_at"`
	UpdatedAt time.Time           `json:"updated_at"`
}

// FunctionOf shows fn, with its source when withSource.
func FunctionOf(fn functions.Function, withSource bool) Function {
	v := Function{
		Name: fn.Name, Version: fn.Version, Handler: fn.Handler, Triggers: fn.Triggers,
		Retries: fn.Retries, Backoff: fn.Backoff, CreatedAt: fn.CreatedAt, UpdatedAt: fn.UpdatedAt,
	}
	if v.Triggers == nil {
		v.Triggers = []functions.Trigger{}
	}
	if fn.Timeout > 0 {
		v.Timeout = fn.Timeout.D().String()
	}
	if withSource {
		v.Source = fn.Source
	}
	return v
}

// Definition is what would save f again as it is, with its source
// replaced by source: what `moonbase functions update` sends.
func (f Function) Definition(source string) (functions.Definition, error) {
	def := functions.Definition{Name: f.Name, Source: source, Handler: f.Handler, Triggers: f.Triggers, Retries: f.Retries, Backoff: f.Backoff}
	if f.Timeout != "" {
		if err := def.Timeout.UnmarshalText([]byte(f.Timeout)); err != nil {
			return functions.Definition{}, err
		}
	}
	return def, nil
}

// FunctionAnswer answers GET, PUT and rollback of one function.
type FunctionAnswer struct {
	Function Function `json:"function"`
}

// FunctionsAnswer answers GET /api/admin/functions. Next is the name to
// give as ?after= for the following page, "" on the last (and when the
// whole list was asked for, without ?limit=).
type FunctionsAnswer struct {
	Functions []Function `json:"functions"`
	Next      string     `json:"next"`
}

// Version is one saved version of a function.
type Version struct {
	Version   int64               `json:"version"`
	CreatedAt time.Time           `json:"created_at"`
	Source    string              `json:"source"`
	Handler   string              `json:"handler"`
	Triggers  []functions.Trigger `json:"triggers"`
	Timeout   string              `json:"timeout,omitempty"`
	Retries   *int                `json:"retries,omitempty"`
	Backoff   *functions.Backoff  `json:"backoff,omitempty"`
}

// VersionsAnswer answers GET /api/admin/functions/:name/versions, newest
// first.
type VersionsAnswer struct {
	Versions []Version `json:"versions"`
}

// RollbackRequest is the body of POST /api/admin/functions/:name/rollback.
type RollbackRequest struct {
	Version int64 `json:"version"`
}

// Execution is one run's record as the admin API lists it; Output is what
// the run printed and logged.
type Execution struct {
	ID         string              `json:"id"`
	Function   string              `json:"function"`
	Version    int64               `json:"version"`
	Trigger    string              `json:"trigger"`
	StartedAt  time.Time           `json:"started_at"`
	DurationMs float64             `json:"duration_ms"`
	Status     string              `json:"status"`
	Error      string              `json:"error,omitempty"`
	Line       int                 `json:"line,omitempty"`
	Traceback  string              `json:"traceback,omitempty"`
	Output     []functions.LogLine `json:"output"`
	User       string              `json:"user,omitempty"`
	Identity   string              `json:"identity,omitempty"`
	Event      string              `json:"event,omitempty"`
	EventID    string              `json:"event_id,omitempty"`
	Attempt    int                 `json:"attempt,omitempty"`
	// Input is what the run was given, in plain JSON (an http run's
	// request as {method, path, url, query, headers, body}, credentials
	// redacted). When it was over functions.MaxInputBytes it is absent,
	// InputCut is set, InputBytes is its size and InputPreview the start
	// of its JSON text; such a run cannot be re-run.
	Input        any    `json:"input,omitempty"`
	InputCut     bool   `json:"input_cut,omitempty"`
	InputBytes   int64  `json:"input_bytes,omitempty"`
	InputPreview string `json:"input_preview,omitempty"`
}

// ExecutionOf shows a run's record.
func ExecutionOf(e functions.Execution) Execution {
	v := Execution{
		ID: e.ID, Function: e.Function, Version: e.Version, Trigger: e.Trigger, StartedAt: e.StartedAt,
		DurationMs: e.DurationMs, Status: e.Status, Error: e.Error, Line: e.Line, Traceback: e.Traceback,
		Output: e.Logs, User: e.User, Identity: e.Identity, Event: e.Event, EventID: e.EventID, Attempt: e.Attempt,
		InputCut: e.InputCut, InputBytes: e.InputBytes, InputPreview: e.InputPreview,
	}
	if e.Input != nil {
		v.Input = db.ToJSONValue(e.Input)
	}
	if v.Output == nil {
		v.Output = []functions.LogLine{}
	}
	return v
}

// ExecutionsAnswer answers GET /api/admin/functions/:name/executions,
// newest first.
type ExecutionsAnswer struct {
	Executions []Execution `json:"executions"`
	// Next is the before of the following page (older runs), "" when
	// this page was not full.
	Next string `json:"next"`
}

// RunRequest is the body of POST /api/admin/functions/:name/run. User
// (an email) or UserToken (a session token of the app's API) runs the
// function as that signed-in user; without either nobody is signed in.
type RunRequest struct {
	Input     json.RawMessage `json:"input,omitempty"`
	Trigger   string          `json:"trigger,omitempty"`
	User      string          `json:"user,omitempty"`
	UserToken string          `json:"user_token,omitempty"`
}

// RunRequestFields lists RunRequest's fields for the server's message
// about an unknown one.
const RunRequestFields = "input, trigger, user, user_token"

// RunAnswer answers a run of the admin API: its result, the HTTP status
// the function answered with, what it printed and logged, and its error
// with the Lua line when it failed.
type RunAnswer struct {
	Result      any                 `json:"result"`
	Status      int                 `json:"status"`
	Headers     map[string]string   `json:"headers,omitempty"`
	Output      []functions.LogLine `json:"output"`
	Error       string              `json:"error,omitempty"`
	Line        int                 `json:"line,omitempty"`
	DurationMs  float64             `json:"duration_ms"`
	ExecutionID string              `json:"execution_id"`
	// RerunOf is the execution a re-run made again
	// (POST /api/admin/functions/:name/executions/:id/rerun).
	RerunOf string `json:"rerun_of,omitempty"`
}
