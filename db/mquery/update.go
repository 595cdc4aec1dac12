package mquery

import (
	"fmt"
	"slices"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// updateKind is an update operator.
type updateKind int

const (
	updSet updateKind = iota
	updSetOnInsert
	updUnset
	updInc
	updPush
	updAddToSet
	updPull
)

func updateKindOf(op string) (updateKind, bool) {
	switch op {
	case "$set":
		return updSet, true
	case "$setOnInsert":
		return updSetOnInsert, true
	case "$unset":
		return updUnset, true
	case "$inc":
		return updInc, true
	case "$push":
		return updPush, true
	case "$addToSet":
		return updAddToSet, true
	case "$pull":
		return updPull, true
	}
	return 0, false
}

// updateOp is one field of one operator, e.g. the "n" of {$inc: {n: 1}}.
type updateOp struct {
	kind  updateKind
	op    string // "$inc", for messages
	path  string
	parts []string
	value any  // $set, $setOnInsert, $inc
	push  push // $push, $addToSet
	pull  pred // $pull: which elements go
}

// push is what $push and $addToSet add, with $push's modifiers.
type push struct {
	each     bson.A
	position *int64
	slice    *int64
	sort     *pushSort
}

// pushSort is $push's $sort: of whole elements, or of documents by fields.
type pushSort struct {
	desc   bool
	fields []sortField
}

// compileUpdate is CompileUpdate.
func compileUpdate(update bson.M) (*Update, error) {
	if len(update) == 0 {
		return nil, &db.QueryError{Msg: "update is empty (use an operator such as $set)"}
	}
	nu, err := normalize(update)
	if err != nil {
		return nil, err
	}
	u := &Update{}
	for _, op := range sortedKeys(nu.(bson.M), nil) {
		if !strings.HasPrefix(op, "$") {
			return nil, &db.QueryError{Op: op, Msg: "an update may only hold update operators such as $set; replacing a whole document is not an update"}
		}
		kind, ok := updateKindOf(op)
		if !ok {
			return nil, &db.QueryError{Op: op, Msg: "unknown or unsupported update operator"}
		}
		fields, ok := nu.(bson.M)[op].(bson.M)
		if !ok {
			return nil, &db.QueryError{Op: op, Msg: "needs a document of field paths and values"}
		}
		for _, path := range sortedKeys(fields, nil) {
			o, err := compileUpdateOp(kind, op, path, fields[path])
			if err != nil {
				return nil, err
			}
			u.ops = append(u.ops, o)
		}
	}
	if err := checkConflicts(u.ops); err != nil {
		return nil, err
	}
	return u, nil
}

func compileUpdateOp(kind updateKind, op, path string, v any) (updateOp, error) {
	o := updateOp{kind: kind, op: op, path: path, parts: splitPath(path), value: v}
	if err := checkFieldPath(path); err != nil {
		return o, &db.QueryError{Op: op, Msg: fmt.Sprintf("field %q: %s", path, err.(*db.QueryError).Msg)}
	}
	if (path == "_id" || strings.HasPrefix(path, "_id.")) && kind != updSet && kind != updSetOnInsert {
		return o, &db.QueryError{Op: op, Msg: "the _id field cannot be changed"}
	}
	var err error
	switch kind {
	case updInc:
		if !isNumber(v) {
			return o, &db.QueryError{Op: op, Msg: fmt.Sprintf("field %q needs a number to add, not %s", path, typeName(v))}
		}
	case updPush:
		o.push, err = compilePush(op, path, v, true)
	case updAddToSet:
		o.push, err = compilePush(op, path, v, false)
	case updPull:
		o.pull, err = compilePull(path, v)
	}
	return o, err
}

// compilePush reads $push's or $addToSet's value: one value, or
// {$each: [...]} with, for $push, $position, $slice and $sort.
func compilePush(op, path string, v any, modifiers bool) (push, error) {
	d, ok := v.(bson.M)
	if !ok {
		return push{each: bson.A{v}}, nil
	}
	each, hasEach := d["$each"]
	if !hasEach {
		for k := range d {
			if strings.HasPrefix(k, "$") {
				return push{}, &db.QueryError{Op: op, Msg: fmt.Sprintf("field %q: modifier %s needs $each", path, k)}
			}
		}
		return push{each: bson.A{v}}, nil
	}
	var p push
	if p.each, ok = each.(bson.A); !ok {
		return p, &db.QueryError{Op: op, Msg: fmt.Sprintf("field %q: $each needs an array", path)}
	}
	for _, k := range sortedKeys(d, nil) {
		mv := d[k]
		switch {
		case k == "$each":
		case !modifiers || (k != "$position" && k != "$slice" && k != "$sort"):
			return p, &db.QueryError{Op: op, Msg: fmt.Sprintf("field %q: unknown or unsupported modifier %s", path, k)}
		case k == "$sort":
			s, err := compilePushSort(mv)
			if err != nil {
				return p, &db.QueryError{Op: op, Msg: fmt.Sprintf("field %q: %s", path, err.Error())}
			}
			p.sort = s
		default:
			n, ok := wholeNumber(mv)
			if !ok {
				return p, &db.QueryError{Op: op, Msg: fmt.Sprintf("field %q: %s needs a whole number", path, k)}
			}
			if k == "$slice" {
				p.slice = &n
			} else {
				p.position = &n
			}
		}
	}
	return p, nil
}

// errPushSort is the one message for every malformed $sort modifier.
type errPushSort struct{}

func (errPushSort) Error() string {
	return "$sort needs 1, -1 or a document of fields with 1 or -1"
}

func compilePushSort(v any) (*pushSort, error) {
	if dir, ok := wholeNumber(v); ok && (dir == 1 || dir == -1) {
		return &pushSort{desc: dir == -1}, nil
	}
	d, ok := v.(bson.M)
	if !ok || len(d) == 0 {
		return nil, errPushSort{}
	}
	spec := make(bson.D, 0, len(d))
	for _, k := range sortedKeys(d, nil) {
		spec = append(spec, bson.E{Key: k, Value: d[k]})
	}
	fields, err := compileSort(spec)
	if err != nil {
		return nil, errPushSort{}
	}
	return &pushSort{fields: fields}, nil
}

// compilePull reads $pull's condition: an operator document tests each
// element as a value ({$gte: 6}), a field document runs a query on each
// document element ({qty: {$lt: 1}}), anything else removes equal values.
func compilePull(path string, v any) (pred, error) {
	switch t := v.(type) {
	case bson.M:
		isOps, err := operatorDoc(t, path)
		if err != nil {
			return nil, &db.QueryError{Op: "$pull", Msg: fmt.Sprintf("field %q: cannot mix operators and field names in one condition", path)}
		}
		if isOps {
			preds, err := compileOps(t, 0)
			if err != nil {
				return nil, err
			}
			return &andPred{preds: preds}, nil
		}
		q, err := compileFilter(t, 0)
		if err != nil {
			return nil, err
		}
		return &docQueryPred{query: q}, nil
	case primitive.Regex:
		return newRegex(t.Pattern, t.Options, "$pull")
	}
	return newEq(v), nil
}

// docQueryPred matches a document that satisfies a query.
type docQueryPred struct{ query node }

func (p *docQueryPred) matchValue(v any) bool {
	d, ok := v.(bson.M)
	return ok && p.query.match(d)
}

func (p *docQueryPred) matchMissing() bool      { return false }
func (p *docQueryPred) traverseLeafArray() bool { return false }

// checkConflicts refuses an update that names one path twice, or a path
// and its prefix ("a" and "a.b"), across all of its operators: the result
// would depend on the order they ran in.
func checkConflicts(ops []updateOp) error {
	sorted := slices.Clone(ops)
	slices.SortStableFunc(sorted, func(a, b updateOp) int { return strings.Compare(a.path, b.path) })
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			a, b := sorted[i], sorted[j]
			if a.path == b.path || strings.HasPrefix(b.path, a.path+".") {
				return &db.QueryError{Op: b.op, Msg: fmt.Sprintf("%q conflicts with %q of %s in the same update", b.path, a.path, a.op)}
			}
		}
	}
	return nil
}
