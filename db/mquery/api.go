package mquery

import (
	"go.mongodb.org/mongo-driver/bson"
)

// The signatures below are the contract the embedded store builds on.

// Matcher is a compiled filter. It is immutable and safe for concurrent use.
type Matcher struct {
	root node
}

type node interface{ match(doc bson.M) bool }

// Compile checks filter and compiles it. Unknown or unsupported operators
// give a *db.QueryError.
func Compile(filter bson.M) (*Matcher, error) { return compile(filter) }

// Match reports whether doc matches. doc must be canonical, as a store
// returns it (int32/int64 rather than int, bson.M and bson.A containers).
func (m *Matcher) Match(doc bson.M) bool { return m.root.match(doc) }

// Compare orders two BSON values the way MongoDB sorts them: by type class
// (MinKey, null, numbers, strings, documents, arrays, binary, ObjectID,
// booleans, dates, timestamps, regex, MaxKey), then by value; numbers of
// different types compare by numeric value, with NaN below all other
// numbers. It returns -1, 0 or 1. Go values such as int or time.Time are
// normalised first.
func Compare(a, b any) int { return compareValues(a, b) }

// Sort sorts docs in place by spec (field → 1 or -1), stably, with
// MongoDB's semantics (missing fields sort as null; an array sorts by its
// smallest element ascending and its largest descending).
func Sort(docs []bson.M, spec bson.D) error { return sortDocs(docs, spec) }

// Update is a compiled update document. It is immutable and safe for
// concurrent use.
type Update struct {
	ops []updateOp
}

// CompileUpdate checks an update document ($set, $unset, $inc, $push with
// $each, $pull, $addToSet with $each). Anything else, a field named twice,
// conflicting paths or a change to _id give a *db.QueryError.
//
// $setOnInsert is accepted too and applied only by ApplyInsert. Paths are
// dotted; a numeric component indexes an existing array (padding it with
// nulls when a value is set past its end) and otherwise names a field. An
// update document that holds anything but operators (a replacement
// document) is refused: replacing is the store's job.
func CompileUpdate(update bson.M) (*Update, error) { return compileUpdate(update) }

// Apply returns a changed deep copy of doc and whether anything changed.
// doc itself is not modified. Type errors ($inc on a string, $push on a
// non-array) give a *db.QueryError.
//
// Changing the value of _id is refused; setting it to the value it has is
// not a change, and neither is any update that leaves doc as it was.
func (u *Update) Apply(doc bson.M) (bson.M, bool, error) { return u.apply(doc, false) }

// ApplyInsert is Apply for a document an upsert is creating (usually
// UpsertSeed's result): it also applies $setOnInsert.
func (u *Update) ApplyInsert(doc bson.M) (bson.M, error) {
	out, _, err := u.apply(doc, true)
	return out, err
}

// UpsertSeed builds the document an upsert starts from: the filter's
// top-level equalities (field: value and field: {$eq: value}, $and of them).
// Dotted paths become nested documents ({"a.b": 1} gives {a: {b: 1}}).
// Values are copies; the result is never nil.
func UpsertSeed(filter bson.M) bson.M { return upsertSeed(filter) }

// Projection is a compiled projection. It is immutable and safe for
// concurrent use.
type Projection struct {
	tree    map[string]*projNode // nil: the whole document
	include bool
}

// CompileProjection checks a projection: all inclusions or all exclusions
// (1/true or 0/false), dotted paths allowed, _id included unless excluded.
// Values may be of any numeric type (zero excludes). A nil or empty
// projection keeps the whole document. Overlapping paths ("a" and "a.b")
// and projection operators ($slice, $elemMatch, $meta, "a.$") are refused.
func CompileProjection(proj bson.M) (*Projection, error) { return compileProjection(proj) }

// Apply returns the projected copy of doc; it shares nothing with doc.
// Through an array, a dotted path projects each document element (an
// inclusion drops elements that are not documents).
func (p *Projection) Apply(doc bson.M) bson.M { return p.apply(doc) }
