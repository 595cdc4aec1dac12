package functions

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestBackoffIsValidated decodes function definitions as the admin API
// and deploy send them and checks each bad backoff gets an error naming
// what is wrong, while a good one is kept and saving it twice is one
// version.
func TestBackoffIsValidated(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, Deps{})
	scenarios := []struct {
		name, backoff string
		want          *Backoff
		wantErr       string
	}{
		{"scenario 15's policy", `{"initial": "60s", "max": "24h"}`, &Backoff{Initial: Duration(time.Minute), Max: Duration(24 * time.Hour)}, ""},
		{"equal bounds", `{"initial": "100ms", "max": "100ms"}`, &Backoff{Initial: Duration(100 * time.Millisecond), Max: Duration(100 * time.Millisecond)}, ""},
		{"none", `null`, nil, ""},
		{"not an object", `"60s"`, nil, `invalid function definition: backoff must be an object such as {"initial": "60s", "max": "24h"}, got "60s"`},
		{"an unknown field", `{"initial": "1s", "max": "1m", "factor": 3}`, nil, `invalid function definition: backoff has no field "factor" (it has initial and max, as in {"initial": "60s", "max": "24h"})`},
		{"a number", `{"initial": 60, "max": "1h"}`, nil, `invalid function definition: backoff.initial must be a string such as "60s" or "24h", got 60`},
		{"not a duration", `{"initial": "1s", "max": "a day"}`, nil, `invalid function definition: backoff.max "a day" is not a duration (write it like 500ms, 60s, 10m or 24h)`},
		{"max missing", `{"initial": "1s"}`, nil, `invalid function definition: function "f": backoff needs both initial and max, as in {"initial": "60s", "max": "24h"}`},
		{"initial missing", `{"max": "1h"}`, nil, `invalid function definition: function "f": backoff needs both initial and max, as in {"initial": "60s", "max": "24h"}`},
		{"too short", `{"initial": "10ms", "max": "1s"}`, nil, `invalid function definition: function "f": backoff.initial 10ms is shorter than 100ms`},
		{"negative", `{"initial": "-1s", "max": "1s"}`, nil, `invalid function definition: function "f": backoff.initial -1s is shorter than 100ms`},
		{"max below initial", `{"initial": "1h", "max": "1m"}`, nil, `invalid function definition: function "f": backoff.max 1m0s is shorter than backoff.initial 1h0m0s`},
		{"max over a week", `{"initial": "1h", "max": "200h"}`, nil, `invalid function definition: function "f": backoff.max 200h0m0s is longer than a week (168h0m0s)`},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var def Definition
			err := json.Unmarshal([]byte(`{"name": "f", "source": "function handle() end", "retries": 7, "backoff": `+sc.backoff+`}`), &def)
			if err == nil {
				def, err = s.Normalize(def)
			}
			if sc.wantErr != "" {
				if err == nil || err.Error() != sc.wantErr || !errors.Is(err, ErrInvalidDefinition) {
					t.Errorf("error\n got: %v\nwant: %s", err, sc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameBackoff(def.Backoff, sc.want) {
				t.Errorf("backoff %+v, want %+v", def.Backoff, sc.want)
			}
		})
	}

	ctx := context.Background()
	def := Definition{Name: "hook", Source: "function handle() end", Backoff: &Backoff{Initial: Duration(time.Minute), Max: Duration(time.Hour)}}
	first := mustSave(t, s, def)
	if again := mustSave(t, s, def); again.Version != first.Version {
		t.Errorf("the same backoff saved again made version %d", again.Version)
	}
	def.Backoff = &Backoff{Initial: Duration(time.Minute), Max: Duration(2 * time.Hour)}
	if changed := mustSave(t, s, def); changed.Version != first.Version+1 || changed.Backoff.Max.D() != 2*time.Hour {
		t.Errorf("a changed backoff saved as %+v", changed)
	}
	def.Backoff = nil
	if dropped := mustSave(t, s, def); dropped.Version != first.Version+2 || dropped.Backoff != nil {
		t.Errorf("a dropped backoff saved as %+v", dropped)
	}
	versions, err := s.Versions(ctx, "hook")
	if err != nil || len(versions) != 3 || versions[2].Backoff == nil || versions[2].Backoff.Max.D() != time.Hour {
		t.Errorf("versions %+v %v: the history keeps each backoff", versions, err)
	}
}
