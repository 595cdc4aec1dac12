package server

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/webhooks"
)

// TestWebhookAnswersCarryEveryField fills every exported field of the
// webhooks package's values and checks that the admin API's bodies show
// them as the package's own JSON would: a field added to one side and not
// the other fails here, not in a user's terminal.
func TestWebhookAnswersCarryEveryField(t *testing.T) {
	scenarios := []struct {
		name string
		from any
		body func(any) any
	}{
		{"endpoint", filled[webhooks.Endpoint](t), func(v any) any { return endpointBody(v.(webhooks.Endpoint)) }},
		{"delivery", filled[webhooks.Delivery](t), func(v any) any { return deliveryBody(v.(webhooks.Delivery)) }},
		{"attempt", filled[webhooks.Attempt](t), func(v any) any { return attemptBody(v.(webhooks.Attempt)) }},
		{"message", filled[webhooks.Message](t), func(v any) any { return messageBody(v.(webhooks.Message)) }},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			want, got := jsonFields(t, s.from), jsonFields(t, s.body(s.from))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("the admin API's body is\n%v\nthe webhooks package's JSON is\n%v", got, want)
			}
			if len(want) < 4 {
				t.Fatalf("only %d fields filled: %v", len(want), want)
			}
		})
	}
}

// filled is a T with every exported field set to a value that is not its
// zero value, so that no omitempty hides it.
func filled[T any](t *testing.T) T {
	t.Helper()
	var v T
	rv := reflect.ValueOf(&v).Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		if !rv.Type().Field(i).IsExported() {
			continue
		}
		fill(t, rv.Type().Field(i).Name, f)
	}
	return v
}

func fill(t *testing.T, name string, f reflect.Value) {
	switch {
	case f.Type() == reflect.TypeFor[time.Time]():
		f.Set(reflect.ValueOf(time.Date(2026, 12, 7, 18, 0, len(name), 0, time.UTC)))
	case f.Kind() == reflect.String:
		f.SetString(name + "-value")
	case f.Kind() == reflect.Bool:
		f.SetBool(true)
	case f.CanInt():
		f.SetInt(int64(len(name)))
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		f.Set(reflect.ValueOf([]string{name + "-item"}).Convert(f.Type()))
	case f.Kind() == reflect.Map && f.Type().Key().Kind() == reflect.String:
		m := reflect.MakeMap(f.Type())
		elem := reflect.New(f.Type().Elem()).Elem()
		if elem.Kind() == reflect.Interface {
			elem.Set(reflect.ValueOf(name + "-entry"))
		} else {
			fill(t, name, elem)
		}
		m.SetMapIndex(reflect.ValueOf("k"), elem)
		f.Set(m)
	default:
		t.Fatalf("field %s of type %s: teach fill to set it", name, f.Type())
	}
}

func jsonFields(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
