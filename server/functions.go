package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// Functions: the Lua registry's wiring into the server, and what the admin
// routes (functions_admin.go, deploy.go) share: reading a definition,
// checking its triggers, and showing a saved function.

// newRegistry builds the function registry over the server's store. Runs
// invoked by a signed-in user act under the collections' rules from
// config.yaml; backend.publishEvent, backend.sendEmail and the schedule
// check go through the events service (events.go, mail.go), backend.publish
// and backend.channels.members through the channels hub (channels.go).
func (s *Server) newRegistry() (*engine.Registry, error) {
	return engine.NewRegistry(s.cfg.Functions, engine.Deps{
		Store:     s.store,
		Rules:     func(col string) db.Access { return s.cfg.Collections[col].Access() },
		Publish:   s.publishEvent,
		Commit:    s.commitFunctionWrite,
		SendEmail: s.enqueueEmail,
		// The hub is built after the registry; these run only once both
		// exist.
		ChannelPublish: func(ctx context.Context, channel string, data any) (int64, error) {
			return s.channels.Publish(ctx, channel, data)
		},
		ChannelMembers: s.channelMembers,
		CheckSchedule:  events.ValidateSchedule,
		Webhooks:       webhookCalls{s.webhooks},
		RedactHeader:   redactsHeader(s.cfg.Webhooks.WithDefaults().RedactHeaders),
		Logger:         s.log,
	})
}

// redactsHeader is the inbound log's redaction rule (webhooks.redact_headers),
// which execution records of http runs follow too.
func redactsHeader(redact []string) func(name string) bool {
	return func(name string) bool {
		for _, r := range redact {
			if strings.EqualFold(name, r) {
				return true
			}
		}
		return false
	}
}

// definitionFields are the keys a definition's JSON may have.
const definitionFields = "name, source, handler, triggers, timeout, retries, backoff"

// decodeDefinition reads one definition as the admin API takes it
// (function.yaml's fields plus the source), refusing unknown keys so a
// misspelt one is an error rather than a silent default.
func decodeDefinition(raw []byte) (functions.Definition, error) {
	var def functions.Definition
	if len(bytes.TrimSpace(raw)) == 0 {
		return def, badInput("request body is empty; send a function definition {%s}", definitionFields)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&def); err != nil {
		return def, definitionJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return def, errInvalidJSON
	}
	return def, nil
}

// definitionJSONError turns encoding/json's complaint about a definition
// into a message that names the field.
func definitionJSONError(err error) error {
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.Is(err, functions.ErrInvalidDefinition):
		return err // the timeout's own message
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return errInvalidJSON
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return badInput("a function definition is a JSON object {%s}", definitionFields)
		}
		if strings.HasPrefix(field, "triggers") {
			return Errorf(http.StatusBadRequest, "invalid_trigger", "%s: got a %s; a trigger is {\"invoke\": true}, {\"http\": true}, {\"event\": NAME, \"collection\": COL} or {\"schedule\": EXPR, \"timezone\": TZ}", field, typeErr.Value)
		}
		return badInput("%s must not be a %s", field, typeErr.Value)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badInput("unknown field %s (a definition has %s; a trigger has invoke, http, event, collection, schedule, timezone)", strings.Trim(field, `"`), definitionFields)
	}
	return badInput("%s", strings.TrimPrefix(err.Error(), "json: "))
}

// docEvents are the events a trigger's collection narrows.
var docEvents = map[string]bool{events.DocCreated: true, events.DocUpdated: true, events.DocDeleted: true}

// checkTriggers refuses a definition's trigger that is not exactly one of
// {invoke: true}, {http: true}, {event: NAME, collection?: COL} and
// {schedule: EXPR, timezone?: TZ}, an event name no event can have, and a
// schedule or time zone the scheduler cannot read. Each refusal is a 400
// invalid_trigger naming the function and the trigger's position.
func checkTriggers(def functions.Definition) error {
	for i, t := range def.Triggers {
		bad := func(format string, args ...any) error {
			return Errorf(http.StatusBadRequest, "invalid_trigger", "function %q: trigger %d: %s", def.Name, i+1, fmt.Sprintf(format, args...))
		}
		set := 0
		for _, on := range []bool{t.Invoke, t.HTTP, t.Event != "", t.Schedule != ""} {
			if on {
				set++
			}
		}
		switch {
		case set != 1:
			return bad("give exactly one of invoke: true, http: true, event: NAME or schedule: EXPR")
		case t.Collection != "" && t.Event == "":
			return bad("collection goes with an event trigger")
		case t.Timezone != "" && t.Schedule == "":
			return bad("timezone goes with a schedule trigger")
		case t.Collection != "" && !docEvents[t.Event]:
			return bad("collection narrows doc_created, doc_updated and doc_deleted; %q carries no collection", t.Event)
		}
		if t.Event != "" && !events.IsSystemEvent(t.Event) {
			if err := events.ValidateEventName(t.Event); err != nil {
				var ne *events.EventNameError
				if errors.As(err, &ne) {
					return bad("event %q: %s", t.Event, ne.Reason)
				}
				return bad("%v", err)
			}
		}
		if t.Schedule != "" {
			if err := events.ValidateSchedule(t.Schedule, t.Timezone); err != nil {
				return bad("schedule %q: %v", t.Schedule, err)
			}
		}
	}
	return nil
}

// sameDefinition reports whether saving def over fn would change nothing,
// as the registry decides it: same source, handler, triggers, timeout,
// retries and backoff.
func sameDefinition(def functions.Definition, fn functions.Function) bool {
	handler := def.Handler
	if handler == "" {
		handler = functions.DefaultHandler
	}
	if def.Source != fn.Source || handler != fn.Handler || def.Timeout != fn.Timeout || len(def.Triggers) != len(fn.Triggers) {
		return false
	}
	if (def.Retries == nil) != (fn.Retries == nil) || (def.Retries != nil && *def.Retries != *fn.Retries) {
		return false
	}
	if (def.Backoff == nil) != (fn.Backoff == nil) || (def.Backoff != nil && *def.Backoff != *fn.Backoff) {
		return false
	}
	for i := range def.Triggers {
		if !def.Triggers[i].Equal(fn.Triggers[i]) {
			return false
		}
	}
	return true
}
