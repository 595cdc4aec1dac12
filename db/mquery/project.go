package mquery

import (
	"fmt"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
)

// projNode is one field of a projection; a leaf is projected whole, an
// inner node by its children.
type projNode struct {
	leaf     bool
	children map[string]*projNode
}

// compileProjection is CompileProjection.
func compileProjection(proj bson.M) (*Projection, error) {
	p := &Projection{}
	if len(proj) == 0 {
		return p, nil
	}
	np, err := normalize(proj)
	if err != nil {
		return nil, err
	}
	spec := np.(bson.M)
	var (
		modeSet bool
		idSpec  *bool
		first   string
	)
	p.tree = map[string]*projNode{}
	for _, path := range sortedKeys(spec, nil) {
		if err := checkFieldPath(path); err != nil {
			return nil, err
		}
		include, err := projectionFlag(path, spec[path])
		if err != nil {
			return nil, err
		}
		if path == "_id" {
			idSpec = &include
			continue
		}
		if !modeSet {
			p.include, modeSet, first = include, true, path
		} else if include != p.include {
			return nil, &db.QueryError{Op: path, Msg: fmt.Sprintf("cannot mix inclusion and exclusion in one projection (see %q)", first)}
		}
		if err := p.add(path); err != nil {
			return nil, err
		}
	}
	_, idNamed := p.tree["_id"] // "_id.x" projects part of _id
	if idNamed && idSpec != nil {
		return nil, &db.QueryError{Op: "_id", Msg: "path collides with another path of the projection"}
	}
	var addID bool
	switch {
	case !modeSet: // only _id was named
		p.include, addID = *idSpec, true
	case p.include:
		addID = (idSpec == nil || *idSpec) && !idNamed
	default:
		addID = idSpec != nil && !*idSpec
	}
	if addID {
		if err := p.add("_id"); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// projectionFlag reads a projection value: true, false or a number
// (zero excludes). Projection operators are not supported.
func projectionFlag(path string, v any) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case bson.M:
		for k := range t {
			if strings.HasPrefix(k, "$") {
				return false, &db.QueryError{Op: path, Msg: fmt.Sprintf("projection operator %s is not supported", k)}
			}
		}
	}
	if isNumber(v) {
		return truthy(v), nil
	}
	return false, &db.QueryError{Op: path, Msg: "projection value must be 1, 0, true or false"}
}

// add puts a path into the tree, refusing one that overlaps another
// ("a" and "a.b"), as MongoDB does.
func (p *Projection) add(path string) error {
	parts := splitPath(path)
	tree := p.tree
	for i, part := range parts {
		n, ok := tree[part]
		last := i == len(parts)-1
		switch {
		case ok && (n.leaf || last):
			return &db.QueryError{Op: path, Msg: "path collides with another path of the projection"}
		case !ok && last:
			tree[part] = &projNode{leaf: true}
			return nil
		case !ok:
			n = &projNode{children: map[string]*projNode{}}
			tree[part] = n
		}
		tree = n.children
	}
	return nil
}

// apply is Projection.Apply.
func (p *Projection) apply(doc bson.M) bson.M {
	switch {
	case doc == nil:
		return nil
	case p.tree == nil:
		return copyDoc(doc)
	case p.include:
		return includeDoc(doc, p.tree)
	}
	return excludeDoc(doc, p.tree)
}

// includeDoc keeps the named fields. Through an array it keeps, from each
// document element, the named fields; elements that are not documents or
// arrays are dropped, as in MongoDB.
func includeDoc(d bson.M, tree map[string]*projNode) bson.M {
	out := make(bson.M, len(tree))
	for name, n := range tree {
		v, ok := d[name]
		if !ok {
			continue
		}
		if n.leaf {
			out[name] = deepCopy(v)
			continue
		}
		switch t := v.(type) {
		case bson.M:
			out[name] = includeDoc(t, n.children)
		case bson.A:
			out[name] = includeArray(t, n.children)
		}
	}
	return out
}

func includeArray(a bson.A, tree map[string]*projNode) bson.A {
	out := bson.A{}
	for _, e := range a {
		switch t := e.(type) {
		case bson.M:
			out = append(out, includeDoc(t, tree))
		case bson.A:
			out = append(out, includeArray(t, tree))
		}
	}
	return out
}

// excludeDoc drops the named fields and keeps the rest, looking through
// arrays the same way includeDoc does.
func excludeDoc(d bson.M, tree map[string]*projNode) bson.M {
	out := make(bson.M, len(d))
	for name, v := range d {
		n, ok := tree[name]
		switch {
		case !ok:
			out[name] = deepCopy(v)
		case n.leaf:
		default:
			switch t := v.(type) {
			case bson.M:
				out[name] = excludeDoc(t, n.children)
			case bson.A:
				out[name] = excludeArray(t, n.children)
			default:
				out[name] = deepCopy(v)
			}
		}
	}
	return out
}

func excludeArray(a bson.A, tree map[string]*projNode) bson.A {
	out := make(bson.A, len(a))
	for i, e := range a {
		switch t := e.(type) {
		case bson.M:
			out[i] = excludeDoc(t, tree)
		case bson.A:
			out[i] = excludeArray(t, tree)
		default:
			out[i] = deepCopy(e)
		}
	}
	return out
}
