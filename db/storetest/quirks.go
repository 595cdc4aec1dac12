package storetest

// A quirk is a named, known departure of one store from MongoDB's
// behaviour. Options.Quirks switches them on; the package documentation
// lists them, and a test keeps that list and this one equal.
type quirk struct {
	name string
	what string // what the store does instead
}

func quirks() []quirk {
	return []quirk{
		{"ferretdb-duplicate-key-index-name",
			"FerretDB's duplicate key error does not name the index (\"E11000 duplicate key error collection: db.c\"), so DuplicateKeyError.Index stays empty"},
		{"ferretdb-duplicate-key-on-update",
			"FerretDB reports a unique index broken by an update, replace or findAndModify as InternalError (code 1, \"UNIQUE constraint failed\") instead of E11000, so the error is not db.ErrDuplicateKey"},
		{"ferretdb-unique-index-over-duplicates",
			"FerretDB refuses a unique index over existing duplicates with InternalError (code 1) instead of E11000, so the error is not db.ErrDuplicateKey"},
		{"ferretdb-unique-missing-field",
			"FerretDB's unique indexes admit any number of documents without the indexed field; MongoDB indexes a missing field as null, so the second such document is a duplicate"},
		{"ferretdb-nested-arrays",
			"FerretDB refuses to store an array directly inside an array (\"nested arrays are not supported\")"},
		{"ferretdb-pull-condition",
			"FerretDB's $pull removes only elements equal to the given value: a condition ({$gte: 5}, {$in: […]}) or a partial document matches nothing"},
		{"ferretdb-inc-zero-modifies",
			"FerretDB counts $inc by 0 as a modification; MongoDB reports it as modifying nothing"},
		{"ferretdb-findandmodify-projection",
			"FerretDB does not implement findAndModify's projection (\"fields\") and refuses the call"},
		{"ferretdb-elemmatch-documents",
			"FerretDB's $elemMatch takes only operators ({$gt: 1}); conditions on the fields of element documents are refused as \"unknown operator\""},
		{"ferretdb-elemmatch-any-element",
			"FerretDB's $elemMatch lets different elements meet different conditions ({$gte: 5, $lt: 8} matches [3, 9]); MongoDB needs one element to meet them all"},
		{"ferretdb-upsert-and",
			"FerretDB's upsert does not take the equalities inside a top-level $and into the inserted document"},
		{"ferretdb-index-options-conflict",
			"FerretDB accepts an index with the name and keys of an existing one but other options (unique or not) and keeps the existing one; MongoDB refuses it"},
		{"ferretdb-regex-dollar",
			"FerretDB's regular expressions are Go's, where $ matches only at the very end; in MongoDB's (PCRE) it also matches before a final newline"},
	}
}

// quirkText describes the named quirk, or returns "" for an unknown name.
func quirkText(name string) string {
	for _, q := range quirks() {
		if q.name == name {
			return q.what
		}
	}
	return ""
}
