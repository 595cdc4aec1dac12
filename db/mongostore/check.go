package mongostore

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

// Requests are held to what every moonbase store supports before they are
// sent. MongoDB itself accepts more ($where, $expr, $rename, computed
// projections…); refusing those here, with the same db validators the
// embedded store uses, keeps an application that runs on MongoDB runnable
// on the embedded store, and the other way round.

// limits are MongoDB's own: 100 levels of nesting, 16 MiB documents. The
// server's tighter limits for client input are applied before a request
// reaches the store.
func limits() db.Limits {
	return db.Limits{MaxDepth: 100, MaxKeys: math.MaxInt32, MaxBytes: 16 << 20, MaxRegexBytes: 32 << 10}
}

func queryErr(op, format string, args ...any) error {
	return &db.QueryError{Op: op, Msg: fmt.Sprintf(format, args...)}
}

func checkFilter(filter bson.M) error { return db.ValidateFilter(filter, limits()) }

func checkDocument(doc bson.M) error { return db.ValidateDocument(doc, limits()) }

// checkFindOptions checks sort, projection, skip and limit.
func checkFindOptions(sort bson.D, proj bson.M, skip, limit int64) error {
	if skip < 0 || limit < 0 {
		return queryErr("", "skip and limit cannot be negative")
	}
	if err := db.ValidateSort(sort); err != nil {
		return err
	}
	return db.ValidateProjection(proj)
}

// checkUpdate allows only $set $setOnInsert $unset $inc $push $pull
// $addToSet over valid paths, with $each the only modifier of $push and
// $addToSet, values that are valid documents, and $pull conditions that
// are valid filters.
func checkUpdate(update bson.M) error {
	if len(update) == 0 {
		return queryErr("", "the update is empty")
	}
	for op, args := range update {
		switch op {
		case "$set", "$setOnInsert", "$unset", "$inc", "$push", "$pull", "$addToSet":
		default:
			if !strings.HasPrefix(op, "$") {
				return queryErr(op, "an update must use operators ($set, $unset, $inc, $push, $pull, $addToSet); use ReplaceOne to replace a whole document")
			}
			return queryErr(op, "unknown or unsupported update operator")
		}
		isDoc, err := fields(args, func(path string, v any) error {
			if err := checkPath(op, path); err != nil {
				return err
			}
			return checkUpdateValue(op, path, v)
		})
		if err != nil {
			return err
		}
		if !isDoc {
			return queryErr(op, "needs a document of fields, not %s", typeName(args))
		}
	}
	return nil
}

func checkUpdateValue(op, path string, v any) error {
	switch op {
	case "$set", "$setOnInsert":
		return checkValue(path, v)
	case "$inc":
		if !isNumber(v) {
			return queryErr(op, "%s: the increment must be a number, not %s", path, typeName(v))
		}
	case "$push", "$addToSet":
		if !hasOperators(v) {
			return checkValue(path, v)
		}
		return checkEach(op, path, v)
	case "$pull":
		if hasOperators(v) {
			// A condition on the elements: {$pull: {l: {$gte: 5}}}.
			return checkFilter(bson.M{path: v})
		}
		if isDocument(v) {
			// A filter on element documents: {$pull: {l: {name: "a"}}}.
			return checkFilter(toM(v))
		}
	}
	return nil
}

func checkEach(op, path string, v any) error {
	var each any
	found := false
	_, err := fields(v, func(k string, arg any) error {
		if k != "$each" {
			return queryErr(op, "%s: only the $each modifier is supported, not %s", path, k)
		}
		each, found = arg, true
		return nil
	})
	if err != nil || !found {
		return err
	}
	isArr, err := elements(each, func(e any) error { return checkValue(path, e) })
	if err != nil {
		return err
	}
	if !isArr {
		return queryErr(op, "%s: $each needs an array, not %s", path, typeName(each))
	}
	return nil
}

// checkValue holds a value an update writes to the rules for documents.
func checkValue(path string, v any) error {
	err := db.ValidateDocument(bson.M{"v": v}, limits())
	if de, ok := err.(*db.DocumentError); ok {
		// Name the field as the update did, not as the wrapper does.
		return &db.DocumentError{Path: path + strings.TrimPrefix(de.Path, "v"), Msg: de.Msg}
	}
	return err
}

// checkPath refuses a field path with an empty segment or a segment
// starting with "$" (MongoDB's positional operators are not supported).
func checkPath(op, path string) error {
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			return queryErr(op, "field path %q has an empty part", path)
		}
		if strings.HasPrefix(seg, "$") {
			return queryErr(op, "field path %q: positional and $-prefixed parts are not supported", path)
		}
	}
	return nil
}

// hasOperators reports whether v is a document with a key starting with
// "$" ({$gt: 1}, {$each: […]}) rather than a plain value.
func hasOperators(v any) bool {
	found := false
	fields(v, func(k string, _ any) error {
		found = found || strings.HasPrefix(k, "$")
		return nil
	})
	return found
}

// toM copies a document of any shape fields accepts into a bson.M.
func toM(v any) bson.M {
	m := bson.M{}
	fields(v, func(k string, e any) error {
		m[k] = e
		return nil
	})
	return m
}

// fields calls fn for every key of v when v is a document (bson.M, bson.D
// or any map with string keys) and reports whether it was one.
func fields(v any, fn func(k string, v any) error) (bool, error) {
	switch d := v.(type) {
	case bson.M:
		for k, e := range d {
			if err := fn(k, e); err != nil {
				return true, err
			}
		}
		return true, nil
	case bson.D:
		for _, e := range d {
			if err := fn(e.Key, e.Value); err != nil {
				return true, err
			}
		}
		return true, nil
	case nil:
		return false, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return false, nil
	}
	for it := rv.MapRange(); it.Next(); {
		if err := fn(it.Key().String(), it.Value().Interface()); err != nil {
			return true, err
		}
	}
	return true, nil
}

// elements calls fn for every element of v when v is an array (any slice
// or array but []byte, which is binary data) and reports whether it was.
func elements(v any, fn func(v any) error) (bool, error) {
	switch a := v.(type) {
	case bson.A:
		for _, e := range a {
			if err := fn(e); err != nil {
				return true, err
			}
		}
		return true, nil
	case nil, []byte, bson.D:
		return false, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array || rv.Type().Elem().Kind() == reflect.Uint8 {
		return false, nil
	}
	for i := range rv.Len() {
		if err := fn(rv.Index(i).Interface()); err != nil {
			return true, err
		}
	}
	return true, nil
}

func isDocument(v any) bool {
	ok, _ := fields(v, func(string, any) error { return nil })
	return ok
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint8, uint16, uint32, float32, float64:
		return true
	}
	return false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	if isNumber(v) {
		return "a number"
	}
	if isDocument(v) {
		return "a document"
	}
	if ok, _ := elements(v, func(any) error { return nil }); ok {
		return "an array"
	}
	return fmt.Sprintf("a value of type %T", v)
}
