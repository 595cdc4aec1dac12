package db

import (
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// The operators a client filter may use. Everything else starting with "$"
// is refused: $where, $function, $accumulator and $expr run code or
// expressions on the server, and the rest is not supported by every store.
var (
	fieldOperators = map[string]bool{
		"$eq": true, "$ne": true, "$gt": true, "$gte": true, "$lt": true, "$lte": true,
		"$in": true, "$nin": true, "$exists": true, "$not": true, "$regex": true,
		"$options": true, "$elemMatch": true, "$size": true, "$all": true,
	}
	logicalOperators = map[string]bool{"$and": true, "$or": true, "$nor": true}
)

// IsAllowedOperator reports whether op is one of the operators ValidateFilter
// lets through.
func IsAllowedOperator(op string) bool { return fieldOperators[op] || logicalOperators[op] }

// ValidateFilter checks a filter that comes from a client before it reaches
// a store: only the allowlisted operators ($eq $ne $gt $gte $lt $lte $in $nin
// $exists $and $or $nor $not $regex $options $elemMatch $size $all), each
// with an operand of the right shape, field paths without empty or "$"
// segments, literal values without "$" keys, and nesting and size within
// lim. A nil filter matches everything and is valid. A refusal is a
// *QueryError naming the operator or field at fault.
func ValidateFilter(filter bson.M, lim Limits) error {
	w := filterWalker{lim: lim.WithDefaults()}
	return w.filter(filter, 1)
}

type filterWalker struct {
	lim   Limits
	keys  int
	bytes int
}

// count charges one key or element of n bytes against the limits.
func (w *filterWalker) count(n int) error {
	w.keys++
	w.bytes += n
	if w.keys > w.lim.MaxKeys {
		return &QueryError{Msg: fmt.Sprintf("more than %d fields and array elements", w.lim.MaxKeys)}
	}
	if w.bytes > w.lim.MaxBytes {
		return &QueryError{Msg: fmt.Sprintf("filter is more than %d bytes", w.lim.MaxBytes)}
	}
	return nil
}

func (w *filterWalker) deep(depth int) error {
	if depth > w.lim.MaxDepth {
		return &QueryError{Msg: fmt.Sprintf("nested deeper than %d levels", w.lim.MaxDepth)}
	}
	return nil
}

// filter validates a query document: logical operators and field
// conditions.
func (w *filterWalker) filter(v any, depth int) error {
	if err := w.deep(depth); err != nil {
		return err
	}
	fs, _ := fields(v)
	if err := repeated(fs); err != nil {
		return err
	}
	for _, f := range fs {
		if err := w.count(len(f.key)); err != nil {
			return err
		}
		if strings.HasPrefix(f.key, "$") {
			if !logicalOperators[f.key] {
				if fieldOperators[f.key] {
					return &QueryError{Op: f.key, Msg: "operator not allowed at the top level of a filter; use {field: {" + f.key + ": …}}"}
				}
				return refuseOperator(f.key)
			}
			if err := w.logical(f.key, f.val, depth); err != nil {
				return err
			}
			continue
		}
		if err := checkFieldPath(f.key); err != nil {
			return err
		}
		if err := w.condition(f.key, f.val, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// refuseOperator names why an operator outside the allowlist is refused.
func refuseOperator(op string) error {
	switch op {
	case "$where", "$function", "$accumulator", "$expr", "$jsonSchema", "$text", "$type", "$mod",
		"$geoWithin", "$geoIntersects", "$near", "$nearSphere", "$bitsAllSet", "$bitsAnySet",
		"$bitsAllClear", "$bitsAnyClear", "$comment", "$rand", "$sampleRate", "$slice", "$meta":
		return &QueryError{Op: op, Msg: "operator not allowed"}
	}
	return &QueryError{Op: op, Msg: "unknown operator"}
}

// checkFieldPath refuses a field path a store could misread.
func checkFieldPath(p string) error {
	if p == "" {
		return &QueryError{Msg: "empty field name"}
	}
	if strings.IndexByte(p, 0) >= 0 {
		return &QueryError{Op: quotePath(p), Msg: "field names may not contain NUL"}
	}
	if !utf8.ValidString(p) {
		return &QueryError{Op: quotePath(p), Msg: "field names must be valid UTF-8"}
	}
	for _, seg := range strings.Split(p, ".") {
		if seg == "" {
			return &QueryError{Op: p, Msg: "empty segment in field path"}
		}
		if seg[0] == '$' {
			return &QueryError{Op: p, Msg: `field path segments may not start with "$"`}
		}
	}
	return nil
}

// logical validates $and, $or and $nor: a non-empty array of filters.
func (w *filterWalker) logical(op string, v any, depth int) error {
	es, ok := elems(v)
	if !ok || len(es) == 0 {
		return &QueryError{Op: op, Msg: "needs a non-empty array of filters"}
	}
	if err := w.deep(depth + 1); err != nil {
		return err
	}
	for _, e := range es {
		if err := w.count(0); err != nil {
			return err
		}
		if _, isDoc := fields(e); !isDoc {
			return &QueryError{Op: op, Msg: fmt.Sprintf("needs a non-empty array of filters, got an element of type %s", typeName(e))}
		}
		if err := w.filter(e, depth+2); err != nil {
			return err
		}
	}
	return nil
}

// condition validates what a field is matched against: a document of
// operators, or a literal value compared for equality.
func (w *filterWalker) condition(field string, v any, depth int) error {
	fs, isDoc := fields(v)
	if !isDoc || !anyOperator(fs) {
		return w.literal(v, depth)
	}
	if !allOperators(fs) {
		for _, f := range fs {
			if strings.HasPrefix(f.key, "$") && !fieldOperators[f.key] && !logicalOperators[f.key] {
				return refuseOperator(f.key)
			}
		}
		return &QueryError{Op: field, Msg: "cannot mix operators and field names in one condition"}
	}
	return w.operators(field, fs, depth)
}

func anyOperator(fs []kv) bool {
	for _, f := range fs {
		if strings.HasPrefix(f.key, "$") {
			return true
		}
	}
	return false
}

func allOperators(fs []kv) bool {
	for _, f := range fs {
		if !strings.HasPrefix(f.key, "$") {
			return false
		}
	}
	return true
}

// operators validates an operator document such as {$gte: 1, $lt: 9}.
func (w *filterWalker) operators(field string, fs []kv, depth int) error {
	if err := w.deep(depth); err != nil {
		return err
	}
	if err := repeated(fs); err != nil {
		return err
	}
	var pattern, options *kv
	for i := range fs {
		f := &fs[i]
		if err := w.count(len(f.key)); err != nil {
			return err
		}
		if !fieldOperators[f.key] {
			if logicalOperators[f.key] {
				return &QueryError{Op: f.key, Msg: "operator not allowed inside a field condition; put it at the top of the filter"}
			}
			return refuseOperator(f.key)
		}
		switch f.key {
		case "$regex":
			pattern = f
		case "$options":
			options = f
		default:
			if err := w.operator(field, f.key, f.val, depth); err != nil {
				return err
			}
		}
	}
	if options != nil && pattern == nil {
		return &QueryError{Op: "$options", Msg: "needs $regex beside it"}
	}
	if pattern != nil {
		return w.regex(field, pattern.val, options)
	}
	return nil
}

// operator validates one field operator's operand.
func (w *filterWalker) operator(field, op string, v any, depth int) error {
	switch op {
	case "$eq", "$ne", "$gt", "$gte", "$lt", "$lte":
		switch v.(type) {
		case primitive.Undefined:
			return &QueryError{Op: op, Msg: fmt.Sprintf("cannot compare to undefined (field %q)", field)}
		case primitive.Regex:
			if op == "$ne" {
				return &QueryError{Op: op, Msg: fmt.Sprintf("cannot take a regular expression; use $not (field %q)", field)}
			}
		}
		return w.literal(v, depth+1)
	case "$in", "$nin":
		es, ok := elems(v)
		if !ok {
			return &QueryError{Op: op, Msg: fmt.Sprintf("needs an array, got %s (field %q)", typeName(v), field)}
		}
		return w.literalElems(es, depth+1)
	case "$all":
		es, ok := elems(v)
		if !ok {
			return &QueryError{Op: op, Msg: fmt.Sprintf("needs an array, got %s (field %q)", typeName(v), field)}
		}
		if err := w.deep(depth + 1); err != nil {
			return err
		}
		elemMatches := 0
		for _, e := range es {
			if err := w.count(0); err != nil {
				return err
			}
			if fs, isDoc := fields(e); isDoc && len(fs) == 1 && fs[0].key == "$elemMatch" {
				if err := w.operators(field, fs, depth+2); err != nil {
					return err
				}
				elemMatches++
				continue
			}
			if err := w.literal(e, depth+2); err != nil {
				return err
			}
		}
		if elemMatches > 0 && elemMatches != len(es) {
			return &QueryError{Op: op, Msg: fmt.Sprintf("cannot mix {$elemMatch: …} with plain values (field %q)", field)}
		}
		return nil
	case "$exists":
		if _, ok := v.(bool); !ok {
			return &QueryError{Op: op, Msg: fmt.Sprintf("needs true or false, got %s (field %q)", typeName(v), field)}
		}
		return nil
	case "$size":
		if !isNonNegativeInteger(v) {
			return &QueryError{Op: op, Msg: fmt.Sprintf("needs a non-negative integer, got %s (field %q)", describe(v), field)}
		}
		return nil
	case "$not":
		if re, ok := v.(primitive.Regex); ok {
			return w.regex(field, re, nil)
		}
		fs, isDoc := fields(v)
		if !isDoc || len(fs) == 0 || !allOperators(fs) {
			return &QueryError{Op: op, Msg: fmt.Sprintf("needs a document of operators such as {$not: {$gt: 5}} (field %q)", field)}
		}
		return w.operators(field, fs, depth+1)
	case "$elemMatch":
		fs, isDoc := fields(v)
		if !isDoc {
			return &QueryError{Op: op, Msg: fmt.Sprintf("needs a document, got %s (field %q)", typeName(v), field)}
		}
		if len(fs) > 0 && allOperators(fs) && !anyLogical(fs) {
			return w.operators(field, fs, depth+1)
		}
		if anyOperator(fs) && !allOperators(fs) && !anyLogical(fs) {
			return &QueryError{Op: op, Msg: fmt.Sprintf("cannot mix operators and field names (field %q)", field)}
		}
		return w.filter(v, depth+1)
	}
	return refuseOperator(op)
}

// repeated refuses a key given twice, which only a bson.D can hold; fs is
// sorted, so repeats are adjacent.
func repeated(fs []kv) error {
	for i := 1; i < len(fs); i++ {
		if fs[i].key == fs[i-1].key {
			return &QueryError{Op: fs[i].key, Msg: "given twice in one document"}
		}
	}
	return nil
}

func anyLogical(fs []kv) bool {
	for _, f := range fs {
		if logicalOperators[f.key] {
			return true
		}
	}
	return false
}

// regex validates a $regex operand (a string or a BSON regex) with its
// $options: the pattern must compile as Go's RE2 syntax, which is what the
// embedded store runs, and the options be among i, m and s.
func (w *filterWalker) regex(path string, v any, options *kv) error {
	var pattern, opts string
	switch x := v.(type) {
	case string:
		pattern = x
	case primitive.Regex:
		pattern, opts = x.Pattern, x.Options
	default:
		return &QueryError{Op: "$regex", Msg: fmt.Sprintf("needs a string, got %s (field %q)", typeName(v), path)}
	}
	if options != nil {
		s, ok := options.val.(string)
		if !ok {
			return &QueryError{Op: "$options", Msg: fmt.Sprintf("needs a string, got %s (field %q)", typeName(options.val), path)}
		}
		if opts != "" && s != "" {
			return &QueryError{Op: "$options", Msg: fmt.Sprintf("options are set both in the regular expression and in $options (field %q)", path)}
		}
		opts += s
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return &QueryError{Op: "$regex", Msg: fmt.Sprintf("pattern may not contain NUL (field %q)", path)}
	}
	if len(pattern) > w.lim.MaxRegexBytes {
		return &QueryError{Op: "$regex", Msg: fmt.Sprintf("pattern is longer than %d bytes (field %q)", w.lim.MaxRegexBytes, path)}
	}
	if err := w.count(len(pattern)); err != nil {
		return err
	}
	for _, c := range opts {
		if !strings.ContainsRune("ims", c) {
			return &QueryError{Op: "$options", Msg: fmt.Sprintf("unsupported option %q; use i, m or s (field %q)", c, path)}
		}
	}
	flags := ""
	if opts != "" {
		flags = "(?" + opts + ")"
	}
	if _, err := regexp.Compile(flags + pattern); err != nil {
		msg := err.Error()
		if re, ok := err.(*syntax.Error); ok {
			msg = string(re.Code) + " " + strconv.Quote(re.Expr)
		}
		return &QueryError{Op: "$regex", Msg: fmt.Sprintf("%s (field %q)", msg, path)}
	}
	return nil
}

// literal validates a value compared as-is: any document in it is data, so
// its keys may not start with "$".
func (w *filterWalker) literal(v any, depth int) error {
	if fs, ok := fields(v); ok {
		if err := w.deep(depth); err != nil {
			return err
		}
		for _, f := range fs {
			if err := w.count(len(f.key)); err != nil {
				return err
			}
			if strings.HasPrefix(f.key, "$") {
				if fieldOperators[f.key] || logicalOperators[f.key] {
					return &QueryError{Op: f.key, Msg: "operator not allowed inside a literal value"}
				}
				return refuseOperator(f.key)
			}
			if err := w.literal(f.val, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if es, ok := elems(v); ok {
		return w.literalElems(es, depth)
	}
	n, ok := scalarSize(v)
	if !ok {
		return &QueryError{Msg: fmt.Sprintf("unsupported value type %T", v)}
	}
	w.bytes += n
	if w.bytes > w.lim.MaxBytes {
		return &QueryError{Msg: fmt.Sprintf("filter is more than %d bytes", w.lim.MaxBytes)}
	}
	return nil
}

func (w *filterWalker) literalElems(es []any, depth int) error {
	if err := w.deep(depth); err != nil {
		return err
	}
	for _, e := range es {
		if err := w.count(0); err != nil {
			return err
		}
		if err := w.literal(e, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func isNonNegativeInteger(v any) bool {
	switch x := v.(type) {
	case int:
		return x >= 0
	case int32:
		return x >= 0
	case int64:
		return x >= 0
	case float64:
		return x >= 0 && x == math.Trunc(x) && x <= math.MaxInt32
	}
	return false
}

// ValidateSort checks a sort specification from a client: at most 32 field
// paths, each named once, each with direction 1 or -1.
func ValidateSort(s bson.D) error {
	if len(s) > maxSortKeys {
		return &QueryError{Op: "sort", Msg: fmt.Sprintf("more than %d sort keys", maxSortKeys)}
	}
	seen := make(map[string]bool, len(s))
	for _, e := range s {
		if strings.HasPrefix(e.Key, "$") {
			return refuseOperator(e.Key)
		}
		if err := checkFieldPath(e.Key); err != nil {
			return err
		}
		if seen[e.Key] {
			return &QueryError{Op: e.Key, Msg: "sorted on twice"}
		}
		seen[e.Key] = true
		if d, ok := number(e.Value); !ok || d != 1 && d != -1 {
			return &QueryError{Op: e.Key, Msg: fmt.Sprintf("sort direction must be 1 or -1, got %s", describe(e.Value))}
		}
	}
	return nil
}

// ValidateProjection checks a projection from a client: field paths mapped
// to 1/true (include) or 0/false (exclude), not both kinds except that _id
// may be excluded beside inclusions, and no path inside another ("a" and
// "a.b"). Projection operators ($slice, $elemMatch, $meta) are refused.
func ValidateProjection(p bson.M) error {
	fs, _ := fields(p)
	var include, exclude string
	for _, f := range fs {
		if strings.HasPrefix(f.key, "$") {
			return refuseOperator(f.key)
		}
		if err := checkFieldPath(f.key); err != nil {
			return err
		}
		in, ok := projectionFlag(f.val)
		if !ok {
			if ops, isDoc := fields(f.val); isDoc && len(ops) > 0 && strings.HasPrefix(ops[0].key, "$") {
				return &QueryError{Op: ops[0].key, Msg: fmt.Sprintf("operator not allowed in a projection (field %q)", f.key)}
			}
			return &QueryError{Op: f.key, Msg: fmt.Sprintf("projection values are 1 or true (include) and 0 or false (exclude), got %s", describe(f.val))}
		}
		switch {
		case in:
			include = f.key
		case f.key != "_id":
			exclude = f.key
		}
		if include != "" && exclude != "" {
			return &QueryError{Op: "projection", Msg: fmt.Sprintf("cannot mix inclusion (%s) and exclusion (%s); only _id may be excluded beside inclusions", include, exclude)}
		}
	}
	keys := make(map[string]bool, len(fs))
	for _, f := range fs {
		keys[f.key] = true
	}
	for _, f := range fs {
		for i := strings.IndexByte(f.key, '.'); i >= 0; i = nextDot(f.key, i) {
			if keys[f.key[:i]] {
				return &QueryError{Op: f.key, Msg: fmt.Sprintf("path collides with %s", f.key[:i])}
			}
		}
	}
	return nil
}

// projectionFlag reads a projection value: true for include, false for
// exclude, ok=false for anything that is neither.
func projectionFlag(v any) (include, ok bool) {
	if b, isBool := v.(bool); isBool {
		return b, true
	}
	n, isNum := number(v)
	if !isNum || n != 0 && n != 1 {
		return false, false
	}
	return n == 1, true
}

// number reads an integer or float as float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// nextDot returns the index of the first "." in s after i, or -1.
func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}
