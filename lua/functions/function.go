package functions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Triggers of a run, as RunOptions.Trigger and ctx.trigger say them.
const (
	TriggerInvoke   = "invoke"   // POST /api/functions/:name
	TriggerHTTP     = "http"     // ANY /functions/:name
	TriggerEvent    = "event"    // an event the function subscribes to
	TriggerSchedule = "schedule" // a schedule occurrence
	TriggerTest     = "test"     // the admin editor's test run
	TriggerFunction = "function" // backend.executeFunction from another function
)

// DefaultHandler is the global a function's source defines to handle runs.
const DefaultHandler = "handle"

// MaxRetries caps Definition.Retries.
const MaxRetries = 99

// Trigger is one way a function runs. Exactly one of Invoke, HTTP, Event
// and Schedule is set; Collection narrows an event trigger to the doc_*
// events of one collection, Channel a chan_in or channel_join trigger to
// some channels, Timezone gives a schedule its zone (default UTC). In JSON
// and YAML: {invoke: true}, {http: true}, {event: NAME, collection: COL},
// {event: chan_in, channel: PATTERN}, {schedule: EXPR, timezone: TZ}.
type Trigger struct {
	Invoke     bool   `json:"invoke,omitempty" yaml:"invoke,omitempty"`
	HTTP       bool   `json:"http,omitempty" yaml:"http,omitempty"`
	Event      string `json:"event,omitempty" yaml:"event,omitempty"`
	Collection string `json:"collection,omitempty" yaml:"collection,omitempty"`
	// Channel narrows a chan_in or channel_join trigger to the realtime
	// channels it matches: a name, or a prefix ending in "*" (room:*).
	Channel  string `json:"channel,omitempty" yaml:"channel,omitempty"`
	Schedule string `json:"schedule,omitempty" yaml:"schedule,omitempty"`
	Timezone string `json:"timezone,omitempty" yaml:"timezone,omitempty"`
	// Methods, on an http trigger, lists the methods it answers; any
	// other is refused with 405 and an Allow header before the function
	// runs. Empty answers every method.
	Methods []string `json:"methods,omitempty" yaml:"methods,omitempty"`
}

// httpMethods are the methods an http trigger may list.
var httpMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

// key identifies t among a function's triggers.
func (t Trigger) key() string {
	return fmt.Sprintf("%v|%v|%s|%s|%s|%s|%s|%s", t.Invoke, t.HTTP, t.Event, t.Collection, t.Channel, t.Schedule, t.Timezone, strings.Join(t.Methods, ","))
}

// Equal reports whether t and o are the same trigger.
func (t Trigger) Equal(o Trigger) bool { return t.key() == o.key() }

// AllowsMethod reports whether an http call with method may run f, and
// the methods its http trigger lists when not. HEAD is allowed wherever
// GET is.
func (f Function) AllowsMethod(method string) (bool, []string) {
	for _, t := range f.Triggers {
		if !t.HTTP {
			continue
		}
		if len(t.Methods) == 0 {
			return true, nil
		}
		for _, m := range t.Methods {
			if m == method || (method == "HEAD" && m == "GET") {
				return true, nil
			}
		}
		return false, t.Methods
	}
	return true, nil
}

// Definition is what a user writes: function.yaml's fields plus the
// source. It decodes from the admin API's JSON body and from function.yaml
// as it is.
type Definition struct {
	Name   string `json:"name" yaml:"name"`
	Source string `json:"source" yaml:"-"`
	// Entry is function.yaml's source file (default main.lua); deploy reads
	// it, the registry does not store it.
	Entry string `json:"-" yaml:"entry,omitempty"`
	// Handler is the global the source defines; default "handle".
	Handler  string    `json:"handler,omitempty" yaml:"handler,omitempty"`
	Triggers []Trigger `json:"triggers" yaml:"triggers"`
	// Timeout is the run's time limit; zero means the runtime's default.
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Retries is how many times the queue retries a failed event or
	// schedule run; nil leaves it to the queue's default.
	Retries *int `json:"retries,omitempty" yaml:"retries,omitempty"`
	// Backoff is the delay before each retry; nil leaves it to the
	// queue's default.
	Backoff *Backoff `json:"backoff,omitempty" yaml:"backoff,omitempty"`
}

// Function is a saved function at its current (or a past) version.
type Function struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	Source    string    `json:"source"`
	Handler   string    `json:"handler"`
	Triggers  []Trigger `json:"triggers"`
	Timeout   Duration  `json:"timeout"` // zero: the runtime's default
	Retries   *int      `json:"retries,omitempty"`
	Backoff   *Backoff  `json:"backoff,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Has reports whether f has a trigger of the kind (TriggerInvoke,
// TriggerHTTP, TriggerEvent, TriggerSchedule).
func (f Function) Has(kind string) bool {
	for _, t := range f.Triggers {
		if t.kind() == kind {
			return true
		}
	}
	return false
}

// Definition is what would save f again as it is.
func (f Function) Definition() Definition {
	return Definition{Name: f.Name, Source: f.Source, Handler: f.Handler, Triggers: f.Triggers, Timeout: f.Timeout, Retries: f.Retries, Backoff: f.Backoff}
}

// Duration is a time.Duration written as "10s", "1m30s" or "250ms" in JSON
// and YAML.
type Duration time.Duration

// D is d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes d as "10s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "10s", "1m30s", "250ms".
func (d *Duration) UnmarshalText(b []byte) error {
	p, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%w: timeout %q is not a duration (write it like 10s, 1m30s or 250ms)", ErrInvalidDefinition, string(b))
	}
	*d = Duration(p)
	return nil
}

// UnmarshalJSON reads a JSON string like "10s"; a bare number is refused
// because its unit would be a guess.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*d = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: timeout must be a string such as \"10s\" or \"1m30s\", got %s", ErrInvalidDefinition, b)
	}
	return d.UnmarshalText([]byte(s))
}

var (
	functionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
	luaName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ValidateName refuses a function name that is not 1-64 letters, digits,
// "_" or "-" starting with a letter (names appear in URLs as they are).
func ValidateName(name string) error {
	if !functionName.MatchString(name) {
		return fmt.Errorf("%w: function name %q: use 1-64 letters, digits, _ or -, starting with a letter", ErrInvalidDefinition, name)
	}
	return nil
}

func (t Trigger) kind() string {
	switch {
	case t.Invoke:
		return TriggerInvoke
	case t.HTTP:
		return TriggerHTTP
	case t.Event != "":
		return TriggerEvent
	case t.Schedule != "":
		return TriggerSchedule
	}
	return ""
}

// normalize checks d and fills its defaults; checkSchedule, when set,
// validates schedule expressions.
func (d Definition) normalize(cfg Config, checkSchedule func(expr, timezone string) error) (Definition, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: function %q: %s", ErrInvalidDefinition, d.Name, fmt.Sprintf(format, args...))
	}
	d.Name = strings.TrimSpace(d.Name)
	if err := ValidateName(d.Name); err != nil {
		return d, err
	}
	if strings.TrimSpace(d.Source) == "" {
		return d, bad("the source is empty")
	}
	if d.Handler == "" {
		d.Handler = DefaultHandler
	}
	if !luaName.MatchString(d.Handler) {
		return d, bad("handler %q is not a Lua name", d.Handler)
	}
	if d.Timeout < 0 {
		return d, bad("timeout is negative")
	}
	if d.Timeout.D() > cfg.MaxTimeout {
		return d, bad("timeout %s is longer than the server's max_timeout of %s", d.Timeout.D(), cfg.MaxTimeout)
	}
	if d.Timeout != 0 && d.Timeout.D() < time.Millisecond {
		return d, bad("timeout %s is shorter than 1ms", d.Timeout.D())
	}
	if d.Retries != nil && (*d.Retries < 0 || *d.Retries > MaxRetries) {
		return d, bad("retries is %d; use 0 to %d", *d.Retries, MaxRetries)
	}
	if d.Backoff != nil {
		if err := d.Backoff.check(); err != nil {
			return d, bad("%v", err)
		}
	}
	seen := map[string]bool{}
	triggers := slices.Clone(d.Triggers)
	for i, t := range d.Triggers {
		n := i + 1
		set := 0
		for _, on := range []bool{t.Invoke, t.HTTP, t.Event != "", t.Schedule != ""} {
			if on {
				set++
			}
		}
		if set != 1 {
			return d, bad("trigger %d: give exactly one of invoke: true, http: true, event: NAME or schedule: EXPR", n)
		}
		if t.Channel != "" && t.Event != "chan_in" && t.Event != "channel_join" {
			return d, bad("trigger %d: channel goes with a chan_in or channel_join event trigger", n)
		}
		if t.Channel != "" && !channelPattern(t.Channel) {
			return d, bad("trigger %d: channel %q is not a channel name or a prefix ending in * (room:*)", n, t.Channel)
		}
		if t.Collection != "" && t.Event == "" {
			return d, bad("trigger %d: collection goes with an event trigger", n)
		}
		if t.Timezone != "" && t.Schedule == "" {
			return d, bad("trigger %d: timezone goes with a schedule trigger", n)
		}
		if t.Event != "" && (len(t.Event) > 128 || strings.IndexFunc(t.Event, unicode.IsSpace) >= 0) {
			return d, bad("trigger %d: event name %q must be at most 128 characters without spaces", n, t.Event)
		}
		if t.Collection != "" {
			if err := db.ValidateCollectionName(t.Collection); err != nil {
				return d, bad("trigger %d: %v", n, err)
			}
		}
		if t.Timezone != "" {
			if _, err := time.LoadLocation(t.Timezone); err != nil {
				return d, bad("trigger %d: unknown time zone %q (use an IANA name such as Europe/Paris)", n, t.Timezone)
			}
		}
		if t.Schedule != "" && checkSchedule != nil {
			if err := checkSchedule(t.Schedule, t.Timezone); err != nil {
				return d, bad("trigger %d: schedule %q: %v", n, t.Schedule, err)
			}
		}
		if len(t.Methods) > 0 && !t.HTTP {
			return d, bad("trigger %d: methods go with an http trigger", n)
		}
		if len(t.Methods) > 0 {
			// A new slice: the caller's may be shared with a saved
			// function that runs are reading.
			methods := make([]string, 0, len(t.Methods))
			for _, m := range t.Methods {
				up := strings.ToUpper(strings.TrimSpace(m))
				if !httpMethods[up] {
					return d, bad("trigger %d: method %q: use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS", n, m)
				}
				if slices.Contains(methods, up) {
					return d, bad("trigger %d: method %s is listed twice", n, up)
				}
				methods = append(methods, up)
			}
			t.Methods = methods
			triggers[i] = t
		}
		if seen[t.key()] {
			return d, bad("trigger %d repeats an earlier one", n)
		}
		seen[t.key()] = true
	}
	d.Triggers = triggers
	if d.Triggers == nil {
		d.Triggers = []Trigger{}
	}
	return d, nil
}

// sameAs reports whether saving d over f would change nothing.
func (d Definition) sameAs(f Function) bool {
	if d.Source != f.Source || d.Handler != f.Handler || d.Timeout != f.Timeout || len(d.Triggers) != len(f.Triggers) {
		return false
	}
	if (d.Retries == nil) != (f.Retries == nil) || (d.Retries != nil && *d.Retries != *f.Retries) {
		return false
	}
	if !sameBackoff(d.Backoff, f.Backoff) {
		return false
	}
	for i := range d.Triggers {
		if d.Triggers[i].key() != f.Triggers[i].key() {
			return false
		}
	}
	return true
}

// triggersDoc writes triggers as stored: only the keys each one sets.
func triggersDoc(ts []Trigger) bson.A {
	out := make(bson.A, 0, len(ts))
	for _, t := range ts {
		m := bson.M{}
		switch {
		case t.Invoke:
			m["invoke"] = true
		case t.HTTP:
			m["http"] = true
			if len(t.Methods) > 0 {
				ms := bson.A{}
				for _, x := range t.Methods {
					ms = append(ms, x)
				}
				m["methods"] = ms
			}
		case t.Event != "":
			m["event"] = t.Event
			if t.Collection != "" {
				m["collection"] = t.Collection
			}
			if t.Channel != "" {
				m["channel"] = t.Channel
			}
		case t.Schedule != "":
			m["schedule"] = t.Schedule
			if t.Timezone != "" {
				m["timezone"] = t.Timezone
			}
		}
		out = append(out, m)
	}
	return out
}

// functionDoc is the _functions document of f:
// {_id: name, name, version, source, handler, triggers, timeout_ms,
// retries and backoff (only when set), created_at, updated_at}.
func functionDoc(f Function) bson.M {
	doc := bson.M{
		"_id":        f.Name,
		"name":       f.Name,
		"version":    f.Version,
		"source":     f.Source,
		"handler":    f.Handler,
		"triggers":   triggersDoc(f.Triggers),
		"timeout_ms": f.Timeout.D().Milliseconds(),
		"created_at": f.CreatedAt,
		"updated_at": f.UpdatedAt,
	}
	if f.Retries != nil {
		doc["retries"] = int64(*f.Retries)
	}
	if f.Backoff != nil {
		doc["backoff"] = backoffDoc(*f.Backoff)
	}
	return doc
}

// versionDoc is the _function_versions document of f: {_id: "name@N",
// name, version, source, handler, triggers, timeout_ms, retries, backoff,
// created_at}.
func versionDoc(f Function) bson.M {
	doc := functionDoc(f)
	doc["_id"] = fmt.Sprintf("%s@%d", f.Name, f.Version)
	doc["created_at"] = f.UpdatedAt
	delete(doc, "updated_at")
	return doc
}

// functionFromDoc reads a _functions or _function_versions document.
func functionFromDoc(d bson.M) Function {
	f := Function{
		Name:      str(d["name"]),
		Version:   db.Int64Of(d["version"]),
		Source:    str(d["source"]),
		Handler:   str(d["handler"]),
		Timeout:   Duration(time.Duration(db.Int64Of(d["timeout_ms"])) * time.Millisecond),
		CreatedAt: db.TimeOf(d["created_at"]),
		UpdatedAt: db.TimeOf(d["updated_at"]),
		Triggers:  []Trigger{},
	}
	if f.UpdatedAt.IsZero() {
		f.UpdatedAt = f.CreatedAt
	}
	if f.Handler == "" {
		f.Handler = DefaultHandler
	}
	if _, ok := d["retries"]; ok {
		n := int(db.Int64Of(d["retries"]))
		f.Retries = &n
	}
	f.Backoff = backoffFromDoc(d["backoff"])
	if ts, ok := d["triggers"].(bson.A); ok {
		for _, t := range ts {
			m, _ := t.(bson.M)
			f.Triggers = append(f.Triggers, Trigger{
				Invoke:     m["invoke"] == true,
				HTTP:       m["http"] == true,
				Event:      str(m["event"]),
				Collection: str(m["collection"]),
				Channel:    str(m["channel"]),
				Schedule:   str(m["schedule"]),
				Timezone:   str(m["timezone"]),
				Methods:    strs(m["methods"]),
			})
		}
	}
	return f
}

func strs(v any) []string {
	a, ok := v.(bson.A)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(a))
	for _, x := range a {
		out = append(out, str(x))
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// channelPattern reports whether p is a realtime channel name or a prefix
// of one ending in "*": letters, digits and _ - : . @ / = +, at most 200.
func channelPattern(p string) bool {
	name := strings.TrimSuffix(p, "*")
	if (name == "" && p != "*") || len(name) > 200 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-:.@/=+", c) >= 0) {
			return false
		}
	}
	return true
}
