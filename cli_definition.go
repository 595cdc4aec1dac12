package main

import (
	"strings"
	"time"
)

// trigger is one way a function runs, in the form function.yaml and the
// admin API share: {invoke: true}, {http: true}, {event: NAME, collection:
// COL}, {schedule: EXPR, timezone: TZ}. The server validates it.
type trigger struct {
	Invoke     bool   `json:"invoke,omitempty" yaml:"invoke"`
	HTTP       bool   `json:"http,omitempty" yaml:"http"`
	Event      string `json:"event,omitempty" yaml:"event"`
	Collection string `json:"collection,omitempty" yaml:"collection"`
	Schedule   string `json:"schedule,omitempty" yaml:"schedule"`
	Timezone   string `json:"timezone,omitempty" yaml:"timezone"`
}

// String is the trigger as a table shows it: "invoke", "http",
// "event:doc_created(orders)", "schedule:daily at 09:00 (Europe/Paris)".
func (t trigger) String() string {
	var parts []string
	if t.Invoke {
		parts = append(parts, "invoke")
	}
	if t.HTTP {
		parts = append(parts, "http")
	}
	if t.Event != "" {
		s := "event:" + t.Event
		if t.Collection != "" {
			s += "(" + t.Collection + ")"
		}
		parts = append(parts, s)
	}
	if t.Schedule != "" {
		s := "schedule:" + t.Schedule
		if t.Timezone != "" {
			s += " (" + t.Timezone + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "+")
}

// triggerList joins a function's triggers for a table cell.
func triggerList(ts []trigger) string {
	if len(ts) == 0 {
		return "-"
	}
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// definition is a function as the admin API takes it: function.yaml's
// fields plus the source. Timeout stays a string ("10s"): the server owns
// its parsing, so the client never disagrees with it.
type definition struct {
	Name     string    `json:"name"`
	Source   string    `json:"source"`
	Handler  string    `json:"handler,omitempty"`
	Triggers []trigger `json:"triggers"`
	Timeout  string    `json:"timeout,omitempty"`
	Retries  *int      `json:"retries,omitempty"`
	Backoff  *backoff  `json:"backoff,omitempty"`
}

// backoff is a function's retry delay, {initial: 60s, max: 24h}; like the
// timeout, its durations stay strings for the server to read.
type backoff struct {
	Initial string `json:"initial,omitempty" yaml:"initial"`
	Max     string `json:"max,omitempty" yaml:"max"`
}

// functionInfo is a saved function as the admin API describes it.
type functionInfo struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	Handler   string    `json:"handler"`
	Triggers  []trigger `json:"triggers"`
	UpdatedAt time.Time `json:"updated_at"`
}
