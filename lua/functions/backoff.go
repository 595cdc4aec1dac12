package functions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Bounds of a function's backoff.
const (
	MinBackoff = 100 * time.Millisecond // the shortest initial delay
	MaxBackoff = 7 * 24 * time.Hour     // the longest delay between two attempts
)

// Backoff is a function's retry delay, function.yaml's
//
//	retries: 7
//	backoff: {initial: 60s, max: 24h}
//
// Before retry n (1 for the first) of a failed event or schedule run the
// queue waits min(Initial·2^(n−1), Max), less up to a quarter of it as
// jitter, so that runs that failed together do not all come back at once.
// Both are required: initial from 100ms, max from initial up to a week.
type Backoff struct {
	Initial Duration `json:"initial" yaml:"initial"`
	Max     Duration `json:"max" yaml:"max"`
}

// backoffExample is what an error message shows a backoff to look like.
const backoffExample = `{"initial": "60s", "max": "24h"}`

// UnmarshalJSON reads {"initial": "60s", "max": "24h"}, naming the field
// in every complaint.
func (b *Backoff) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return fmt.Errorf("%w: backoff must be an object such as %s, got %s", ErrInvalidDefinition, backoffExample, data)
	}
	for k, raw := range fields {
		var d *Duration
		switch k {
		case "initial":
			d = &b.Initial
		case "max":
			d = &b.Max
		default:
			return fmt.Errorf("%w: backoff has no field %q (it has initial and max, as in %s)", ErrInvalidDefinition, k, backoffExample)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return fmt.Errorf("%w: backoff.%s must be a string such as \"60s\" or \"24h\", got %s", ErrInvalidDefinition, k, raw)
		}
		p, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%w: backoff.%s %q is not a duration (write it like 500ms, 60s, 10m or 24h)", ErrInvalidDefinition, k, s)
		}
		*d = Duration(p)
	}
	return nil
}

// check refuses a backoff outside the bounds.
func (b Backoff) check() error {
	switch {
	case b.Initial == 0 || b.Max == 0:
		return fmt.Errorf("backoff needs both initial and max, as in %s", backoffExample)
	case b.Initial.D() < MinBackoff:
		return fmt.Errorf("backoff.initial %s is shorter than %s", b.Initial.D(), MinBackoff)
	case b.Max.D() < b.Initial.D():
		return fmt.Errorf("backoff.max %s is shorter than backoff.initial %s", b.Max.D(), b.Initial.D())
	case b.Max.D() > MaxBackoff:
		return fmt.Errorf("backoff.max %s is longer than a week (%s)", b.Max.D(), MaxBackoff)
	}
	return nil
}

// sameBackoff reports whether two optional backoffs are the same.
func sameBackoff(a, b *Backoff) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// backoffDoc is a backoff as _functions keeps it, {initial_ms, max_ms},
// which the events queue reads when it enqueues the function's runs.
func backoffDoc(b Backoff) bson.M {
	return bson.M{"initial_ms": b.Initial.D().Milliseconds(), "max_ms": b.Max.D().Milliseconds()}
}

// backoffFromDoc reads backoffDoc's form; nil when there is none.
func backoffFromDoc(v any) *Backoff {
	m, ok := v.(bson.M)
	if !ok {
		return nil
	}
	ms := func(k string) Duration { return Duration(time.Duration(db.Int64Of(m[k])) * time.Millisecond) }
	return &Backoff{Initial: ms("initial_ms"), Max: ms("max_ms")}
}
