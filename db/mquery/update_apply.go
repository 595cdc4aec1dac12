package mquery

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// apply runs the update on a deep copy of doc. insert says whether the
// document is being created by an upsert, which is when $setOnInsert runs.
func (u *Update) apply(doc bson.M, insert bool) (bson.M, bool, error) {
	out := copyDoc(doc)
	if out == nil {
		out = bson.M{}
	}
	for i := range u.ops {
		o := &u.ops[i]
		if o.kind == updSetOnInsert && !insert {
			continue
		}
		if err := o.apply(out); err != nil {
			return nil, false, err
		}
	}
	if oldID, had := doc["_id"]; had {
		newID, has := out["_id"]
		if !has || !equalValues(oldID, newID) {
			return nil, false, &db.QueryError{Op: "_id", Msg: "the _id field cannot be changed"}
		}
		out["_id"] = oldID // {$set: {_id: 5.0}} over 5 keeps the stored type
	}
	// Comparing the result is simpler and surer than tracking each
	// operator's effect: {$set: {a: 1}} over 1 and {$pull} of an absent
	// value both leave the document unchanged.
	return out, !identical(doc, out), nil
}

// leafAction is what a leaf function does with the field it was given.
type leafAction int

const (
	leafKeep leafAction = iota
	leafSet
	leafRemove
)

func (o *updateOp) apply(doc bson.M) error {
	w := pathWriter{op: o, create: o.kind != updUnset && o.kind != updPull}
	return w.inDoc(doc, 0)
}

// leaf decides the new value of the field the path ends at.
func (o *updateOp) leaf(old any, exists bool) (any, leafAction, error) {
	switch o.kind {
	case updSet, updSetOnInsert:
		if exists && identical(old, o.value) {
			return nil, leafKeep, nil
		}
		return deepCopy(o.value), leafSet, nil
	case updUnset:
		if !exists {
			return nil, leafKeep, nil
		}
		return nil, leafRemove, nil
	case updInc:
		if !exists {
			return o.value, leafSet, nil
		}
		if !isNumber(old) {
			return nil, leafKeep, &db.QueryError{Op: o.op, Msg: fmt.Sprintf("cannot add to %q, which holds %s, not a number", o.path, typeName(old))}
		}
		sum, err := addNumbers(old, o.value)
		if err != nil {
			return nil, leafKeep, &db.QueryError{Op: o.op, Msg: fmt.Sprintf("adding to %q: %v", o.path, err)}
		}
		return sum, leafSet, nil
	}
	// The array operators.
	var arr bson.A
	if exists {
		a, ok := old.(bson.A)
		if !ok {
			return nil, leafKeep, &db.QueryError{Op: o.op, Msg: fmt.Sprintf("%q holds %s, not an array", o.path, typeName(old))}
		}
		arr = a
	} else if o.kind == updPull {
		return nil, leafKeep, nil
	}
	switch o.kind {
	case updPush:
		return o.push.into(arr), leafSet, nil
	case updAddToSet:
		if arr == nil {
			arr = bson.A{}
		}
		for _, v := range o.push.each {
			if !slices.ContainsFunc(arr, func(e any) bool { return equalValues(e, v) }) {
				arr = append(arr, deepCopy(v))
			}
		}
		return arr, leafSet, nil
	}
	kept := arr[:0:0]
	for _, e := range arr {
		if !o.pull.matchValue(e) {
			kept = append(kept, e)
		}
	}
	return kept, leafSet, nil
}

// into returns arr with the values pushed, then sorted and sliced.
func (p *push) into(arr bson.A) bson.A {
	out := make(bson.A, 0, len(arr)+len(p.each))
	out = append(out, arr...)
	pos := int64(len(out))
	if p.position != nil {
		pos = *p.position
		if pos < 0 {
			pos = max(int64(len(out))+pos, 0)
		}
		pos = min(pos, int64(len(out)))
	}
	vals := make(bson.A, len(p.each))
	for i, v := range p.each {
		vals[i] = deepCopy(v)
	}
	out = slices.Insert(out, int(pos), vals...)
	if p.sort != nil {
		p.sort.apply(out)
	}
	if p.slice != nil {
		n := *p.slice
		switch {
		case n >= 0 && n < int64(len(out)):
			out = out[:n]
		case n < 0 && -n < int64(len(out)):
			out = out[int64(len(out))+n:]
		}
	}
	return out
}

func (s *pushSort) apply(arr bson.A) {
	if s.fields == nil {
		slices.SortStableFunc(arr, func(a, b any) int {
			if s.desc {
				return compareValues(b, a)
			}
			return compareValues(a, b)
		})
		return
	}
	slices.SortStableFunc(arr, func(a, b any) int {
		// An element that is not a document has none of the fields: null.
		da, _ := a.(bson.M)
		dbb, _ := b.(bson.M)
		for _, f := range s.fields {
			c := compareValues(sortKey(da, f.parts, f.desc), sortKey(dbb, f.parts, f.desc))
			if f.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}

// pathWriter walks an update's path through a document, creating the
// documents (and padding the arrays) it needs when create is set.
type pathWriter struct {
	op     *updateOp
	create bool
}

func (w *pathWriter) inDoc(d bson.M, i int) error {
	name := w.op.parts[i]
	old, exists := d[name]
	if i == len(w.op.parts)-1 {
		nv, act, err := w.op.leaf(old, exists)
		switch act {
		case leafSet:
			d[name] = nv
		case leafRemove:
			delete(d, name)
		}
		return err
	}
	switch t := old.(type) {
	case bson.M:
		return w.inDoc(t, i+1)
	case bson.A:
		na, err := w.inArray(t, i+1)
		if err == nil {
			d[name] = na
		}
		return err
	}
	if !w.create {
		return nil
	}
	if exists {
		return w.cannotCreate(i+1, old)
	}
	child := bson.M{}
	d[name] = child
	return w.inDoc(child, i+1)
}

func (w *pathWriter) inArray(a bson.A, i int) (bson.A, error) {
	idx, ok := arrayIndex(w.op.parts[i])
	if !ok {
		if !w.create {
			return a, nil
		}
		return nil, w.cannotCreate(i, a)
	}
	padded := false
	if idx >= len(a) {
		if !w.create {
			return a, nil
		}
		a = append(a, make(bson.A, idx+1-len(a))...)
		padded = true
	}
	if i == len(w.op.parts)-1 {
		nv, act, err := w.op.leaf(a[idx], !padded)
		switch act {
		case leafSet:
			a[idx] = nv
		case leafRemove:
			a[idx] = nil // MongoDB keeps array positions: $unset leaves null
		}
		return a, err
	}
	switch t := a[idx].(type) {
	case bson.M:
		return a, w.inDoc(t, i+1)
	case bson.A:
		na, err := w.inArray(t, i+1)
		a[idx] = na
		return a, err
	}
	if !w.create {
		return a, nil
	}
	if !padded {
		return nil, w.cannotCreate(i+1, a[idx])
	}
	child := bson.M{}
	a[idx] = child
	return a, w.inDoc(child, i+1)
}

// cannotCreate explains why the path's i-th component cannot be made
// inside the value that holds it.
func (w *pathWriter) cannotCreate(i int, in any) error {
	return &db.QueryError{Op: w.op.op, Msg: fmt.Sprintf("cannot create field %q inside %q, which holds %s",
		w.op.parts[i], strings.Join(w.op.parts[:i], "."), typeName(in))}
}

// identical is strict equality: same types and values all the way down,
// so int32 1 and double 1.0 differ. It decides whether an update changed
// anything.
func identical(a, b any) bool {
	switch x := a.(type) {
	case bson.M:
		y, ok := b.(bson.M)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !identical(xv, yv) {
				return false
			}
		}
		return true
	case bson.A:
		y, ok := b.(bson.A)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !identical(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && (math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y)))
	case primitive.Binary:
		y, ok := b.(primitive.Binary)
		return ok && x.Subtype == y.Subtype && bytes.Equal(x.Data, y.Data)
	case primitive.CodeWithScope:
		y, ok := b.(primitive.CodeWithScope)
		return ok && x.Code == y.Code && identical(x.Scope, y.Scope)
	case nil, string, bool, int32, int64, primitive.DateTime, primitive.ObjectID, primitive.Regex,
		primitive.Timestamp, primitive.Decimal128, primitive.MinKey, primitive.MaxKey,
		primitive.Undefined, primitive.Symbol, primitive.JavaScript, primitive.DBPointer:
		return a == b
	}
	return reflect.DeepEqual(a, b)
}
