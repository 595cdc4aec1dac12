package server

import (
	"net/http"
	"reflect"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Fields the server keeps on every data API document. Clients read them but
// never set them.
const (
	fieldID        = "_id"
	fieldCreatedAt = "_created_at"
	fieldUpdatedAt = "_updated_at"
)

// serverFields are the fields a body may carry only unchanged (as read),
// _id first.
func serverFields() [4]string {
	return [4]string{fieldID, db.OwnerField, fieldCreatedAt, fieldUpdatedAt}
}

func isServerField(k string) bool {
	switch k {
	case fieldID, db.OwnerField, fieldCreatedAt, fieldUpdatedAt:
		return true
	}
	return false
}

// checkReservedFields refuses top-level fields starting with "_" other than
// the server's own; those are reserved for moonbase.
func checkReservedFields(doc bson.M) error {
	for k := range doc {
		if strings.HasPrefix(k, "_") && !isServerField(k) {
			return Errorf(http.StatusBadRequest, "invalid_document", "field %s: names starting with _ are reserved", k)
		}
	}
	return nil
}

// refuseServerFields is for create: the server sets every one of them.
func refuseServerFields(doc bson.M) error {
	for _, f := range serverFields() {
		if _, ok := doc[f]; ok {
			return Errorf(http.StatusBadRequest, "invalid_document", "field %s is set by the server", f)
		}
	}
	return nil
}

// dropUnchangedServerFields removes the server's fields from a PATCH or PUT
// body when they equal the stored document's (a client may send back what
// it read) and refuses any change to them.
func dropUnchangedServerFields(body, stored bson.M) error {
	for _, f := range serverFields() {
		v, ok := body[f]
		if !ok {
			continue
		}
		if !sameServerField(f, v, stored[f]) {
			return Errorf(http.StatusBadRequest, "invalid_document", "field %s cannot be changed", f)
		}
		delete(body, f)
	}
	return nil
}

// sameServerField reports whether a body's value for a server field is the
// stored one as the API wrote it: {"$date": …} (read back as a date) or,
// as earlier versions wrote dates, the RFC 3339 string.
func sameServerField(f string, sent, stored any) bool {
	if reflect.DeepEqual(db.ToExtJSON(bson.M{f: sent}), db.ToExtJSON(bson.M{f: stored})) {
		return true
	}
	_, isStr := sent.(string)
	return isStr && reflect.DeepEqual(sent, db.ToJSONValue(stored))
}

// hasServerFields reports whether body carries any of the server's fields
// besides _id.
func hasServerFields(body bson.M) bool {
	fs := serverFields()
	for _, f := range fs[1:] {
		if _, ok := body[f]; ok {
			return true
		}
	}
	return false
}

// checkIDField refuses an _id in a body that differs from the URL's.
func checkIDField(body bson.M, id string) error {
	v, ok := body[fieldID]
	if !ok {
		return nil
	}
	if str, isStr := v.(string); !isStr || str != id {
		return Errorf(http.StatusBadRequest, "invalid_document", "field _id cannot be changed")
	}
	delete(body, fieldID)
	return nil
}

// now is the time stamp for _created_at and _updated_at, at the precision a
// BSON date keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// docJSON is a stored document as the API answers it: _id as a string,
// dates as {"$date": "…Z"}, other ObjectIDs as {"$oid": …}.
func docJSON(doc bson.M) any { return db.ToExtJSON(doc) }
