package db

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestFromExtJSON(t *testing.T) {
	t.Parallel()
	jan1 := primitive.NewDateTimeFromTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	oid, _ := primitive.ObjectIDFromHex("65a1f0c2e4b0a1b2c3d4e5f6")
	scenarios := []struct {
		name string
		in   string
		want bson.M
	}{
		{"date string with milliseconds", `{"d":{"$date":"2026-01-01T00:00:00.000Z"}}`, bson.M{"d": jan1}},
		{"date string without fraction", `{"d":{"$date":"2026-01-01T00:00:00Z"}}`, bson.M{"d": jan1}},
		{"date string with an offset", `{"d":{"$date":"2026-01-01T01:00:00+01:00"}}`, bson.M{"d": jan1}},
		{"date as milliseconds", `{"d":{"$date":1767225600000}}`, bson.M{"d": jan1}},
		{"date as $numberLong", `{"d":{"$date":{"$numberLong":"1767225600000"}}}`, bson.M{"d": jan1}},
		{"date before 1970", `{"d":{"$date":"1969-12-31T23:59:59.999Z"}}`, bson.M{"d": primitive.DateTime(-1)}},
		{"oid", `{"ref":{"$oid":"65a1f0c2e4b0a1b2c3d4e5f6"}}`, bson.M{"ref": oid}},
		{"inside arrays and operators", `{"at":{"$gte":{"$date":"2026-01-01T00:00:00Z"}},"$or":[{"x":{"$in":[{"$oid":"65a1f0c2e4b0a1b2c3d4e5f6"}]}}]}`,
			bson.M{"at": bson.M{"$gte": jan1}, "$or": bson.A{bson.M{"x": bson.M{"$in": bson.A{oid}}}}}},
		{"plain values untouched", `{"a":"2026-01-01T00:00:00Z","b":{"date":"x"},"c":[1,2]}`,
			bson.M{"a": "2026-01-01T00:00:00Z", "b": bson.M{"date": "x"}, "c": bson.A{int64(1), int64(2)}}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			doc, err := DecodeJSON([]byte(s.in), Limits{})
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			got, err := FromExtJSONDoc(doc)
			if err != nil {
				t.Fatalf("FromExtJSONDoc: %v", err)
			}
			if !reflect.DeepEqual(got, s.want) {
				t.Fatalf("got %#v\nwant %#v", got, s.want)
			}
		})
	}
}

func TestFromExtJSONRefuses(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		in   string
		path string
		want string
	}{
		{"date not a date", `{"d":{"$date":"tomorrow"}}`, "d", "$date takes an ISO 8601"},
		{"date without time", `{"d":{"$date":"2026-01-01"}}`, "d", "$date takes an ISO 8601"},
		{"date as boolean", `{"d":{"$date":true}}`, "d", "$date takes"},
		{"date as fraction of a millisecond", `{"d":{"$date":1.5}}`, "d", "$date takes"},
		{"bad $numberLong", `{"d":{"$date":{"$numberLong":"x"}}}`, "d", "$date takes"},
		{"field beside $date", `{"d":{"$date":"2026-01-01T00:00:00Z","x":1}}`, "d", "that one field only"},
		{"short oid", `{"o":{"$oid":"abc"}}`, "o", "$oid takes 24 hexadecimal digits"},
		{"oid as number", `{"a":[{"$oid":5}]}`, "a.0", "$oid takes"},
		{"wrapper at the top", `{"$date":"2026-01-01T00:00:00Z"}`, "", "expected a JSON object"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			doc, err := DecodeJSON([]byte(s.in), Limits{})
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			_, err = FromExtJSONDoc(doc)
			var de *DocumentError
			if !errors.As(err, &de) || !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("err = %v, want a *DocumentError", err)
			}
			if de.Path != s.path || !strings.Contains(de.Msg, s.want) {
				t.Fatalf("err = %q at %q, want %q at %q", de.Msg, de.Path, s.want, s.path)
			}
		})
	}
}

func TestToExtJSONRoundTrips(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.UTC)
	id := primitive.NewObjectID()
	ref := primitive.NewObjectID()
	stored := bson.M{
		"_id":         id,
		"_created_at": primitive.NewDateTimeFromTime(at),
		"ref":         ref,
		"when":        bson.A{primitive.NewDateTimeFromTime(at), "text"},
		"nested":      bson.M{"at": primitive.NewDateTimeFromTime(at), "_id": ref},
	}
	b, err := json.Marshal(ToExtJSON(stored))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"_id":"` + id.Hex() + `"`,
		`"_created_at":{"$date":"2026-03-04T05:06:07.891Z"}`,
		`"ref":{"$oid":"` + ref.Hex() + `"}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if !HasExtJSON(b) {
		t.Fatalf("HasExtJSON(%s) = false", b)
	}
	doc, err := DecodeJSON(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromExtJSONDoc(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := bson.M{
		"_id":         id.Hex(), // a document's id travels as its hex; the URL names it
		"_created_at": primitive.NewDateTimeFromTime(at),
		"ref":         ref,
		"when":        bson.A{primitive.NewDateTimeFromTime(at), "text"},
		"nested":      bson.M{"at": primitive.NewDateTimeFromTime(at), "_id": ref.Hex()},
	}
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip\n got %#v\nwant %#v", back, want)
	}
	if HasExtJSON([]byte(`{"date":"$dates","oid":1}`)) {
		t.Fatal("HasExtJSON saw a wrapper where none can be")
	}
}
