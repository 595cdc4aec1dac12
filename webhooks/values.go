package webhooks

import (
	"encoding/json"
	"errors"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// The helpers below read the canonical values a store returns.

var errorsIs = errors.Is

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case primitive.ObjectID:
		return s.Hex()
	}
	return ""
}

func strings1(v any) []string {
	out := []string{}
	switch a := v.(type) {
	case bson.A:
		for _, e := range a {
			out = append(out, str(e))
		}
	case []string:
		out = append(out, a...)
	case []any:
		for _, e := range a {
			out = append(out, str(e))
		}
	}
	return out
}

func mapOf(v any) map[string]any {
	switch m := v.(type) {
	case bson.M:
		return m
	case map[string]any:
		return m
	case bson.D:
		out := make(map[string]any, len(m))
		for _, e := range m {
			out[e.Key] = e.Value
		}
		return out
	}
	return nil
}

// rawJSON decodes a stored body for display; a body that is not JSON
// shows as its text.
func rawJSON(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	return v
}

func intOf(v any) int { return int(db.Int64Of(v)) }
