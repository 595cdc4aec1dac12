package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// The admin lists page with cursors, as the webhooks lists do: a list
// ordered newest first takes ?before=<id of the last item seen>, one
// ordered by name ?after=<last name seen>, both with ?limit=, and each
// answers `next`, the cursor of the following page ("" on the last). A
// cursor is an item, not a position, so a page does not shift when items
// are added at the front while someone pages, and a deep page costs what
// the first one does where an index serves the order.

// maxCursorLen bounds a cursor; ids and names are far shorter.
const maxCursorLen = 256

// cursorParam reads the cursor query parameter name, copied out of
// fasthttp's buffer.
func cursorParam(c *fiber.Ctx, name string) (string, error) {
	v := c.Query(name)
	if len(v) > maxCursorLen {
		return "", badInput("%s is longer than %d characters: give the next of the previous page", name, maxCursorLen)
	}
	return strings.Clone(v), nil
}

// nextCursor is the cursor of the page after one that held n items, the
// last being last: "" when the page was not full.
func nextCursor(n, limit int, last string) string {
	if n < limit || n == 0 {
		return ""
	}
	return last
}

// olderThan narrows filter to the documents of col that come after the
// one with id before in the order (field descending, _id descending).
// what names the items for the error about a cursor that names none
// (deleted since, or made up).
func olderThan(ctx context.Context, col db.Collection, filter bson.M, field, before, what string) (bson.M, error) {
	if filter == nil {
		filter = bson.M{}
	}
	if before == "" {
		return filter, nil
	}
	// Some collections' ids are ObjectIDs, others (events) their hex as
	// a string; the cursor is the id as the list showed it.
	ids := bson.A{before}
	if oid, err := primitive.ObjectIDFromHex(before); err == nil {
		ids = append(ids, oid)
	}
	doc, err := col.FindOne(ctx, bson.M{"_id": bson.M{"$in": ids}}, &db.FindOptions{Projection: bson.M{field: 1}})
	if errors.Is(err, db.ErrNotFound) {
		return nil, badInput("before: there is no %s %q (it may have been deleted since); start again from the first page", what, before)
	}
	if err != nil {
		return nil, fmt.Errorf("read the %s a page starts after: %w", what, err)
	}
	at := doc[field]
	filter["$or"] = bson.A{
		bson.M{field: bson.M{"$lt": at}},
		bson.M{field: at, "_id": bson.M{"$lt": doc["_id"]}},
	}
	return filter, nil
}
