package mquery

import (
	"regexp"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// pred is one operator's test of the values a field path reaches.
type pred interface {
	// matchValue tests one value as it is (MongoDB's matchesSingleElement).
	matchValue(v any) bool
	// matchMissing says whether a path that reaches nothing satisfies it.
	matchMissing() bool
	// traverseLeafArray says whether the elements of an array at the end
	// of the path are tested too, not just the array as a whole.
	traverseLeafArray() bool
}

// eqPred is equality ({a: v}, {$eq: v}). Strings and numbers, by far the
// commonest operands, get their own fields so the check allocates nothing.
type eqPred struct {
	val  any
	rank int
	str  string
}

func newEq(v any) *eqPred {
	p := &eqPred{val: deepCopy(v), rank: rank(v)}
	if p.rank == rankString {
		p.str = stringOf(v)
	}
	return p
}

func (p *eqPred) matchValue(v any) bool {
	switch p.rank {
	case rankString:
		switch s := v.(type) {
		case string:
			return s == p.str
		case primitive.Symbol:
			return string(s) == p.str
		}
		return false
	case rankNumber:
		return rank(v) == rankNumber && compareNumbers(v, p.val) == 0
	}
	return equalValues(v, p.val)
}

func (p *eqPred) matchMissing() bool      { return p.rank == rankNull }
func (p *eqPred) traverseLeafArray() bool { return true }

// cmpOp is one of the range comparisons.
type cmpOp int

const (
	opLT cmpOp = iota
	opLTE
	opGT
	opGTE
)

// cmpPred is $lt, $lte, $gt or $gte. Values outside the operand's type
// class never match ({$gt: 5} skips strings), except that everything is
// above MinKey and below MaxKey.
type cmpPred struct {
	op   cmpOp
	val  any
	rank int
	nan  bool
}

func newCmp(op cmpOp, v any) *cmpPred {
	return &cmpPred{op: op, val: deepCopy(v), rank: rank(v), nan: isNaN(v)}
}

func (p *cmpPred) matchValue(v any) bool {
	r := rank(v)
	if r != p.rank {
		switch p.rank {
		case rankMinKey:
			return p.op == opGT || p.op == opGTE
		case rankMaxKey:
			return p.op == opLT || p.op == opLTE
		}
		return false
	}
	if p.rank == rankNumber && (p.nan || isNaN(v)) {
		// NaN equals NaN and is otherwise not ordered against numbers.
		return (p.op == opLTE || p.op == opGTE) && p.nan && isNaN(v)
	}
	c := compareSameRank(v, p.val, r)
	switch p.op {
	case opLT:
		return c < 0
	case opLTE:
		return c <= 0
	case opGT:
		return c > 0
	}
	return c >= 0
}

// matchMissing treats a missing field as null, which is equal to null,
// above MinKey and below MaxKey.
func (p *cmpPred) matchMissing() bool {
	switch p.rank {
	case rankNull:
		return p.op == opLTE || p.op == opGTE
	case rankMinKey:
		return p.op == opGT || p.op == opGTE
	case rankMaxKey:
		return p.op == opLT || p.op == opLTE
	}
	return false
}

func (p *cmpPred) traverseLeafArray() bool { return true }

// inPred is $in: equality with any of a list, where regexes match and a
// null also matches a missing field.
type inPred struct {
	strs    []string            // short lists: a scan beats hashing
	strSet  map[string]struct{} // long lists
	oidSet  map[primitive.ObjectID]struct{}
	others  []any
	regexes []*regexPred
	hasNull bool
}

// inSetThreshold is the list length from which strings go in a map.
const inSetThreshold = 16

func (p *inPred) addString(s string) {
	if p.strSet != nil {
		p.strSet[s] = struct{}{}
		return
	}
	p.strs = append(p.strs, s)
	if len(p.strs) >= inSetThreshold {
		p.strSet = make(map[string]struct{}, 2*len(p.strs))
		for _, x := range p.strs {
			p.strSet[x] = struct{}{}
		}
		p.strs = nil
	}
}

// indexObjectIDs puts long lists of ObjectIDs (a batch fetch by _id) in a
// map.
func (p *inPred) indexObjectIDs() {
	n := 0
	for _, o := range p.others {
		if _, ok := o.(primitive.ObjectID); ok {
			n++
		}
	}
	if n < inSetThreshold {
		return
	}
	p.oidSet = make(map[primitive.ObjectID]struct{}, n)
	others := p.others[:0]
	for _, o := range p.others {
		if id, ok := o.(primitive.ObjectID); ok {
			p.oidSet[id] = struct{}{}
		} else {
			others = append(others, o)
		}
	}
	p.others = others
}

func (p *inPred) hasString(s string) bool {
	if p.strSet != nil {
		_, ok := p.strSet[s]
		return ok
	}
	for _, x := range p.strs {
		if x == s {
			return true
		}
	}
	return false
}

func (p *inPred) matchValue(v any) bool {
	switch s := v.(type) {
	case string:
		if p.hasString(s) {
			return true
		}
	case primitive.Symbol:
		if p.hasString(string(s)) {
			return true
		}
	case primitive.ObjectID:
		if p.oidSet != nil {
			_, ok := p.oidSet[s]
			return ok // an ObjectID equals only an ObjectID; no regex matches it
		}
		for _, o := range p.others {
			if o == v {
				return true
			}
		}
	default:
		for _, o := range p.others {
			if equalValues(v, o) {
				return true
			}
		}
	}
	for _, re := range p.regexes {
		if re.matchValue(v) {
			return true
		}
	}
	return false
}

func (p *inPred) matchMissing() bool      { return p.hasNull }
func (p *inPred) traverseLeafArray() bool { return true }

// regexPred matches strings (and symbols) against a pattern, and regex
// values that are the same regex.
type regexPred struct {
	re      *regexp.Regexp
	pattern string
	options string
}

func (p *regexPred) matchValue(v any) bool {
	switch s := v.(type) {
	case string:
		return p.re.MatchString(s)
	case primitive.Symbol:
		return p.re.MatchString(string(s))
	case primitive.Regex:
		return s.Pattern == p.pattern && s.Options == p.options
	}
	return false
}

func (p *regexPred) matchMissing() bool      { return false }
func (p *regexPred) traverseLeafArray() bool { return true }

// existsPred is $exists: true; $exists: false is its negation.
type existsPred struct{}

func (existsPred) matchValue(any) bool     { return true }
func (existsPred) matchMissing() bool      { return false }
func (existsPred) traverseLeafArray() bool { return false }

// sizePred is $size: an array of exactly n elements.
type sizePred struct{ n int64 }

func (p sizePred) matchValue(v any) bool {
	a, ok := v.(bson.A)
	return ok && int64(len(a)) == p.n
}

func (sizePred) matchMissing() bool      { return false }
func (sizePred) traverseLeafArray() bool { return false }

// typePred is $type, with the wanted codes as bits.
type typePred struct{ set uint32 }

func (p typePred) matchValue(v any) bool {
	c := typeCode(v)
	return c != 0 && p.set&typeBit(c) != 0
}

func (typePred) matchMissing() bool      { return false }
func (typePred) traverseLeafArray() bool { return true }

// elemValuePred is $elemMatch with operators: some element of an array
// satisfies all of them, each element tested as a single value.
type elemValuePred struct{ preds []pred }

func (p *elemValuePred) matchValue(v any) bool {
	a, ok := v.(bson.A)
	if !ok {
		return false
	}
	for _, e := range a {
		if allMatch(p.preds, e) {
			return true
		}
	}
	return false
}

func (p *elemValuePred) matchMissing() bool      { return false }
func (p *elemValuePred) traverseLeafArray() bool { return false }

// elemDocPred is $elemMatch with a query: some element that is a document
// (or an array, read as a document with index keys) matches the query.
type elemDocPred struct{ query node }

func (p *elemDocPred) matchValue(v any) bool {
	a, ok := v.(bson.A)
	if !ok {
		return false
	}
	for _, e := range a {
		switch t := e.(type) {
		case bson.M:
			if p.query.match(t) {
				return true
			}
		case bson.A:
			if p.query.match(arrayAsDoc(t)) {
				return true
			}
		}
	}
	return false
}

func (p *elemDocPred) matchMissing() bool      { return false }
func (p *elemDocPred) traverseLeafArray() bool { return false }

// notPred negates a group of predicates ($not, $ne, $nin, $exists: false).
// On a path it becomes "no reached value satisfies the group" (see
// pathNode), on a single value plain negation.
type notPred struct{ preds []pred }

func (p *notPred) matchValue(v any) bool   { return !allMatch(p.preds, v) }
func (p *notPred) matchMissing() bool      { return !allMissing(p.preds) }
func (p *notPred) traverseLeafArray() bool { return false }

// andPred groups predicates that must all hold ($all); on a path each is
// tested on its own, so different elements may satisfy different ones.
type andPred struct{ preds []pred }

func (p *andPred) matchValue(v any) bool   { return allMatch(p.preds, v) }
func (p *andPred) matchMissing() bool      { return allMissing(p.preds) }
func (p *andPred) traverseLeafArray() bool { return false }

func allMatch(preds []pred, v any) bool {
	for _, p := range preds {
		if !p.matchValue(v) {
			return false
		}
	}
	return true
}

func allMissing(preds []pred) bool {
	for _, p := range preds {
		if !p.matchMissing() {
			return false
		}
	}
	return true
}

// nonePred matches nothing ($all: [] and $in: []).
type nonePred struct{}

func (nonePred) matchValue(any) bool     { return false }
func (nonePred) matchMissing() bool      { return false }
func (nonePred) traverseLeafArray() bool { return false }
