package adminapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/lua/functions"
)

// TestFunctionRoundTrip: a function read from the API and sent back with a
// new source keeps every setting, and its own timeout only when it has one.
func TestFunctionRoundTrip(t *testing.T) {
	t.Parallel()
	three := 3
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	scenarios := []struct {
		name     string
		fn       functions.Function
		wantJSON string
	}{
		{
			name: "every setting",
			fn: functions.Function{Name: "greet", Version: 2, Source: "function handle() end", Handler: "handle",
				Triggers: []functions.Trigger{{Event: "doc_created", Collection: "orders"}}, Timeout: functions.Duration(1500 * time.Millisecond),
				Retries: &three, CreatedAt: at, UpdatedAt: at},
			wantJSON: `{"name":"greet","version":2,"source":"function handle() end","handler":"handle","triggers":[{"event":"doc_created","collection":"orders"}],"timeout":"1.5s","retries":3,"created_at":"2026-06-01T09:00:00Z","updated_at":"2026-06-01T09:00:00Z"}`,
		},
		{
			name:     "the server's timeout and no triggers",
			fn:       functions.Function{Name: "bare", Version: 1, Source: "x", Handler: "handle", CreatedAt: at, UpdatedAt: at},
			wantJSON: `{"name":"bare","version":1,"source":"x","handler":"handle","triggers":[],"created_at":"2026-06-01T09:00:00Z","updated_at":"2026-06-01T09:00:00Z"}`,
		},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(FunctionOf(s.fn, true))
			if err != nil || string(b) != s.wantJSON {
				t.Fatalf("FunctionOf as JSON:\n got %s (%v)\nwant %s", b, err, s.wantJSON)
			}
			var read Function
			if err := json.Unmarshal(b, &read); err != nil {
				t.Fatal(err)
			}
			def, err := read.Definition("new source")
			if err != nil {
				t.Fatal(err)
			}
			want := s.fn.Definition()
			want.Source = "new source"
			if want.Triggers == nil {
				want.Triggers = []functions.Trigger{}
			}
			if !reflect.DeepEqual(def, want) {
				t.Errorf("Definition:\n got %+v\nwant %+v", def, want)
			}
			var listed Function
			if b, _ := json.Marshal(FunctionOf(s.fn, false)); json.Unmarshal(b, &listed) != nil || listed.Source != "" {
				t.Errorf("a listed function shows its source: %s", b)
			}
		})
	}
}

func TestFunctionDefinitionRefusesABadTimeout(t *testing.T) {
	t.Parallel()
	_, err := Function{Name: "f", Timeout: "soon"}.Definition("x")
	if !errors.Is(err, functions.ErrInvalidDefinition) {
		t.Errorf("a timeout of %q: %v, want ErrInvalidDefinition", "soon", err)
	}
}

// TestExecutionOf: a run that printed nothing lists an empty output, not
// null, so a client can range over it.
func TestExecutionOf(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(ExecutionOf(functions.Execution{ID: "1", Function: "f", Status: "ok"}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["output"] == nil {
		t.Errorf("output of a silent run: %s", b)
	}
	if _, ok := m["logs"]; ok {
		t.Errorf("the record's logs show under their own name: %s", b)
	}
}
