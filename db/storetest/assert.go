package storetest

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// ok fails the test at once when err is not nil.
func ok(t *testing.T, err error, doing string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", fmt.Sprintf(doing, args...), err)
	}
}

// same fails the test when got and want differ in value or in Go type
// (int32(1) is not int64(1); bson.A is not []any).
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, describe(got), describe(want))
	}
}

// isErr fails the test when errors.Is(err, target) does not hold.
func isErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v (%T), want one matching %v", what, err, err, target)
	}
}

// queryErr checks err is a *db.QueryError; when op is not empty it must
// name that operator, so a user learns which part of the query is wrong.
func queryErr(t *testing.T, what string, err error, op string) {
	t.Helper()
	var qe *db.QueryError
	switch {
	case !errors.As(err, &qe):
		t.Errorf("%s: got error %v (%T), want a *db.QueryError", what, err, err)
	case !errors.Is(err, db.ErrInvalidQuery):
		t.Errorf("%s: errors.Is(%v, db.ErrInvalidQuery) does not hold", what, err)
	case op != "" && qe.Op != op:
		t.Errorf("%s: QueryError.Op = %q, want %q (error: %v)", what, qe.Op, op, err)
	}
}

// insert stores docs in c, failing the test on error.
func insert(t *testing.T, c db.Collection, docs ...bson.M) []any {
	t.Helper()
	ids, err := c.InsertMany(t.Context(), docs)
	ok(t, err, "insert %d documents into %s", len(docs), c.Name())
	return ids
}

// find returns what c.Find returns, failing the test on error.
func find(t *testing.T, c db.Collection, filter bson.M, opts *db.FindOptions) []bson.M {
	t.Helper()
	docs, err := c.Find(t.Context(), filter, opts)
	ok(t, err, "find %s in %s", describe(filter), c.Name())
	return docs
}

// get returns the document with the given _id, failing the test when it
// cannot.
func get(t *testing.T, c db.Collection, id any) bson.M {
	t.Helper()
	doc, err := c.FindOne(t.Context(), db.ByID(id), nil)
	ok(t, err, "find _id %s in %s", describe(id), c.Name())
	return doc
}

// count returns how many documents match filter.
func count(t *testing.T, c db.Collection, filter bson.M) int64 {
	t.Helper()
	n, err := c.Count(t.Context(), filter)
	ok(t, err, "count %s in %s", describe(filter), c.Name())
	return n
}

// idsOf lists the _id values of docs, in order.
func idsOf(docs []bson.M) []any {
	ids := make([]any, len(docs))
	for i, d := range docs {
		ids[i] = d["_id"]
	}
	return ids
}

// sameIDSet compares the string _ids of docs with want, in any order.
func sameIDSet(t *testing.T, what string, docs []bson.M, want ...string) {
	t.Helper()
	got := make([]string, 0, len(docs))
	for _, d := range docs {
		got = append(got, fmt.Sprint(d["_id"]))
	}
	sort.Strings(got)
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: matched %v, want %v", what, got, want)
	}
}

// sameIDs compares the _ids of docs with want, in order.
func sameIDs(t *testing.T, what string, docs []bson.M, want ...any) {
	t.Helper()
	if want == nil {
		want = []any{}
	}
	same(t, what+" (_ids in order)", idsOf(docs), want)
}

// date is a BSON date, for fixtures.
func date(s string) primitive.DateTime {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return primitive.NewDateTimeFromTime(tm)
}

// describe prints v with the Go type of every scalar, so a failure shows
// int32(1) against int64(1) rather than 1 against 1.
func describe(v any) string {
	var b strings.Builder
	describeTo(&b, v)
	return b.String()
}

func describeTo(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		fmt.Fprintf(b, "%q", x)
	case bool:
		fmt.Fprint(b, x)
	case int32:
		fmt.Fprintf(b, "int32(%d)", x)
	case int64:
		fmt.Fprintf(b, "int64(%d)", x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			fmt.Fprintf(b, "double(%.1f)", x)
		} else {
			fmt.Fprintf(b, "double(%v)", x)
		}
	case primitive.DateTime:
		fmt.Fprintf(b, "date(%s)", x.Time().UTC().Format("2006-01-02T15:04:05.000Z"))
	case primitive.ObjectID:
		fmt.Fprintf(b, "ObjectID(%s)", x.Hex())
	case primitive.Regex:
		fmt.Fprintf(b, "/%s/%s", x.Pattern, x.Options)
	case bson.M:
		describeMap(b, "", x)
	case map[string]any:
		describeMap(b, "map[string]any", x)
	case bson.D:
		b.WriteString("bson.D{")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%s: ", e.Key)
			describeTo(b, e.Value)
		}
		b.WriteString("}")
	case bson.A:
		describeList(b, "", x)
	case []any:
		describeList(b, "[]any", x)
	case []bson.M:
		list := make([]any, len(x))
		for i, d := range x {
			list[i] = d
		}
		describeList(b, "", list)
	default:
		fmt.Fprintf(b, "%T(%v)", v, v)
	}
}

func describeMap(b *strings.Builder, typ string, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString(typ + "{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		if strconv.Quote(k) != `"`+k+`"` {
			k = strconv.Quote(k) // keep odd bytes in a key visible
		}
		fmt.Fprintf(b, "%s: ", k)
		describeTo(b, m[k])
	}
	b.WriteString("}")
}

func describeList(b *strings.Builder, typ string, list []any) {
	b.WriteString(typ + "[")
	for i, e := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		describeTo(b, e)
	}
	b.WriteString("]")
}

// mustTime parses an RFC 3339 time, for fixtures.
func mustTime(s string) time.Time {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm
}
