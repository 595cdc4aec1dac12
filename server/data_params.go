package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// Paging of list requests.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// listQuery is a list request's parameters, checked.
type listQuery struct {
	filter bson.M
	opts   db.FindOptions
	count  bool
}

// parseListQuery reads filter, sort, limit, skip, fields and count.
func (s *Server) parseListQuery(c *fiber.Ctx) (listQuery, error) {
	q := listQuery{opts: db.FindOptions{Limit: defaultListLimit}}
	var err error
	if q.filter, err = s.parseFilter(c.Query("filter")); err != nil {
		return q, err
	}
	if q.opts.Sort, err = parseSort(c.Query("sort")); err != nil {
		return q, err
	}
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 {
			return q, badInput("limit must be a whole number from 1 to %d", maxListLimit)
		}
		q.opts.Limit = min(n, maxListLimit)
	}
	if raw := c.Query("skip"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return q, badInput("skip must be a whole number, 0 or more")
		}
		q.opts.Skip = n
	}
	if q.opts.Projection, err = parseFields(c.Query("fields")); err != nil {
		return q, err
	}
	if raw := c.Query("count"); raw != "" {
		if q.count, err = strconv.ParseBool(raw); err != nil {
			return q, badInput("count must be true or false")
		}
	}
	return q, nil
}

// parseFilter decodes and validates a client filter (a JSON object in
// MongoDB syntax) and turns _id strings holding an ObjectID's hex into
// ObjectIDs, so a client can filter by the ids it is shown.
func (s *Server) parseFilter(raw string) (bson.M, error) {
	if raw == "" {
		return nil, nil
	}
	if !json.Valid([]byte(raw)) {
		return nil, Errorf(http.StatusBadRequest, "invalid_query", "filter is not valid JSON")
	}
	filter, err := db.DecodeJSON([]byte(raw), s.limits)
	if err == nil && db.HasExtJSON([]byte(raw)) {
		filter, err = db.FromExtJSONDoc(filter)
	}
	if err != nil {
		var de *db.DocumentError
		if errors.As(err, &de) {
			return nil, Errorf(http.StatusBadRequest, "invalid_query", "filter: %s", strings.TrimPrefix(de.Error(), "invalid document: "))
		}
		return nil, err
	}
	if err := db.ValidateFilter(filter, s.limits); err != nil {
		return nil, err
	}
	idsToObjectIDs(filter)
	return filter, nil
}

// idsToObjectIDs rewrites, in place, the _id conditions of filter (and of
// its $and/$or/$nor branches): a string that is an ObjectID's hex becomes
// that ObjectID, in equality, $eq, $ne, $in and $nin.
func idsToObjectIDs(filter bson.M) {
	for k, v := range filter {
		switch k {
		case "_id":
			filter[k] = idValue(v)
		case "$and", "$or", "$nor":
			if branches, ok := v.(bson.A); ok {
				for _, b := range branches {
					if m, ok := b.(bson.M); ok {
						idsToObjectIDs(m)
					}
				}
			}
		}
	}
}

func idValue(v any) any {
	switch x := v.(type) {
	case string:
		return parseID(x)
	case bson.M:
		for op, arg := range x {
			switch op {
			case "$eq", "$ne":
				x[op] = idValue(arg)
			case "$in", "$nin":
				if list, ok := arg.(bson.A); ok {
					for i := range list {
						if str, ok := list[i].(string); ok {
							list[i] = parseID(str)
						}
					}
				}
			}
		}
	}
	return v
}

// parseID turns a document id from a URL or filter into the _id value: an
// ObjectID when it is 24 hex digits, else the string itself.
func parseID(id string) any {
	if oid, err := primitive.ObjectIDFromHex(id); err == nil {
		return oid
	}
	return id
}

// parseSort reads "-created_at,name" (a leading "-" is descending) or a
// JSON object such as {"created_at":-1,"name":1}, whose key order is kept.
func parseSort(raw string) (bson.D, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	var sort bson.D
	if strings.HasPrefix(raw, "{") {
		var err error
		if sort, err = parseSortJSON(raw); err != nil {
			return nil, err
		}
	} else {
		for _, part := range strings.Split(raw, ",") {
			part = strings.TrimSpace(part)
			dir := 1
			if strings.HasPrefix(part, "-") {
				part, dir = part[1:], -1
			} else if strings.HasPrefix(part, "+") {
				part = part[1:]
			}
			if part == "" {
				return nil, Errorf(http.StatusBadRequest, "invalid_query", "sort: empty field name in %q", raw)
			}
			sort = append(sort, bson.E{Key: part, Value: dir})
		}
	}
	if err := db.ValidateSort(sort); err != nil {
		return nil, err
	}
	return sort, nil
}

// parseSortJSON reads a JSON object of field → 1 or -1 in its written order.
func parseSortJSON(raw string) (bson.D, error) {
	bad := Errorf(http.StatusBadRequest, "invalid_query", `sort must be like "-created_at,name" or {"created_at":-1,"name":1}`)
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad
	}
	var sort bson.D
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return nil, bad
		}
		tok, err = dec.Token()
		num, ok := tok.(json.Number)
		if err != nil || !ok {
			return nil, bad
		}
		switch num {
		case "1":
			sort = append(sort, bson.E{Key: key, Value: 1})
		case "-1":
			sort = append(sort, bson.E{Key: key, Value: -1})
		default:
			return nil, Errorf(http.StatusBadRequest, "invalid_query", "sort: %s must be 1 or -1", key)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, bad
	}
	if _, err := dec.Token(); err == nil {
		return nil, bad
	}
	return sort, nil
}

// parseFields reads "name,age" (only those fields, and _id) or "-secret"
// (every field but those) into a projection.
func parseFields(raw string) (bson.M, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	proj := bson.M{}
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		v := 1
		if strings.HasPrefix(part, "-") {
			part, v = part[1:], 0
		}
		if part == "" {
			return nil, Errorf(http.StatusBadRequest, "invalid_query", "fields: empty field name in %q", raw)
		}
		proj[part] = v
	}
	if err := db.ValidateProjection(proj); err != nil {
		return nil, err
	}
	return proj, nil
}
