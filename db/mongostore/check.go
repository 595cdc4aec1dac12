package mongostore

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// The checks below hold every request to what all moonbase stores support.
// MongoDB itself accepts more ($where, $expr, $rename, computed
// projections…); refusing those here keeps an application that runs on
// MongoDB runnable on the embedded store, and the other way round.

// maxDepth bounds the nesting of filters and documents the checks walk.
const maxDepth = 100

func queryErr(op, format string, args ...any) error {
	return &db.QueryError{Op: op, Msg: fmt.Sprintf(format, args...)}
}

// checkFilter refuses a filter with an operator outside the allowlist
// ($eq $ne $gt $gte $lt $lte $in $nin $exists $and $or $nor $not $regex
// with $options, $elemMatch $size $all) or an operator of the wrong shape.
func checkFilter(filter bson.M) error { return checkQuery(filter, 0) }

func checkQuery(q any, depth int) error {
	if depth > maxDepth {
		return queryErr("", "filter is nested more than %d levels deep", maxDepth)
	}
	isDoc, err := fields(q, func(k string, v any) error {
		switch k {
		case "$and", "$or", "$nor":
			n := 0
			isArr, err := elements(v, func(e any) error {
				n++
				if !isDocument(e) {
					return queryErr(k, "needs an array of filters")
				}
				return checkQuery(e, depth+1)
			})
			if err != nil {
				return err
			}
			if !isArr || n == 0 {
				return queryErr(k, "needs a non-empty array of filters")
			}
			return nil
		}
		if strings.HasPrefix(k, "$") {
			return queryErr(k, "unknown or unsupported operator")
		}
		if k == "" {
			return queryErr("", "empty field name in filter")
		}
		if hasOperators(v) {
			return checkOperators(k, v, depth+1)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !isDoc {
		return queryErr("", "a filter must be a document, not %T", q)
	}
	return nil
}

// hasOperators reports whether v is a document of query operators
// ({$gt: 1}) rather than a value to compare with. A document mixing both
// counts as operators, so that checkOperators refuses the field.
func hasOperators(v any) bool {
	found := false
	fields(v, func(k string, _ any) error {
		if strings.HasPrefix(k, "$") {
			found = true
		}
		return nil
	})
	return found
}

func checkOperators(field string, ops any, depth int) error {
	if depth > maxDepth {
		return queryErr("", "filter is nested more than %d levels deep", maxDepth)
	}
	_, err := fields(ops, func(k string, v any) error {
		switch k {
		case "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$exists":
			return nil
		case "$in", "$nin", "$all":
			if isArr, _ := elements(v, func(any) error { return nil }); !isArr {
				return queryErr(k, "needs an array, not %s", typeName(v))
			}
			return nil
		case "$regex":
			switch v.(type) {
			case string, primitive.Regex:
				return nil
			}
			return queryErr(k, "needs a string, not %s", typeName(v))
		case "$options":
			if _, ok := v.(string); !ok {
				return queryErr(k, "needs a string, not %s", typeName(v))
			}
			if !hasKey(ops, "$regex") {
				return queryErr(k, "needs $regex beside it")
			}
			return nil
		case "$size":
			if n, ok := wholeNumber(v); !ok || n < 0 {
				return queryErr(k, "needs a non-negative whole number, not %v", v)
			}
			return nil
		case "$elemMatch":
			if !isDocument(v) {
				return queryErr(k, "needs a document, not %s", typeName(v))
			}
			if onlyComparisons(v) {
				return checkOperators(field, v, depth+1)
			}
			return checkQuery(v, depth+1)
		case "$not":
			if _, ok := v.(primitive.Regex); ok {
				return nil
			}
			if !isDocument(v) || !hasOperators(v) {
				return queryErr(k, "needs a document of operators or a regular expression")
			}
			return checkOperators(field, v, depth+1)
		}
		if strings.HasPrefix(k, "$") {
			return queryErr(k, "unknown or unsupported operator")
		}
		return queryErr(field, "mixes operators with the field %q; compare with a whole document using $eq", k)
	})
	return err
}

// onlyComparisons reports whether an $elemMatch argument applies operators
// to each element ({$gt: 1}) rather than a filter to each element document.
func onlyComparisons(v any) bool {
	only := true
	fields(v, func(k string, _ any) error {
		switch k {
		case "$and", "$or", "$nor":
			only = false
		default:
			if !strings.HasPrefix(k, "$") {
				only = false
			}
		}
		return nil
	})
	return only
}

// checkUpdate refuses anything but $set $unset $inc $push $pull $addToSet
// over valid paths, with $each the only modifier of $push and $addToSet.
func checkUpdate(update bson.M) error {
	if len(update) == 0 {
		return queryErr("", "the update is empty")
	}
	for op, args := range update {
		switch op {
		case "$set", "$unset", "$inc", "$push", "$pull", "$addToSet":
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
	case "$set":
		return checkValue(v, 0)
	case "$inc":
		if !isNumber(v) {
			return queryErr(op, "%s: the increment must be a number, not %s", path, typeName(v))
		}
	case "$push", "$addToSet":
		if !hasOperators(v) {
			return checkValue(v, 0)
		}
		return checkEach(op, path, v)
	case "$pull":
		switch {
		case hasOperators(v):
			return checkOperators(path, v, 1)
		case isDocument(v):
			return checkQuery(v, 1)
		}
		return checkValue(v, 0)
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
	isArr, err := elements(each, func(e any) error { return checkValue(e, 0) })
	if err != nil {
		return err
	}
	if !isArr {
		return queryErr(op, "%s: $each needs an array, not %s", path, typeName(each))
	}
	return nil
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

// checkProjection allows only inclusions or only exclusions (with _id free
// to go either way), each 0, 1, true or false.
func checkProjection(proj bson.M) error {
	incl, excl := false, false
	for path, v := range proj {
		if err := checkPath(path, path); err != nil {
			return err
		}
		on, ok := truth(v)
		if !ok {
			return queryErr(path, "a projection value must be 0, 1, true or false, not %v", v)
		}
		switch {
		case path == "_id":
		case on:
			incl = true
		default:
			excl = true
		}
	}
	if incl && excl {
		return queryErr("", "a projection cannot mix inclusion and exclusion (except of _id)")
	}
	return nil
}

// checkSort allows only 1 and -1 as directions.
func checkSort(sort bson.D) error {
	for _, e := range sort {
		if err := checkPath(e.Key, e.Key); err != nil {
			return err
		}
		if n, ok := wholeNumber(e.Value); !ok || (n != 1 && n != -1) {
			return queryErr(e.Key, "sort direction must be 1 or -1, not %v", e.Value)
		}
	}
	return nil
}

// checkDocument refuses what MongoDB could store but moonbase's stores do
// not: keys that are empty, start with "$" or contain "." at any depth,
// and an array or regular expression as _id.
func checkDocument(doc bson.M) error {
	id, hasID := doc["_id"]
	_, isRegex := id.(primitive.Regex)
	if isArr, _ := elements(id, func(any) error { return nil }); hasID && (isArr || isRegex) {
		return fmt.Errorf("%w: _id cannot be %s", db.ErrInvalidDocument, typeName(id))
	}
	return checkValue(doc, 0)
}

func checkValue(v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested more than %d levels deep", db.ErrInvalidDocument, maxDepth)
	}
	isDoc, err := fields(v, func(k string, e any) error {
		switch {
		case k == "":
			return fmt.Errorf("%w: empty field name", db.ErrInvalidDocument)
		case strings.HasPrefix(k, "$"):
			return fmt.Errorf("%w: field name %q starts with $", db.ErrInvalidDocument, k)
		case strings.Contains(k, "."):
			return fmt.Errorf("%w: field name %q contains a dot", db.ErrInvalidDocument, k)
		}
		return checkValue(e, depth+1)
	})
	if isDoc || err != nil {
		return err
	}
	_, err = elements(v, func(e any) error { return checkValue(e, depth+1) })
	return err
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
	case nil, []byte, bson.D, primitive.ObjectID:
		return false, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
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

func hasKey(v any, key string) bool {
	found := false
	fields(v, func(k string, _ any) error {
		found = found || k == key
		return nil
	})
	return found
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint8, uint16, uint32, float32, float64:
		return true
	}
	return false
}

// wholeNumber returns v as an int64 when it is a number without a fraction.
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

// truth reads a projection value: a boolean or a number (0 is false).
func truth(v any) (on, ok bool) {
	if b, isBool := v.(bool); isBool {
		return b, true
	}
	if !isNumber(v) {
		return false, false
	}
	return reflect.ValueOf(v).Convert(reflect.TypeFor[float64]()).Float() != 0, true
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case primitive.DateTime:
		return "a date"
	case primitive.ObjectID:
		return "an ObjectID"
	case primitive.Regex:
		return "a regular expression"
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
	return fmt.Sprintf("a %T", v)
}
