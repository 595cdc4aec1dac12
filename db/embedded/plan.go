package embedded

import (
	"bytes"
	"reflect"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Query planning.
//
// The planner reads the filter's top-level conjunction (its fields and
// $and), keeps the conditions an index can answer (equality, $eq, $in and
// the range operators) and picks the index that narrows most. It writes
// the WHERE clause with exactly the expression the index was built on, so
// SQLite uses it. The clause only narrows: every row it returns still goes
// through the full matcher, which keeps MongoDB's semantics for arrays,
// cross-type comparisons and everything else an index cannot express.

// maxPlanFields bounds how many fields of a compound index the WHERE clause
// spells out: each field can have several alternatives (its values, the
// array bracket), and the clause is their cartesian product.
const maxPlanFields = 3

// maxPlanTerms bounds that product.
const maxPlanTerms = 64

// alt is one set of keys a field may have: a list of exact keys, or a range.
type alt struct {
	in             []any // keys ([]byte)
	lo, hi         []byte
	loIncl, hiIncl bool
}

// fieldCond is what the filter says about one field, as a disjunction of
// key sets.
type fieldCond struct {
	alts []alt
	eq   bool // an equality, usable as the prefix of a compound index
}

// plan is the SQL side of a query.
type plan struct {
	where string // empty: every row
	args  []any
	index string // the index the clause leans on, "" for a full scan
	score int    // how much the index narrows: more is better
}

// conditions collects the indexable conditions of filter by field.
func conditions(filter bson.M) map[string]fieldCond {
	out := map[string]fieldCond{}
	collectConds(filter, out, 0)
	return out
}

func collectConds(filter any, out map[string]fieldCond, depth int) {
	if depth > maxDepth {
		return
	}
	elems, _ := fieldsOf(filter)
	for _, e := range elems {
		switch {
		case e.Key == "$and":
			items, _ := itemsOf(e.Value)
			for _, item := range items {
				collectConds(item, out, depth+1)
			}
		case strings.HasPrefix(e.Key, "$"):
		default:
			c, ok := fieldCondition(e.Key, e.Value)
			if !ok {
				continue
			}
			// Conditions on one field are ANDed, so any one of them
			// narrows correctly; an equality narrows most.
			if prev, seen := out[e.Key]; !seen || (!prev.eq && c.eq) {
				out[e.Key] = c
			}
		}
	}
}

// fieldCondition turns the condition on one field into key sets.
func fieldCondition(field string, v any) (fieldCond, bool) {
	multikey := field != "_id" // _id is never an array
	ops, isOps := operators(v)
	if !isOps {
		if _, isRegex := v.(primitive.Regex); isRegex {
			return fieldCond{}, false // a pattern, not a value
		}
		return equality([]any{v}, multikey)
	}
	if e, ok := ops["$eq"]; ok {
		return equality([]any{e}, multikey)
	}
	if in, ok := ops["$in"]; ok {
		if items, ok := itemsOf(in); ok {
			return equality(items, multikey)
		}
	}
	return rangeCond(ops, multikey)
}

// equality is the key set of a field equal to one of values.
func equality(values []any, multikey bool) (fieldCond, bool) {
	c := fieldCond{eq: true}
	var in []any
	object := false
	for _, v := range values {
		if _, isRegex := v.(primitive.Regex); isRegex {
			return fieldCond{}, false
		}
		key, t, ok := goValueKey(v)
		if !ok {
			return fieldCond{}, false
		}
		switch t {
		case bsontype.EmbeddedDocument:
			// Documents compare field by field with numbers by value, which
			// their BLOB keys do not; keep the whole document bracket.
			object = true
		case bsontype.Array:
			// Equal arrays and arrays holding this array as an element are
			// both in the array bracket, added below.
			if !multikey {
				return fieldCond{}, false
			}
		default:
			in = append(in, key)
		}
	}
	if len(in) > 0 {
		c.alts = append(c.alts, alt{in: in})
	}
	if object {
		c.alts = append(c.alts, bracketAlt(tagBracket(tagObject)))
	}
	if multikey {
		c.alts = append(c.alts, bracketAlt(tagBracket(tagArray)))
	}
	return c, true
}

// rangeCond is the key set of $gt/$gte/$lt/$lte, bounded to the type
// bracket of the first bound as MongoDB bounds it.
func rangeCond(ops map[string]any, multikey bool) (fieldCond, bool) {
	var br bracket
	var a alt
	found := false
	for _, op := range []string{"$gt", "$gte", "$lt", "$lte"} {
		v, ok := ops[op]
		if !ok {
			continue
		}
		key, t, ok := goValueKey(v)
		if !ok {
			continue
		}
		b, ok := bracketOf(t, key)
		if !ok || (found && !bytes.Equal(b.lo, br.lo)) {
			continue
		}
		if !found {
			br, found = b, true
			a = bracketAlt(b)
		}
		switch op {
		case "$gt", "$gte":
			a.lo, a.loIncl = key, op == "$gte"
		default:
			a.hi, a.hiIncl = key, op == "$lte"
		}
	}
	if !found {
		return fieldCond{}, false
	}
	c := fieldCond{alts: []alt{a}}
	if multikey {
		c.alts = append(c.alts, bracketAlt(tagBracket(tagArray)))
	}
	return c, true
}

func bracketAlt(b bracket) alt { return alt{lo: b.lo, loIncl: true, hi: b.hi} }

// choose picks the index that narrows the query most and writes its
// WHERE clause.
func choose(conds map[string]fieldCond, specs []indexSpec) plan {
	bestScore := 0
	var bestIndex string
	var bestExprs []string
	var bestConds []fieldCond
	if c, ok := conds["_id"]; ok {
		score := 5
		if c.eq {
			score = 1000
		}
		bestIndex, bestExprs, bestConds, bestScore = idIndex, []string{"id"}, []fieldCond{c}, score
	}
	for _, spec := range specs {
		n, eqs, ranged := 0, 0, false
		for _, k := range spec.Keys {
			c, ok := conds[k.Field]
			if !ok || n == maxPlanFields {
				break
			}
			n++
			if !c.eq {
				ranged = true
				break
			}
			eqs++
		}
		if n == 0 {
			continue
		}
		score := 10 * eqs
		if ranged {
			score += 5
		}
		if spec.Unique && eqs == len(spec.Keys) {
			score += 100
		}
		if score > bestScore {
			bestIndex, bestScore = spec.Name, score
			bestExprs, bestConds = make([]string, n), make([]fieldCond, n)
			for i, k := range spec.Keys[:n] {
				bestExprs[i], bestConds[i] = keyExpr(k.Field), conds[k.Field]
			}
		}
	}
	if bestScore == 0 {
		return plan{}
	}
	best := whereClause(bestIndex, bestExprs, bestConds)
	best.score = bestScore
	return best
}

// whereClause ORs together every combination of the fields' alternatives,
// the first field's alternative varying slowest.
func whereClause(index string, exprs []string, conds []fieldCond) plan {
	combos := 1
	for i, c := range conds {
		if combos*len(c.alts) > maxPlanTerms && i > 0 {
			exprs, conds = exprs[:i], conds[:i]
			break
		}
		combos *= len(c.alts)
	}
	if combos == 0 {
		return plan{where: "0", index: index}
	}
	p := plan{index: index}
	var b strings.Builder
	pick := make([]int, len(conds)) // the alternative of each field, an odometer
	for n := 0; n < combos; n++ {
		if n > 0 {
			b.WriteString(" OR ")
		}
		b.WriteByte('(')
		for i, j := range pick {
			if i > 0 {
				b.WriteString(" AND ")
			}
			writeAltSQL(&b, exprs[i], conds[i].alts[j], &p.args)
		}
		b.WriteByte(')')
		for i := len(pick) - 1; i >= 0; i-- {
			if pick[i]++; pick[i] < len(conds[i].alts) {
				break
			}
			pick[i] = 0
		}
	}
	p.where = b.String()
	return p
}

func altSQL(expr string, a alt, args *[]any) string {
	var b strings.Builder
	writeAltSQL(&b, expr, a, args)
	return b.String()
}

// writeAltSQL writes the condition of one alternative on expr, adding its
// arguments.
func writeAltSQL(b *strings.Builder, expr string, a alt, args *[]any) {
	if a.in != nil {
		*args = append(*args, a.in...)
		b.WriteString(expr)
		if len(a.in) == 1 {
			b.WriteString(" = ?")
			return
		}
		b.WriteString(" IN (?")
		for range len(a.in) - 1 {
			b.WriteString(", ?")
		}
		b.WriteByte(')')
		return
	}
	if a.lo == nil && a.hi == nil {
		b.WriteByte('1')
		return
	}
	if a.lo != nil {
		b.WriteString(expr)
		if a.loIncl {
			b.WriteString(" >= ?")
		} else {
			b.WriteString(" > ?")
		}
		*args = append(*args, a.lo)
	}
	if a.hi != nil {
		if a.lo != nil {
			b.WriteString(" AND ")
		}
		b.WriteString(expr)
		if a.hiIncl {
			b.WriteString(" <= ?")
		} else {
			b.WriteString(" < ?")
		}
		*args = append(*args, a.hi)
	}
}

// keyExpr is the SQL expression of an index key. CREATE INDEX and every
// WHERE clause spell it identically, which is how SQLite matches them.
func keyExpr(field string) string { return "mb_key(doc, " + literal(field) + ")" }

// operators returns v's operators when v is a document of them.
func operators(v any) (map[string]any, bool) {
	elems, ok := fieldsOf(v)
	if !ok || len(elems) == 0 || !strings.HasPrefix(elems[0].Key, "$") {
		return nil, false
	}
	ops := make(map[string]any, len(elems))
	for _, e := range elems {
		ops[e.Key] = e.Value
	}
	return ops, true
}

// fieldsOf lists the fields of v when v is a document: bson.M, bson.D or a
// map with string keys. Map fields come sorted, so plans are deterministic.
func fieldsOf(v any) ([]bson.E, bool) {
	switch d := v.(type) {
	case bson.D:
		return d, true
	case bson.M:
		return sortedFields(d), true
	case map[string]any:
		return sortedFields(d), true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	m := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		m[it.Key().String()] = it.Value().Interface()
	}
	return sortedFields(m), true
}

func sortedFields(m map[string]any) []bson.E {
	out := make([]bson.E, 0, len(m))
	for k, v := range m {
		out = append(out, bson.E{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// itemsOf lists the elements of v when v is an array or slice (but not
// []byte, which is binary data).
func itemsOf(v any) ([]any, bool) {
	switch a := v.(type) {
	case bson.A:
		return a, true
	case []any:
		return a, true
	case []byte, nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}
