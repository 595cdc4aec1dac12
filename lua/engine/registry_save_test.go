package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

const helloV1 = "function handle(input, ctx)\n  return {message = \"hello \" .. input.name}\nend\n"
const helloV2 = "function handle(input, ctx)\n  return {message = \"hi \" .. input.name}\nend\n"

func TestSaveVersionsAndRollback(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	greet := func() any {
		t.Helper()
		res, err := r.Run(ctx, "hello", map[string]any{"name": "Ada"}, RunOptions{Trigger: functions.TriggerInvoke})
		if err != nil {
			t.Fatal(err)
		}
		return res.Value.(bson.M)["message"]
	}
	def := functions.Definition{Name: "hello", Source: helloV1, Triggers: []functions.Trigger{{Invoke: true}}}
	v1 := mustSave(t, r, def)
	if again := mustSave(t, r, def); again.Version != 1 || !again.UpdatedAt.Equal(v1.UpdatedAt) {
		t.Fatalf("saving the same definition made %+v", again)
	}
	def.Source = helloV2
	if v2 := mustSave(t, r, def); v2.Version != 2 || !v2.CreatedAt.Equal(v1.CreatedAt) {
		t.Fatalf("second save %+v", v2)
	}
	if got := greet(); got != "hi Ada" {
		t.Fatalf("after saving v2: %v", got)
	}
	// A syntax error changes nothing.
	bad := def
	bad.Source = "function handle(input)\n  return {\nend\n"
	_, err := r.Save(ctx, bad)
	var ce *CompileError
	if !errors.As(err, &ce) || ce.Line != 3 || !errors.Is(err, functions.ErrInvalidDefinition) {
		t.Fatalf("got %v, want a *CompileError at line 3", err)
	}
	if want := `function "hello": syntax error at line 3, column 3: syntax error near 'end'`; err.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", err, want)
	}
	if cur, _ := r.Get(ctx, "hello"); cur.Version != 2 || cur.Source != helloV2 {
		t.Fatalf("after a failed save the function is %+v", cur)
	}
	if got := greet(); got != "hi Ada" {
		t.Fatalf("after a failed save: %v", got)
	}
	versions, err := r.Versions(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0].Version != 2 || versions[1].Version != 1 || versions[1].Source != helloV1 {
		t.Fatalf("versions %+v", versions)
	}
	rolled, err := r.Rollback(ctx, "hello", 1)
	if err != nil {
		t.Fatal(err)
	}
	if rolled.Version != 3 || rolled.Source != helloV1 {
		t.Fatalf("rollback made %+v", rolled)
	}
	if got := greet(); got != "hello Ada" {
		t.Fatalf("after rollback: %v", got)
	}
	if _, err := r.Rollback(ctx, "hello", 9); !errors.Is(err, functions.ErrVersionNotFound) || err.Error() != `version not found: function "hello" has no version 9` {
		t.Errorf("rollback to a missing version: %v", err)
	}
	if _, err := r.Rollback(ctx, "nope", 1); !errors.Is(err, functions.ErrFunctionNotFound) {
		t.Errorf("rollback of a missing function: %v", err)
	}

	list, err := r.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "hello" || list[0].Version != 3 || list[0].Source != "" {
		t.Fatalf("list %+v %v", list, err)
	}
	if err := r.Delete(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"get":      second(r.Get(ctx, "hello")),
		"run":      second(r.Run(ctx, "hello", nil, RunOptions{Trigger: functions.TriggerInvoke})),
		"versions": second(r.Versions(ctx, "hello")),
		"delete":   r.Delete(ctx, "hello"),
	} {
		if !errors.Is(err, functions.ErrFunctionNotFound) || err.Error() != `function not found: "hello"` {
			t.Errorf("%s after delete: %v", name, err)
		}
	}
	if again := mustSave(t, r, def); again.Version != 1 {
		t.Errorf("re-created after delete at version %d", again.Version)
	}
}

func second[T any](_ T, err error) error { return err }

func TestSaveRefusesBadDefinitions(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{CheckSchedule: func(expr, tz string) error {
		if expr == "sometimes" {
			return errors.New("not a schedule")
		}
		return nil
	}})
	ok := "function handle() end"
	neg := -1
	scenarios := []struct {
		name string
		def  functions.Definition
		want string
	}{
		{"bad name", functions.Definition{Name: "hello world", Source: ok},
			`invalid function definition: function name "hello world": use 1-64 letters, digits, _ or -, starting with a letter`},
		{"empty source", functions.Definition{Name: "f", Source: "  "}, `invalid function definition: function "f": the source is empty`},
		{"bad handler", functions.Definition{Name: "f", Source: ok, Handler: "on-chat"}, `invalid function definition: function "f": handler "on-chat" is not a Lua name`},
		{"no handler", functions.Definition{Name: "f", Source: "function main() end"},
			`function "f": no handler: define function handle(input, ctx) at the top level of the source`},
		{"local handler", functions.Definition{Name: "f", Source: "\nlocal function handle() end"},
			`function "f": syntax error at line 2: the handler "handle" is local; define it as a global: function handle(input, ctx)`},
		{"two kinds in a trigger", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Invoke: true, HTTP: true}}},
			`invalid function definition: function "f": trigger 1: give exactly one of invoke: true, http: true, event: NAME or schedule: EXPR`},
		{"empty trigger", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{}}},
			`invalid function definition: function "f": trigger 1: give exactly one of invoke: true, http: true, event: NAME or schedule: EXPR`},
		{"collection without event", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Invoke: true, Collection: "x"}}},
			`invalid function definition: function "f": trigger 1: collection goes with an event trigger`},
		{"timezone without schedule", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Event: "x", Timezone: "UTC"}}},
			`invalid function definition: function "f": trigger 1: timezone goes with a schedule trigger`},
		{"unknown timezone", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Schedule: "@daily", Timezone: "Mars/Base"}}},
			`invalid function definition: function "f": trigger 1: unknown time zone "Mars/Base" (use an IANA name such as Europe/Paris)`},
		{"bad schedule", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Invoke: true}, {Schedule: "sometimes"}}},
			`invalid function definition: function "f": trigger 2: schedule "sometimes": not a schedule`},
		{"bad collection", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Event: "doc_created", Collection: "a b"}}},
			`invalid function definition: function "f": trigger 1: invalid name: collection "a b": use 1-64 letters, digits, _ or -, not starting with a digit or -`},
		{"channel on another event", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Event: "doc_created", Channel: "room:*"}}},
			`invalid function definition: function "f": trigger 1: channel goes with a chan_in or channel_join event trigger`},
		{"bad channel pattern", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Event: "chan_in", Channel: "room *"}}},
			`invalid function definition: function "f": trigger 1: channel "room *" is not a channel name or a prefix ending in * (room:*)`},
		{"star inside a channel pattern", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Event: "channel_join", Channel: "a*b"}}},
			`invalid function definition: function "f": trigger 1: channel "a*b" is not a channel name or a prefix ending in * (room:*)`},
		{"repeated trigger", functions.Definition{Name: "f", Source: ok, Triggers: []functions.Trigger{{Invoke: true}, {Invoke: true}}},
			`invalid function definition: function "f": trigger 2 repeats an earlier one`},
		{"timeout too long", functions.Definition{Name: "f", Source: ok, Timeout: functions.Duration(time.Hour)},
			`invalid function definition: function "f": timeout 1h0m0s is longer than the server's max_timeout of 5m0s`},
		{"negative retries", functions.Definition{Name: "f", Source: ok, Retries: &neg}, `invalid function definition: function "f": retries is -1; use 0 to 99`},
		{"syntax error", functions.Definition{Name: "f", Source: "function handle()\n  x = = 1\nend"},
			`function "f": syntax error at line 2, column 7: syntax error near '='`},
		{"unfinished source", functions.Definition{Name: "f", Source: "function handle()\n  if x then\n"},
			`function "f": syntax error at line 3: unexpected end of source: syntax error`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			err := r.Validate(s.def)
			if err == nil || err.Error() != s.want || !errors.Is(err, functions.ErrInvalidDefinition) {
				t.Errorf("Validate\n got: %v\nwant: %s", err, s.want)
			}
			if _, err := r.Save(context.Background(), s.def); err == nil || err.Error() != s.want {
				t.Errorf("Save: %v", err)
			}
		})
	}
	if list, _ := r.List(context.Background()); len(list) != 0 {
		t.Errorf("refused saves stored %v", list)
	}
}

// A version saved by another instance is picked up.
func TestRunPicksUpAVersionSavedElsewhere(t *testing.T) {
	t.Parallel()
	a := newTestRegistry(t, Config{}, Deps{})
	b, err := NewRegistry(Config{}, Deps{Store: a.store})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown(context.Background())
	a.refresh = 10 * time.Millisecond
	ctx := context.Background()
	mustSave(t, a, functions.Definition{Name: "hello", Source: helloV1, Triggers: []functions.Trigger{{Invoke: true}}})
	if _, err := a.Run(ctx, "hello", map[string]any{"name": "x"}, RunOptions{Trigger: functions.TriggerInvoke}); err != nil {
		t.Fatal(err)
	}
	mustSave(t, b, functions.Definition{Name: "hello", Source: helloV2, Triggers: []functions.Trigger{{Invoke: true}}})
	testsupport.WaitFor(t, "the new version", func() bool {
		res, err := a.Run(ctx, "hello", map[string]any{"name": "x"}, RunOptions{Trigger: functions.TriggerInvoke})
		return err == nil && res.Version == 2
	})
	if err := b.Delete(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, "the delete", func() bool {
		_, err := a.Run(ctx, "hello", nil, RunOptions{Trigger: functions.TriggerInvoke})
		return errors.Is(err, functions.ErrFunctionNotFound)
	})
}
