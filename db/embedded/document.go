package embedded

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// maxDocumentSize is MongoDB's limit on one document, kept so a document
// the embedded store accepts also fits in MongoDB.
const maxDocumentSize = 16 * 1024 * 1024

// maxDepth is MongoDB's limit on nesting.
const maxDepth = 100

// stored is a document as it is kept: its BSON with _id first, and the
// index key of its _id.
type stored struct {
	raw bsoncore.Document
	id  any    // the _id as a Go value
	key []byte // valueKey of the _id
}

// encode normalises doc the way the MongoDB driver does (Go int becomes
// int32 or int64, time.Time a date, maps documents), refuses what MongoDB
// would refuse, and puts _id first. A missing _id is a new ObjectID when
// newID is set and an error otherwise.
func encode(doc bson.M, newID bool) (stored, error) {
	if doc == nil {
		return stored{}, invalidDoc("the document is nil")
	}
	raw, err := bson.Marshal(idFirst(doc))
	if err != nil {
		return stored{}, invalidDoc("%v", err)
	}
	if len(raw) > maxDocumentSize {
		return stored{}, invalidDoc("the document is %d bytes, over the limit of %d", len(raw), maxDocumentSize)
	}
	if !fieldsValid(raw, 1) {
		// Walk again, spelling out the paths, to say what is wrong.
		if err := checkFields(raw, "", 1); err != nil {
			return stored{}, err
		}
	}
	idVal, err := bsoncore.Document(raw).LookupErr("_id")
	if err != nil {
		if !newID {
			return stored{}, invalidDoc("the document has no _id")
		}
		oid := primitive.NewObjectID()
		idVal = bsoncore.Value{Type: bsontype.ObjectID, Data: oid[:]}
		raw = withIDFirst(raw, idVal)
	} else {
		switch idVal.Type {
		case bsontype.Array, bsontype.Regex, bsontype.Undefined:
			return stored{}, invalidDoc("_id cannot be of type %s", typeName(idVal.Type))
		}
		if first, _ := bsoncore.Document(raw).IndexErr(0); first.Key() != "_id" {
			raw = withIDFirst(raw, idVal)
		}
	}
	id, err := decodeValue(idVal)
	if err != nil {
		return stored{}, invalidDoc("_id: %v", err)
	}
	return stored{raw: raw, id: id, key: valueKey(idVal)}, nil
}

// idFirst is doc as a bson.D with its _id first, when it has one, so that
// the marshalled document needs no rebuilding; the driver also encodes a
// bson.D with less work than a map.
func idFirst(doc bson.M) bson.D {
	d := make(bson.D, 0, len(doc))
	if id, ok := doc["_id"]; ok {
		d = append(d, bson.E{Key: "_id", Value: id})
	}
	for k, v := range doc {
		if k != "_id" {
			d = append(d, bson.E{Key: k, Value: v})
		}
	}
	return d
}

// withIDFirst rebuilds raw with the _id element first, as MongoDB keeps it.
func withIDFirst(raw bsoncore.Document, id bsoncore.Value) bsoncore.Document {
	idx, out := bsoncore.AppendDocumentStart(make([]byte, 0, len(raw)+len(id.Data)+8))
	out = bsoncore.AppendValueElement(out, "_id", id)
	elems, _ := raw.Elements()
	for _, e := range elems {
		if e.Key() != "_id" {
			out = append(out, e...)
		}
	}
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return out
}

// checkFields refuses field names MongoDB refuses in stored documents:
// empty, starting with "$", holding "." or not UTF-8 (the driver refuses
// NUL), and string values that are not UTF-8.
func checkFields(doc bsoncore.Document, prefix string, depth int) error {
	if depth > maxDepth {
		return invalidDoc("the document nests deeper than %d levels", maxDepth)
	}
	elems, err := doc.Elements()
	if err != nil {
		return invalidDoc("%v", err)
	}
	for _, e := range elems {
		key := e.Key()
		if key == "" {
			if prefix == "" {
				return invalidDoc("empty field name")
			}
			return invalidDoc("empty field name in %q", strings.TrimSuffix(prefix, "."))
		}
		if strings.HasPrefix(key, "$") {
			return invalidDoc("field %q starts with \"$\"", prefix+key)
		}
		if !utf8.ValidString(key) {
			return invalidDoc("field %q is not valid UTF-8", prefix+key)
		}
		if strings.Contains(key, ".") {
			return invalidDoc("field %q contains \".\"", prefix+key)
		}
		if err := checkValue(e.Value(), prefix+key, depth); err != nil {
			return err
		}
	}
	return nil
}

// fieldsValid reports whether checkFields finds nothing to refuse in doc,
// without building the paths checkFields reports.
func fieldsValid(doc bsoncore.Document, depth int) bool {
	if depth > maxDepth {
		return false
	}
	err := elements(doc, func(key []byte, v bsoncore.Value) error {
		if len(key) == 0 || key[0] == '$' || !utf8.Valid(key) || bytes.IndexByte(key, '.') >= 0 || !valueValid(v, depth) {
			return errInvalidField
		}
		return nil
	})
	return err == nil
}

func valueValid(v bsoncore.Value, depth int) bool {
	switch v.Type {
	case bsontype.String:
		s, ok := v.StringValueOK()
		return ok && utf8.ValidString(s)
	case bsontype.EmbeddedDocument:
		return fieldsValid(v.Data, depth+1)
	case bsontype.Array:
		if depth+1 > maxDepth {
			return false
		}
		err := elements(v.Data, func(_ []byte, item bsoncore.Value) error {
			if !valueValid(item, depth+1) {
				return errInvalidField
			}
			return nil
		})
		return err == nil
	}
	return true
}

// errInvalidField stops fieldsValid's walk.
var errInvalidField = errors.New("invalid field")

func checkValue(v bsoncore.Value, path string, depth int) error {
	switch v.Type {
	case bsontype.String:
		if s, ok := v.StringValueOK(); !ok || !utf8.ValidString(s) {
			return invalidDoc("field %q: the string is not valid UTF-8", path)
		}
	case bsontype.EmbeddedDocument:
		return checkFields(v.Document(), path+".", depth+1)
	case bsontype.Array:
		if depth+1 > maxDepth {
			return invalidDoc("the document nests deeper than %d levels", maxDepth)
		}
		vals, err := v.Array().Values()
		if err != nil {
			return invalidDoc("%v", err)
		}
		for i, item := range vals {
			if err := checkValue(item, fmt.Sprintf("%s.%d", path, i), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func invalidDoc(format string, args ...any) error {
	return fmt.Errorf("%w: %s", db.ErrInvalidDocument, fmt.Sprintf(format, args...))
}

// typeName names a BSON type in MongoDB's words.
func typeName(t bsontype.Type) string {
	switch t {
	case bsontype.Array:
		return "array"
	case bsontype.Regex:
		return "regex"
	case bsontype.Undefined:
		return "undefined"
	}
	return t.String()
}
