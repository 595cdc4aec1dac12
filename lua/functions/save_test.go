package functions

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

func TestSaveStoresTheShapeOthersRead(t *testing.T) {
	t.Parallel()
	r := newTestStore(t, Deps{})
	ctx := context.Background()
	retries := 3
	fn := mustSave(t, r, Definition{
		Name: "trial-reminder", Source: helloV1, Timeout: Duration(5 * time.Second), Retries: &retries,
		Backoff:  &Backoff{Initial: Duration(time.Minute), Max: Duration(24 * time.Hour)},
		Triggers: []Trigger{{Invoke: true}, {HTTP: true}, {Event: "doc_created", Collection: "orders"}, {Event: "chan_in", Channel: "room:*"}, {Schedule: "daily at 09:00", Timezone: "Europe/Paris"}},
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
			bson.M{"event": "chan_in", "channel": "room:*"},
			bson.M{"schedule": "daily at 09:00", "timezone": "Europe/Paris"},
		},
		"timeout_ms": int64(5000), "retries": int64(3), "backoff": bson.M{"initial_ms": int64(60000), "max_ms": int64(86400000)},
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
	r := newTestStore(t, Deps{})
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

// The runtime's compile check refuses a save before anything changes, and
// its cache hears of every version made current and every delete.
func TestSaveAsksTheRuntime(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		saved   []int64
		deleted []string
	)
	refused := errors.New("does not compile")
	s := newTestStore(t, Deps{
		Compile: func(name, source, handler string) error {
			if source == "broken" {
				return fmt.Errorf("%w: function %q: %w", ErrInvalidDefinition, name, refused)
			}
			return nil
		},
		Saved:   func(fn Function) { mu.Lock(); saved = append(saved, fn.Version); mu.Unlock() },
		Deleted: func(name string) { mu.Lock(); deleted = append(deleted, name); mu.Unlock() },
	})
	ctx := context.Background()
	scenarios := []struct {
		name    string
		source  string
		wantErr error
		version int64
	}{
		{"first save", helloV1, nil, 1},
		{"same again", helloV1, nil, 1},
		{"refused by the compile check", "broken", refused, 0},
		{"a new version", helloV1 + "-- v2\n", nil, 2},
	}
	for _, sc := range scenarios {
		fn, err := s.Save(ctx, Definition{Name: "f", Source: sc.source})
		if sc.wantErr != nil {
			if !errors.Is(err, sc.wantErr) || !errors.Is(err, ErrInvalidDefinition) {
				t.Errorf("%s: got %v", sc.name, err)
			}
			if err := s.Validate(Definition{Name: "f", Source: sc.source}); !errors.Is(err, sc.wantErr) {
				t.Errorf("%s: Validate said %v", sc.name, err)
			}
			continue
		}
		if err != nil || fn.Version != sc.version {
			t.Errorf("%s: version %d, %v", sc.name, fn.Version, err)
		}
	}
	if v, err := s.CurrentVersion(ctx, "f"); err != nil || v != 2 {
		t.Errorf("current version %d, %v", v, err)
	}
	if err := s.Delete(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CurrentVersion(ctx, "f"); !errors.Is(err, ErrFunctionNotFound) {
		t.Errorf("current version after delete: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(saved) != "[1 1 2]" || fmt.Sprint(deleted) != "[f]" {
		t.Errorf("saved %v, deleted %v", saved, deleted)
	}
	s.Refuse()
	if _, err := s.Save(ctx, Definition{Name: "g", Source: helloV1}); !errors.Is(err, ErrClosed) {
		t.Errorf("save after Refuse: %v", err)
	}
}
