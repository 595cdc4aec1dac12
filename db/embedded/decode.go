package embedded

import (
	"bytes"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// decode turns a stored document into the canonical bson.M: nested
// documents bson.M, arrays bson.A, scalars the types the MongoDB driver
// gives an interface{} (int32, int64, float64, string, bool, nil,
// primitive.DateTime, primitive.ObjectID, …). It walks the BSON directly:
// the driver's reflection-based decoder costs more than the SQLite
// lookup that found the document.
func decode(raw []byte) (bson.M, error) {
	m, err := decodeDoc(bsoncore.Document(raw))
	if err != nil {
		return nil, fmt.Errorf("embedded: a stored document does not decode: %w", err)
	}
	return m, nil
}

func decodeDoc(d bsoncore.Document) (bson.M, error) {
	n, err := countElements(d)
	if err != nil {
		return nil, err
	}
	m := make(bson.M, n)
	err = elements(d, func(key []byte, v bsoncore.Value) error {
		val, err := decodeValue(v)
		m[string(key)] = val
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeValue(v bsoncore.Value) (any, error) {
	switch v.Type {
	case bsontype.Double:
		return v.Double(), nil
	case bsontype.String:
		return v.StringValue(), nil
	case bsontype.EmbeddedDocument:
		return decodeDoc(v.Document())
	case bsontype.Array:
		n, err := countElements(v.Data)
		if err != nil {
			return nil, err
		}
		a := make(bson.A, 0, n)
		err = elements(v.Data, func(_ []byte, item bsoncore.Value) error {
			val, err := decodeValue(item)
			a = append(a, val)
			return err
		})
		if err != nil {
			return nil, err
		}
		return a, nil
	case bsontype.Binary:
		sub, data := v.Binary()
		return primitive.Binary{Subtype: sub, Data: append([]byte(nil), data...)}, nil
	case bsontype.Undefined:
		return primitive.Undefined{}, nil
	case bsontype.ObjectID:
		return v.ObjectID(), nil
	case bsontype.Boolean:
		return v.Boolean(), nil
	case bsontype.DateTime:
		return primitive.DateTime(v.DateTime()), nil
	case bsontype.Null:
		return nil, nil
	case bsontype.Regex:
		pattern, options := v.Regex()
		return primitive.Regex{Pattern: pattern, Options: options}, nil
	case bsontype.JavaScript:
		return primitive.JavaScript(v.JavaScript()), nil
	case bsontype.Symbol:
		return primitive.Symbol(v.Symbol()), nil
	case bsontype.Int32:
		return v.Int32(), nil
	case bsontype.Timestamp:
		t, i := v.Timestamp()
		return primitive.Timestamp{T: t, I: i}, nil
	case bsontype.Int64:
		return v.Int64(), nil
	case bsontype.Decimal128:
		return v.Decimal128(), nil
	case bsontype.MinKey:
		return primitive.MinKey{}, nil
	case bsontype.MaxKey:
		return primitive.MaxKey{}, nil
	}
	// DBPointer, code with scope: rare enough for the driver's decoder.
	var out bson.M
	idx, doc := bsoncore.AppendDocumentStart(nil)
	doc = bsoncore.AppendValueElement(doc, "v", v)
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	if err := bson.Unmarshal(doc, &out); err != nil {
		return nil, err
	}
	return out["v"], nil
}

// elements calls fn with the key and value of every element of d, in
// order. It collects nothing, so walking a document allocates nothing.
// The key is only valid during the call.
func elements(d bsoncore.Document, fn func(key []byte, v bsoncore.Value) error) error {
	length, _, ok := bsoncore.ReadLength(d)
	if !ok || length < 5 || int(length) > len(d) {
		return bsoncore.NewInsufficientBytesError(d, d)
	}
	rem := d[4 : length-1]
	for len(rem) > 0 {
		t := bsontype.Type(rem[0])
		end := bytes.IndexByte(rem[1:], 0)
		if end < 0 {
			return bsoncore.ErrElementMissingKey
		}
		key := rem[1 : end+1]
		v, next, ok := bsoncore.ReadValue(rem[end+2:], t)
		if !ok {
			return bsoncore.NewInsufficientBytesError(d, rem)
		}
		if err := fn(key, v); err != nil {
			return err
		}
		rem = next
	}
	return nil
}

// countElements is the number of elements of d.
func countElements(d bsoncore.Document) (int, error) {
	n := 0
	err := elements(d, func([]byte, bsoncore.Value) error {
		n++
		return nil
	})
	return n, err
}
