package server

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// errInvalidJSON answers a body that does not parse as JSON.
var errInvalidJSON = &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "request body is not valid JSON"}

// jsonBody decodes the request body as a JSON object under the server's
// limits: integers become int64, other numbers float64, {"$date": …} a
// date and {"$oid": …} an ObjectID (db.FromExtJSON).
func (s *Server) jsonBody(c *fiber.Ctx) (bson.M, error) {
	body := c.Body()
	if len(body) == 0 {
		return nil, badInput("request body is empty; send a JSON object")
	}
	doc, err := db.DecodeJSON(body, s.limits)
	if err != nil && !json.Valid(body) {
		return nil, errInvalidJSON
	}
	if err == nil && db.HasExtJSON(body) {
		doc, err = db.FromExtJSONDoc(doc)
	}
	return doc, err
}

// stringsBody reads a JSON body of exactly the named fields, each a
// required string, and returns their values in the order named.
func (s *Server) stringsBody(c *fiber.Ctx, names ...string) ([]string, error) {
	body, err := s.jsonBody(c)
	if err != nil {
		return nil, err
	}
	if err := onlyFields(body, names...); err != nil {
		return nil, err
	}
	values := make([]string, len(names))
	for i, name := range names {
		if values[i], err = requiredString(body, name); err != nil {
			return nil, err
		}
	}
	return values, nil
}

// stringField reads an optional string field; a value of another type is
// refused by name.
func stringField(doc bson.M, key string) (string, error) {
	v, ok := doc[key]
	if !ok || v == nil {
		return "", nil
	}
	str, ok := v.(string)
	if !ok {
		return "", badInput("%s must be a string", key)
	}
	return str, nil
}

// requiredString reads a string field that must be present and non-empty.
func requiredString(doc bson.M, key string) (string, error) {
	str, err := stringField(doc, key)
	if err != nil {
		return "", err
	}
	if str == "" {
		return "", badInput("%s is required", key)
	}
	return str, nil
}

// onlyFields refuses fields other than allowed, so a misspelt field is an
// error instead of being ignored.
func onlyFields(doc bson.M, allowed ...string) error {
	var unknown []string
	for k := range doc {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return badInput("unknown field %s (expected %s)", strings.Join(unknown, ", "), strings.Join(allowed, ", "))
	}
	return nil
}
