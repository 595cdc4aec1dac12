package lua

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

const helloV1 = "function handle(input, ctx)\n  return {message = \"hello \" .. input.name}\nend\n"
const helloV2 = "function handle(input, ctx)\n  return {message = \"hi \" .. input.name}\nend\n"

func TestSaveStoresTheShapeOthersRead(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	retries := 3
	fn := mustSave(t, r, Definition{
		Name: "trial-reminder", Source: helloV1, Timeout: Duration(5 * time.Second), Retries: &retries,
		Triggers: []Trigger{{Invoke: true}, {HTTP: true}, {Event: "doc_created", Collection: "orders"}, {Schedule: "daily at 09:00", Timezone: "Europe/Paris"}},
	})
	if fn.Version != 1 || fn.Handler != "handle" || fn.CreatedAt.IsZero() || !fn.CreatedAt.Equal(fn.UpdatedAt) {
		t.Fatalf("saved %+v", fn)
	}
	doc, err := r.store.C(db.Functions).FindOne(ctx, db.ByID("trial-reminder"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := bson.M{
		"_id": "trial-reminder", "name": "trial-reminder", "version": int64(1), "source": helloV1, "handler": "handle",
		"triggers": bson.A{
			bson.M{"invoke": true}, bson.M{"http": true},
			bson.M{"event": "doc_created", "collection": "orders"},
			bson.M{"schedule": "daily at 09:00", "timezone": "Europe/Paris"},
		},
		"timeout_ms": int64(5000), "retries": int64(3),
		"created_at": doc["created_at"], "updated_at": doc["updated_at"],
	}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("_functions document\n got: %#v\nwant: %#v", doc, want)
	}
	ver, err := r.store.C(db.FunctionVersions).FindOne(ctx, db.ByID("trial-reminder@1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	delete(want, "updated_at")
	want["_id"] = "trial-reminder@1"
	want["created_at"] = ver["created_at"]
	if !reflect.DeepEqual(ver, want) {
		t.Errorf("_function_versions document\n got: %#v\nwant: %#v", ver, want)
	}
	got, err := r.Get(ctx, "trial-reminder")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fn) {
		t.Errorf("Get\n got: %+v\nwant: %+v", got, fn)
	}
}

func TestSaveVersionsAndRollback(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	greet := func() any {
		t.Helper()
		res, err := r.Run(ctx, "hello", map[string]any{"name": "Ada"}, RunOptions{Trigger: TriggerInvoke})
		if err != nil {
			t.Fatal(err)
		}
		return res.Value.(bson.M)["message"]
	}
	def := Definition{Name: "hello", Source: helloV1, Triggers: []Trigger{{Invoke: true}}}
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
	if !errors.As(err, &ce) || ce.Line != 3 || !errors.Is(err, ErrInvalidDefinition) {
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
	if _, err := r.Rollback(ctx, "hello", 9); !errors.Is(err, ErrVersionNotFound) || err.Error() != `version not found: function "hello" has no version 9` {
		t.Errorf("rollback to a missing version: %v", err)
	}
	if _, err := r.Rollback(ctx, "nope", 1); !errors.Is(err, ErrFunctionNotFound) {
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
		"run":      second(r.Run(ctx, "hello", nil, RunOptions{Trigger: TriggerInvoke})),
		"versions": second(r.Versions(ctx, "hello")),
		"delete":   r.Delete(ctx, "hello"),
	} {
		if !errors.Is(err, ErrFunctionNotFound) || err.Error() != `function not found: "hello"` {
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
		def  Definition
		want string
	}{
		{"bad name", Definition{Name: "hello world", Source: ok},
			`invalid function definition: function name "hello world": use 1-64 letters, digits, _ or -, starting with a letter`},
		{"empty source", Definition{Name: "f", Source: "  "}, `invalid function definition: function "f": the source is empty`},
		{"bad handler", Definition{Name: "f", Source: ok, Handler: "on-chat"}, `invalid function definition: function "f": handler "on-chat" is not a Lua name`},
		{"no handler", Definition{Name: "f", Source: "function main() end"},
			`function "f": no handler: define function handle(input, ctx) at the top level of the source`},
		{"local handler", Definition{Name: "f", Source: "\nlocal function handle() end"},
			`function "f": syntax error at line 2: the handler "handle" is local; define it as a global: function handle(input, ctx)`},
		{"two kinds in a trigger", Definition{Name: "f", Source: ok, Triggers: []Trigger{{Invoke: true, HTTP: true}}},
			`invalid function definition: function "f": trigger 1: give exactly one of invoke: true, http: true, event: NAME or schedule: EXPR`},
		{"empty trigger", Definition{Name: "f", Source: ok, Triggers: []Trigger{{}}},
			`invalid function definition: function "f": trigger 1: give exactly one of invoke: true, http: true, event: NAME or schedule: EXPR`},
		{"collection without event", Definition{Name: "f", Source: ok, Triggers: []Trigger{{Invoke: true, Collection: "x"}}},
			`invalid function definition: function "f": trigger 1: collection goes with an event trigger`},
		{"timezone without schedule", Definition{Name: "f", Source: ok, Triggers: []Trigger{{Event: "x", Timezone: "UTC"}}},
			`invalid function definition: function "f": trigger 1: timezone goes with a schedule trigger`},
		{"unknown timezone", Definition{Name: "f", Source: ok, Triggers: []Trigger{{Schedule: "@daily", Timezone: "Mars/Base"}}},
			`invalid function definition: function "f": trigger 1: unknown time zone "Mars/Base" (use an IANA name such as Europe/Paris)`},
		{"bad schedule", Definition{Name: "f", Source: ok, Triggers: []Trigger{{Invoke: true}, {Schedule: "sometimes"}}},
			`invalid function definition: function "f": trigger 2: schedule "sometimes": not a schedule`},
		{"bad collection", Definition{Name: "f", Source: ok, Triggers: []Trigger{{Event: "doc_created", Collection: "a b"}}},
			`invalid function definition: function "f": trigger 1: invalid name: collection "a b": use 1-64 letters, digits, _ or -, not starting with a digit or -`},
		{"repeated trigger", Definition{Name: "f", Source: ok, Triggers: []Trigger{{Invoke: true}, {Invoke: true}}},
			`invalid function definition: function "f": trigger 2 repeats an earlier one`},
		{"timeout too long", Definition{Name: "f", Source: ok, Timeout: Duration(time.Hour)},
			`invalid function definition: function "f": timeout 1h0m0s is longer than the server's max_timeout of 5m0s`},
		{"negative retries", Definition{Name: "f", Source: ok, Retries: &neg}, `invalid function definition: function "f": retries is -1; use 0 to 99`},
		{"syntax error", Definition{Name: "f", Source: "function handle()\n  x = = 1\nend"},
			`function "f": syntax error at line 2, column 7: syntax error near '='`},
		{"unfinished source", Definition{Name: "f", Source: "function handle()\n  if x then\n"},
			`function "f": syntax error at line 3: unexpected end of source: syntax error`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			err := r.Validate(s.def)
			if err == nil || err.Error() != s.want || !errors.Is(err, ErrInvalidDefinition) {
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

func TestDefinitionDecodesFromTheAdminAPI(t *testing.T) {
	t.Parallel()
	var def Definition
	body := `{"source":"function handle() end","handler":"onChat","timeout":"1m30s","retries":0,
	  "triggers":[{"invoke":true},{"http":true},{"event":"user_registered"},{"schedule":"daily at 09:00","timezone":"Europe/Paris"}]}`
	if err := json.Unmarshal([]byte(body), &def); err != nil {
		t.Fatal(err)
	}
	zero := 0
	want := Definition{Source: "function handle() end", Handler: "onChat", Timeout: Duration(90 * time.Second), Retries: &zero,
		Triggers: []Trigger{{Invoke: true}, {HTTP: true}, {Event: "user_registered"}, {Schedule: "daily at 09:00", Timezone: "Europe/Paris"}}}
	if !reflect.DeepEqual(def, want) {
		t.Errorf("got %+v", def)
	}
	for body, want := range map[string]string{
		`{"timeout":10}`:     `invalid function definition: timeout must be a string such as "10s" or "1m30s", got 10`,
		`{"timeout":"soon"}`: `invalid function definition: timeout "soon" is not a duration (write it like 10s, 1m30s or 250ms)`,
	} {
		err := json.Unmarshal([]byte(body), &def)
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalidDefinition) {
			t.Errorf("%s\n got: %v\nwant: %s", body, err, want)
		}
	}
	b, _ := json.Marshal(Function{Name: "f", Timeout: Duration(10 * time.Second), Triggers: []Trigger{{Invoke: true}}})
	if want := `{"name":"f","version":0,"source":"","handler":"","triggers":[{"invoke":true}],"timeout":"10s","created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z"}`; string(b) != want {
		t.Errorf("Function as JSON\n got: %s\nwant: %s", b, want)
	}
}

func TestConcurrentSavesGetDistinctVersions(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	var wg sync.WaitGroup
	versions := make(chan int64, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn, err := r.Save(ctx, Definition{Name: "busy", Source: fmt.Sprintf("function handle() return %d end", i)})
			if err != nil {
				t.Error(err)
				return
			}
			versions <- fn.Version
		}()
	}
	wg.Wait()
	close(versions)
	var got []int
	for v := range versions {
		got = append(got, int(v))
	}
	sort.Ints(got)
	if fmt.Sprint(got) != "[1 2 3 4 5 6]" {
		t.Fatalf("versions %v", got)
	}
	if cur, _ := r.Get(ctx, "busy"); cur.Version != 6 {
		t.Fatalf("current version %d", cur.Version)
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
	mustSave(t, a, Definition{Name: "hello", Source: helloV1, Triggers: []Trigger{{Invoke: true}}})
	if _, err := a.Run(ctx, "hello", map[string]any{"name": "x"}, RunOptions{Trigger: TriggerInvoke}); err != nil {
		t.Fatal(err)
	}
	mustSave(t, b, Definition{Name: "hello", Source: helloV2, Triggers: []Trigger{{Invoke: true}}})
	waitFor(t, "the new version", func() bool {
		res, err := a.Run(ctx, "hello", map[string]any{"name": "x"}, RunOptions{Trigger: TriggerInvoke})
		return err == nil && res.Version == 2
	})
	if err := b.Delete(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delete", func() bool {
		_, err := a.Run(ctx, "hello", nil, RunOptions{Trigger: TriggerInvoke})
		return errors.Is(err, ErrFunctionNotFound)
	})
}
