package embedded

import (
	"bytes"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

// Sorting through an index.
//
// Index keys order values as MongoDB does (see key.go) except documents
// and arrays, which MongoDB compares field by field and by their smallest
// (ascending) or largest (descending) element. So an index on the sort
// field, after an equality prefix, returns a query's rows in its sort order
// as long as no candidate row holds a document or an array there; and a
// row whose prefix field is an array is a candidate the prefix equality
// would skip. Both are checked with an index lookup before each such
// query, in the same read transaction (probes); when a check finds one,
// the query is sorted in memory instead. Ties keep natural order, as the
// in-memory sort does.

// sortPlan reads a query's rows in its sort order from an index.
type sortPlan struct {
	index  string
	prefix []string // the equality prefix fields
	keys   [][]byte // their single keys
	field  string   // the sort field
	expr   string   // its key in SQL
	desc   bool
	rng    *alt // what the filter says about the sort field, when usable
	score  int
}

// chooseSortPlan finds an index whose keys are an equality prefix of the
// filter followed by the one sort field, and takes it when it narrows at
// least as much as the best index for the filter alone (filterScore).
func chooseSortPlan(conds map[string]fieldCond, specs []indexSpec, sort bson.D, filterScore int) (sortPlan, bool) {
	if len(sort) != 1 {
		return sortPlan{}, false
	}
	field := sort[0].Key
	dir, _ := wholeNumber(sort[0].Value)
	best, found := sortPlan{}, false
	if field == "_id" {
		// The id column holds the _id's key under its own unique index.
		specs = append([]indexSpec{{Name: idIndex, Keys: []db.IndexKey{{Field: "_id"}}}}, specs...)
	}
	for _, spec := range specs {
		sp := sortPlan{index: spec.Name, field: field, expr: keyExpr(field), desc: dir < 0}
		if spec.Name == idIndex {
			sp.expr = "id"
		}
		ok := false
		for _, k := range spec.Keys {
			if k.Field == field {
				ok = true
				break
			}
			key, single := singleKey(conds[k.Field])
			if !single {
				break
			}
			sp.prefix, sp.keys = append(sp.prefix, k.Field), append(sp.keys, key)
		}
		if !ok {
			continue
		}
		if c, has := conds[field]; has && onlyArraysBesides(c) {
			sp.rng = &c.alts[0]
		}
		sp.score = 10*len(sp.prefix) + 5
		if sp.score >= filterScore && (!found || sp.score > best.score) {
			best, found = sp, true
		}
	}
	return best, found
}

// singleKey returns the one key an equality condition allows (besides the
// array candidates every equality keeps).
func singleKey(c fieldCond) ([]byte, bool) {
	if !c.eq || len(c.alts) == 0 || len(c.alts[0].in) != 1 || !onlyArraysBesides(c) {
		return nil, false
	}
	return c.alts[0].in[0].([]byte), true
}

// onlyArraysBesides reports whether c's alternatives after the first are
// at most the array bracket.
func onlyArraysBesides(c fieldCond) bool {
	if len(c.alts) == 0 {
		return false
	}
	for _, a := range c.alts[1:] {
		if a.in != nil || !bytes.Equal(a.lo, []byte{tagArray}) {
			return false
		}
	}
	return true
}

// prefixSQL is the equality prefix up to (not including) field n.
func (sp sortPlan) prefixSQL(n int) ([]string, []any) {
	parts := make([]string, 0, n+1)
	args := make([]any, 0, n+1)
	for i := 0; i < n; i++ {
		parts = append(parts, keyExpr(sp.prefix[i])+" = ?")
		args = append(args, sp.keys[i])
	}
	return parts, args
}

// probes are the WHERE clauses of the rows that would make the index
// order wrong: an array in a prefix field, a document or an array in the
// sort field.
func (sp sortPlan) probes() []stmt {
	var out []stmt
	for i := range sp.prefix {
		parts, args := sp.prefixSQL(i)
		parts = append(parts, altSQL(keyExpr(sp.prefix[i]), bracketAlt(tagBracket(tagArray)), &args))
		out = append(out, stmt{strings.Join(parts, " AND "), args})
	}
	parts, args := sp.prefixSQL(len(sp.prefix))
	// Documents and arrays are adjacent in the type order.
	parts = append(parts, altSQL(sp.expr, alt{lo: []byte{tagObject}, loIncl: true, hi: []byte{tagArray + 1}}, &args))
	return append(out, stmt{strings.Join(parts, " AND "), args})
}

// where selects the rows of the prefix, within the sort field's range.
func (sp sortPlan) where() (string, []any) {
	parts, args := sp.prefixSQL(len(sp.prefix))
	if sp.rng != nil {
		parts = append(parts, altSQL(sp.expr, *sp.rng, &args))
	}
	if len(parts) == 0 {
		return "", nil
	}
	return strings.Join(parts, " AND "), args
}

// order is the ORDER BY clause: the index order, ties in natural order.
func (sp sortPlan) order() string {
	if sp.desc {
		return sp.expr + " DESC, rid"
	}
	return sp.expr + ", rid"
}
