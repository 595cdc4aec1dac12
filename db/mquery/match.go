package mquery

import (
	"fmt"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// maxFilterDepth bounds how deeply $and/$or/$nor/$not/$elemMatch may nest.
const maxFilterDepth = 100

// matchAll is the empty filter.
type matchAll struct{}

func (matchAll) match(bson.M) bool { return true }

// pathNode is a field path with a predicate: some value the path reaches
// satisfies it.
type pathNode struct {
	parts []string
	p     pred
}

func (n *pathNode) match(doc bson.M) bool { return matchPath(doc, n.parts, n.p) }

type andNode []node

func (n andNode) match(doc bson.M) bool {
	for _, c := range n {
		if !c.match(doc) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) match(doc bson.M) bool {
	for _, c := range n {
		if c.match(doc) {
			return true
		}
	}
	return false
}

type norNode []node

func (n norNode) match(doc bson.M) bool { return !orNode(n).match(doc) }

type notNode struct{ inner node }

func (n notNode) match(doc bson.M) bool { return !n.inner.match(doc) }

// compile is Compile.
func compile(filter bson.M) (*Matcher, error) {
	// Most filters arrive canonical (from JSON or from code using int32
	// and bson.M); those are compiled as they are, without a copy. The
	// predicates copy the few container values they keep.
	f := filter
	if !isCanonical(filter, 0) {
		nf, err := normalize(filter)
		if err != nil {
			return nil, err
		}
		f, _ = nf.(bson.M) // nil for a nil filter, which matches everything
	}
	root, err := compileFilter(f, 0)
	if err != nil {
		return nil, err
	}
	return &Matcher{root: root}, nil
}

// compileFilter compiles a normalized query document. Keys are visited in sorted
// order so that the error reported for a filter with several faults is
// always the same one.
func compileFilter(f bson.M, depth int) (node, error) {
	if depth > maxFilterDepth {
		return nil, &db.QueryError{Msg: fmt.Sprintf("filter nested more than %d levels deep", maxFilterDepth)}
	}
	var nodes []node
	var buf [8]string
	for _, k := range sortedKeys(f, buf[:0]) {
		var (
			n   node
			err error
		)
		switch {
		case k == "$and" || k == "$or" || k == "$nor":
			n, err = compileLogical(k, f[k], depth)
		case strings.HasPrefix(k, "$"):
			err = unknownOperator(k)
		default:
			n, err = compileField(k, f[k], depth)
		}
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return andOf(nodes), nil
}

func unknownOperator(op string) error {
	return &db.QueryError{Op: op, Msg: "unknown or unsupported operator"}
}

func andOf(nodes []node) node {
	switch len(nodes) {
	case 0:
		return matchAll{}
	case 1:
		return nodes[0]
	}
	return andNode(nodes)
}

func compileLogical(op string, v any, depth int) (node, error) {
	list, ok := v.(bson.A)
	if !ok || len(list) == 0 {
		return nil, &db.QueryError{Op: op, Msg: "needs a non-empty array of documents"}
	}
	nodes := make([]node, 0, len(list))
	for _, e := range list {
		d, ok := e.(bson.M)
		if !ok {
			return nil, &db.QueryError{Op: op, Msg: "needs a non-empty array of documents"}
		}
		n, err := compileFilter(d, depth+1)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	switch op {
	case "$and":
		return andOf(nodes), nil
	case "$or":
		if len(nodes) == 1 {
			return nodes[0], nil
		}
		return orNode(nodes), nil
	}
	return norNode(nodes), nil
}

// compileField compiles path: value, where value is either an operator
// document ({$gt: 1}) or a value to compare for equality.
func compileField(path string, nv any, depth int) (node, error) {
	parts := splitPath(path)
	if d, ok := nv.(bson.M); ok {
		isOps, err := operatorDoc(d, path)
		if err != nil {
			return nil, err
		}
		if isOps {
			preds, err := compileOps(d, depth)
			if err != nil {
				return nil, err
			}
			return pathNodes(parts, preds), nil
		}
	}
	p, err := equalityPred(nv)
	if err != nil {
		return nil, err
	}
	return pathNodeFor(parts, p), nil
}

// operatorDoc tells an operator document ({$gt: 1}) from a document value
// ({x: 1}); one that mixes both is refused.
func operatorDoc(d bson.M, path string) (bool, error) {
	ops, fields := 0, 0
	for k := range d {
		if strings.HasPrefix(k, "$") {
			ops++
		} else {
			fields++
		}
	}
	if ops > 0 && fields > 0 {
		return false, &db.QueryError{Op: path, Msg: "cannot mix operators and field names in one document"}
	}
	return ops > 0, nil
}

// equalityPred is the predicate of an implicit equality: a regex value
// matches by pattern, anything else by equality.
func equalityPred(v any) (pred, error) {
	if re, ok := v.(primitive.Regex); ok {
		return newRegex(re.Pattern, re.Options, "")
	}
	return newEq(v), nil
}

func pathNodes(parts []string, preds []pred) node {
	nodes := make([]node, len(preds))
	for i, p := range preds {
		nodes[i] = pathNodeFor(parts, p)
	}
	return andOf(nodes)
}

// pathNodeFor puts a predicate on a path. Negations negate the whole path
// test ({a: {$ne: 1}} is "no value of a equals 1", so [1, 2] fails), and
// groups split so that each member may be satisfied by another element.
func pathNodeFor(parts []string, p pred) node {
	switch t := p.(type) {
	case *notPred:
		return notNode{pathNodes(parts, t.preds)}
	case *andPred:
		return pathNodes(parts, t.preds)
	}
	return &pathNode{parts: parts, p: p}
}
