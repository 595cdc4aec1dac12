package mquery

import (
	"fmt"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// compileOps compiles an operator document such as {$gt: 1, $lt: 5} into
// predicates that must all hold.
func compileOps(d bson.M, depth int) ([]pred, error) {
	if depth > maxFilterDepth {
		return nil, &db.QueryError{Msg: fmt.Sprintf("filter nested more than %d levels deep", maxFilterDepth)}
	}
	if _, ok := d["$options"]; ok {
		if _, ok := d["$regex"]; !ok {
			return nil, &db.QueryError{Op: "$options", Msg: "needs a $regex in the same document"}
		}
	}
	preds := make([]pred, 0, len(d))
	var buf [8]string
	for _, op := range sortedKeys(d, buf[:0]) {
		v := d[op]
		var (
			p   pred
			err error
		)
		switch op {
		case "$eq":
			if _, undef := v.(primitive.Undefined); undef {
				return nil, &db.QueryError{Op: op, Msg: "cannot compare to undefined"}
			}
			p = newEq(v)
		case "$ne":
			switch v.(type) {
			case primitive.Regex:
				return nil, &db.QueryError{Op: op, Msg: "cannot take a regex (use $not)"}
			case primitive.Undefined:
				return nil, &db.QueryError{Op: op, Msg: "cannot compare to undefined"}
			}
			p = &notPred{preds: []pred{newEq(v)}}
		case "$gt", "$gte", "$lt", "$lte":
			if _, undef := v.(primitive.Undefined); undef {
				return nil, &db.QueryError{Op: op, Msg: "cannot compare to undefined"}
			}
			p = newCmp(cmpOpOf(op), v)
		case "$in":
			p, err = compileIn(op, v)
		case "$nin":
			p, err = compileIn(op, v)
			if err == nil {
				p = &notPred{preds: []pred{p}}
			}
		case "$exists":
			p = existsPred{}
			if !truthy(v) {
				p = &notPred{preds: []pred{p}}
			}
		case "$regex":
			p, err = compileRegexOp(v, d["$options"])
		case "$options":
			continue // read together with $regex
		case "$not":
			p, err = compileNot(v, depth)
		case "$elemMatch":
			p, err = compileElemMatch(v, depth)
		case "$size":
			n, ok := wholeNumber(v)
			if !ok || n < 0 {
				return nil, &db.QueryError{Op: op, Msg: "needs a non-negative whole number"}
			}
			p = sizePred{n: n}
		case "$all":
			p, err = compileAll(v, depth)
		case "$type":
			var set uint32
			set, err = parseTypeSet(v)
			p = typePred{set: set}
		default:
			return nil, unknownOperator(op)
		}
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	return preds, nil
}

// newRegex compiles a regex predicate; op names the operator for errors
// about the pattern when it is not $regex itself.
func newRegex(pattern, options, op string) (*regexPred, error) {
	re, err := compileRegex(pattern, options)
	if err != nil {
		if op != "" {
			if qe, ok := err.(*db.QueryError); ok {
				err = &db.QueryError{Op: op, Msg: qe.Msg}
			}
		}
		return nil, err
	}
	return &regexPred{re: re, pattern: pattern, options: options}, nil
}

func compileRegexOp(v, options any) (pred, error) {
	var pattern, opts string
	switch t := v.(type) {
	case string:
		pattern = t
	case primitive.Regex:
		pattern, opts = t.Pattern, t.Options
	default:
		return nil, &db.QueryError{Op: "$regex", Msg: "needs a string or a regular expression"}
	}
	if options != nil {
		o, ok := options.(string)
		if !ok {
			return nil, &db.QueryError{Op: "$options", Msg: "needs a string"}
		}
		if opts != "" && o != "" {
			return nil, &db.QueryError{Op: "$options", Msg: "options are set both in $regex and in $options"}
		}
		if o != "" {
			opts = o
		}
	}
	return newRegex(pattern, opts, "")
}

func compileIn(op string, v any) (pred, error) {
	list, ok := v.(bson.A)
	if !ok {
		return nil, &db.QueryError{Op: op, Msg: "needs an array"}
	}
	p := &inPred{}
	for _, e := range list {
		switch t := e.(type) {
		case primitive.Regex:
			re, err := newRegex(t.Pattern, t.Options, op)
			if err != nil {
				return nil, err
			}
			p.regexes = append(p.regexes, re)
		case string:
			p.addString(t)
		case primitive.Symbol:
			p.addString(string(t))
		case primitive.Undefined:
			return nil, &db.QueryError{Op: op, Msg: "cannot contain undefined"}
		case bson.M:
			for k := range t {
				if strings.HasPrefix(k, "$") {
					return nil, &db.QueryError{Op: op, Msg: "cannot contain operator documents such as " + k}
				}
			}
			p.others = append(p.others, deepCopy(t))
		case nil:
			p.hasNull = true
			p.others = append(p.others, nil)
		default:
			p.others = append(p.others, deepCopy(t))
		}
	}
	p.indexObjectIDs()
	return p, nil
}

func compileNot(v any, depth int) (pred, error) {
	switch t := v.(type) {
	case primitive.Regex:
		re, err := newRegex(t.Pattern, t.Options, "$not")
		if err != nil {
			return nil, err
		}
		return &notPred{preds: []pred{re}}, nil
	case bson.M:
		if len(t) == 0 {
			return nil, &db.QueryError{Op: "$not", Msg: "cannot be empty"}
		}
		for k := range t {
			if !strings.HasPrefix(k, "$") {
				return nil, &db.QueryError{Op: "$not", Msg: "needs a regex or a document of operators, not field " + quote(k)}
			}
		}
		preds, err := compileOps(t, depth+1)
		if err != nil {
			return nil, err
		}
		return &notPred{preds: preds}, nil
	}
	return nil, &db.QueryError{Op: "$not", Msg: "needs a regex or a document of operators"}
}

// compileElemMatch tells $elemMatch's two forms apart as MongoDB does:
// {$gt: 1, $lt: 5} tests each element as a value, {qty: {$gt: 1}} runs a
// query on each element that is a document.
func compileElemMatch(v any, depth int) (pred, error) {
	d, ok := v.(bson.M)
	if !ok {
		return nil, &db.QueryError{Op: "$elemMatch", Msg: "needs a document"}
	}
	valueOps, queryKeys := 0, 0
	for k := range d {
		if strings.HasPrefix(k, "$") && k != "$and" && k != "$or" && k != "$nor" {
			valueOps++
		} else {
			queryKeys++
		}
	}
	if valueOps > 0 && queryKeys > 0 {
		return nil, &db.QueryError{Op: "$elemMatch", Msg: "cannot mix operators such as $gt with field names or $and/$or/$nor"}
	}
	if valueOps > 0 {
		preds, err := compileOps(d, depth+1)
		if err != nil {
			return nil, err
		}
		return &elemValuePred{preds: preds}, nil
	}
	q, err := compileFilter(d, depth+1)
	if err != nil {
		return nil, err
	}
	return &elemDocPred{query: q}, nil
}

// compileAll compiles $all: every listed value is present (each may be a
// regex), or every listed {$elemMatch: …} matches some element.
func compileAll(v any, depth int) (pred, error) {
	list, ok := v.(bson.A)
	if !ok {
		return nil, &db.QueryError{Op: "$all", Msg: "needs an array"}
	}
	if len(list) == 0 {
		return nonePred{}, nil
	}
	preds := make([]pred, 0, len(list))
	elemMatches := 0
	for _, e := range list {
		switch t := e.(type) {
		case bson.M:
			isOps, err := operatorDoc(t, "$all")
			if err != nil {
				return nil, err
			}
			if !isOps {
				preds = append(preds, newEq(t))
				continue
			}
			em, ok := t["$elemMatch"]
			if !ok || len(t) != 1 {
				return nil, &db.QueryError{Op: "$all", Msg: "cannot contain operators other than $elemMatch"}
			}
			p, err := compileElemMatch(em, depth)
			if err != nil {
				return nil, err
			}
			preds = append(preds, p)
			elemMatches++
		case primitive.Regex:
			re, err := newRegex(t.Pattern, t.Options, "$all")
			if err != nil {
				return nil, err
			}
			preds = append(preds, re)
		default:
			preds = append(preds, newEq(t))
		}
	}
	if elemMatches > 0 && elemMatches != len(list) {
		return nil, &db.QueryError{Op: "$all", Msg: "cannot mix $elemMatch with plain values"}
	}
	if len(preds) == 1 {
		return preds[0], nil
	}
	return &andPred{preds: preds}, nil
}

func cmpOpOf(op string) cmpOp {
	switch op {
	case "$lt":
		return opLT
	case "$lte":
		return opLTE
	case "$gt":
		return opGT
	}
	return opGTE
}
