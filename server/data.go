package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
)

// bindDataApi registers the documents API over the app's collections.
func bindDataApi(s *Server, r fiber.Router) {
	g := r.Group("/api/db")
	g.Get("/:collection", s.listDocs)
	g.Post("/:collection", s.createDoc)
	g.Get("/:collection/:id", s.getDoc)
	g.Patch("/:collection/:id", s.patchDoc)
	g.Put("/:collection/:id", s.replaceDoc)
	g.Delete("/:collection/:id", s.deleteDoc)
}

// dataTarget is the collection a data request addresses, its rules and the
// caller.
type dataTarget struct {
	name   string
	col    db.Collection
	access db.Access
	user   *User
}

// target resolves the collection of the URL. System collections do not
// exist for clients (404); a name no store accepts is 400.
func (s *Server) target(c *fiber.Ctx) (dataTarget, error) {
	name := strings.Clone(c.Params("collection")) // kept beyond the request in ownerIndexed
	if db.IsSystemCollection(name) {
		return dataTarget{}, Errorf(http.StatusNotFound, "not_found", "no collection %s", name)
	}
	if name == db.UsersCollection {
		return dataTarget{}, Errorf(http.StatusNotFound, "not_found", "no collection users: users are the accounts; a signed-in user reads and changes their own at /api/auth/me")
	}
	if err := db.ValidateCollectionName(name); err != nil {
		return dataTarget{}, err
	}
	u, err := s.CurrentUser(c)
	if err != nil {
		return dataTarget{}, err
	}
	return dataTarget{name: name, col: s.store.C(name), access: s.cfg.Collections[name].Access(), user: u}, nil
}

func (t dataTarget) userID() string {
	if t.user == nil {
		return ""
	}
	return t.user.ID
}

// scope is the filter the caller's rules add to every query (nil for all
// documents), or the refusal.
func (t dataTarget) scope(write bool) (bson.M, error) { return t.access.Scope(t.userID(), write) }

// byID selects the document of the URL's id within scope.
func byID(c *fiber.Ctx, scope bson.M) bson.M {
	return db.And(db.ByID(parseID(c.Params("id"))), scope)
}

// eventData is the payload of doc_created, doc_updated and doc_deleted.
func (t dataTarget) eventData(doc bson.M) map[string]any {
	return map[string]any{"collection": t.name, "id": idString(doc[fieldID]), "doc": doc, "user": t.user.EventData()}
}

func idString(id any) string {
	if oid, ok := id.(primitive.ObjectID); ok {
		return oid.Hex()
	}
	return fmt.Sprint(id)
}

// answerDoc writes doc as the response, or only its _id when the caller may
// write the document but not read it.
func (s *Server) answerDoc(c *fiber.Ctx, t dataTarget, status int, doc bson.M) error {
	scope, err := t.scope(false)
	visible := err == nil
	for k, v := range scope {
		visible = visible && doc[k] == v
	}
	if !visible {
		return c.Status(status).JSON(fiber.Map{fieldID: idString(doc[fieldID])})
	}
	return c.Status(status).JSON(docJSON(doc))
}

// listDocs answers 200 {items, limit, skip[, total]}.
func (s *Server) listDocs(c *fiber.Ctx) error {
	t, err := s.target(c)
	if err != nil {
		return err
	}
	scope, err := t.scope(false)
	if err != nil {
		return err
	}
	q, err := s.parseListQuery(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	filter := db.And(q.filter, scope)
	docs, err := t.col.Find(ctx, filter, &q.opts)
	if err != nil {
		return err
	}
	items := make([]any, len(docs))
	for i, d := range docs {
		items[i] = docJSON(d)
	}
	answer := fiber.Map{"items": items, "limit": q.opts.Limit, "skip": q.opts.Skip}
	if q.count {
		total, err := t.col.Count(ctx, filter)
		if err != nil {
			return err
		}
		answer["total"] = total
	}
	return c.JSON(answer)
}

// getDoc answers 200 with the document, 404 when it is missing or outside
// the caller's scope.
func (s *Server) getDoc(c *fiber.Ctx) error {
	t, err := s.target(c)
	if err != nil {
		return err
	}
	scope, err := t.scope(false)
	if err != nil {
		return err
	}
	proj, err := parseFields(c.Query("fields"))
	if err != nil {
		return err
	}
	doc, err := t.col.FindOne(c.UserContext(), byID(c, scope), &db.FindOptions{Projection: proj})
	if err != nil {
		return err
	}
	return c.JSON(docJSON(doc))
}

// docBody reads and checks a document a client sends.
func (s *Server) docBody(c *fiber.Ctx) (bson.M, error) {
	body, err := s.jsonBody(c)
	if err != nil {
		return nil, err
	}
	if err := db.ValidateDocument(body, s.limits); err != nil {
		return nil, err
	}
	return body, checkReservedFields(body)
}

// createDoc stores a new document, owned by the signed-in user if any:
// 201 with the document and its Location.
func (s *Server) createDoc(c *fiber.Ctx) error {
	t, err := s.target(c)
	if err != nil {
		return err
	}
	if _, err := t.scope(true); err != nil {
		return err
	}
	doc, err := s.docBody(c)
	if err != nil {
		return err
	}
	if err := refuseServerFields(doc); err != nil {
		return err
	}
	if t.user != nil {
		doc[db.OwnerField] = t.user.ID
	}
	ts := now()
	doc[fieldCreatedAt], doc[fieldUpdatedAt] = ts, ts

	ctx := c.UserContext()
	if err := s.ensureOwnerIndex(ctx, t.name); err != nil {
		return err
	}
	// The _id is chosen here so that a write that may have happened can be
	// found again (events.Check).
	id := primitive.NewObjectID()
	doc[fieldID] = id
	_, err = s.events.Commit(ctx, events.Change{
		Name: events.DocCreated,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			if _, err := tx.C(t.name).InsertOne(ctx, doc); err != nil {
				return nil, err
			}
			return t.eventData(doc), nil
		},
		Pending: func(context.Context) (map[string]any, error) { return t.eventData(doc), nil },
		Check:   events.Check{Collection: t.name, Filter: db.ByID(id), Exists: true},
	})
	if err != nil {
		return err
	}
	c.Location("/api/db/" + t.name + "/" + url.PathEscape(idString(id)))
	return s.answerDoc(c, t, http.StatusCreated, doc)
}

// patchDoc sets the given top-level fields, leaving the others: 200 with
// the updated document.
func (s *Server) patchDoc(c *fiber.Ctx) error {
	t, err := s.target(c)
	if err != nil {
		return err
	}
	scope, err := t.scope(true)
	if err != nil {
		return err
	}
	body, err := s.docBody(c)
	if err != nil {
		return err
	}
	if err := checkIDField(body, c.Params("id")); err != nil {
		return err
	}
	ctx := c.UserContext()
	filter := byID(c, scope)
	if hasServerFields(body) {
		stored, err := t.col.FindOne(ctx, filter, nil)
		if err != nil {
			return err
		}
		if err := dropUnchangedServerFields(body, stored); err != nil {
			return err
		}
	}
	ts := now()
	body[fieldUpdatedAt] = ts
	var doc bson.M
	_, err = s.events.Commit(ctx, events.Change{
		Name: events.DocUpdated,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			doc, err = tx.C(t.name).FindOneAndUpdate(ctx, filter, bson.M{"$set": body}, &db.FindOneAndUpdateOptions{ReturnAfter: true})
			if err != nil {
				return nil, err
			}
			return t.eventData(doc), nil
		},
		Pending: t.pendingDoc(filter),
		Check:   t.updateCheck(c, ts),
	})
	if err != nil {
		return err
	}
	return s.answerDoc(c, t, http.StatusOK, doc)
}

// replaceDoc replaces the document's fields with the body's, keeping its
// _id, _owner and _created_at: 200 with the new document.
func (s *Server) replaceDoc(c *fiber.Ctx) error {
	t, err := s.target(c)
	if err != nil {
		return err
	}
	scope, err := t.scope(true)
	if err != nil {
		return err
	}
	doc, err := s.docBody(c)
	if err != nil {
		return err
	}
	if err := checkIDField(doc, c.Params("id")); err != nil {
		return err
	}
	ctx := c.UserContext()
	filter := byID(c, scope)
	ts := now()
	var out bson.M
	_, err = s.events.Commit(ctx, events.Change{
		Name: events.DocUpdated,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			col := tx.C(t.name)
			stored, err := col.FindOne(ctx, filter, nil)
			if err != nil {
				return nil, err
			}
			// A copy, so that a retried transaction starts from the body.
			out = make(bson.M, len(doc)+4)
			for k, v := range doc {
				out[k] = v
			}
			if err := dropUnchangedServerFields(out, stored); err != nil {
				return nil, err
			}
			for _, f := range []string{db.OwnerField, fieldCreatedAt} {
				if v, ok := stored[f]; ok {
					out[f] = v
				}
			}
			out[fieldUpdatedAt] = ts
			res, err := col.ReplaceOne(ctx, filter, out, nil)
			if err != nil {
				return nil, err
			}
			if res.Matched == 0 { // deleted since it was read
				return nil, db.ErrNotFound
			}
			out[fieldID] = stored[fieldID]
			return t.eventData(out), nil
		},
		Pending: t.pendingDoc(filter),
		Check:   t.updateCheck(c, ts),
	})
	if err != nil {
		return err
	}
	return s.answerDoc(c, t, http.StatusOK, out)
}

// deleteDoc deletes the document: 204.
func (s *Server) deleteDoc(c *fiber.Ctx) error {
	t, err := s.target(c)
	if err != nil {
		return err
	}
	scope, err := t.scope(true)
	if err != nil {
		return err
	}
	change := t.deleteChange(byID(c, scope), parseID(c.Params("id")), t.eventData)
	if _, err := s.events.Commit(c.UserContext(), change); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// deleteChange deletes the document filter selects (id is its _id) with
// its doc_deleted, whose data is eventData of the document as it was; it
// fails with db.ErrNotFound when there is none, deleted by someone else
// meanwhile included.
func (t dataTarget) deleteChange(filter bson.M, id any, eventData func(bson.M) map[string]any) events.Change {
	return events.Change{
		Name: events.DocDeleted,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			col := tx.C(t.name)
			// Read first, so doc_deleted carries what was deleted.
			stored, err := col.FindOne(ctx, filter, nil)
			if err != nil {
				return nil, err
			}
			n, err := col.DeleteOne(ctx, filter)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, db.ErrNotFound
			}
			return eventData(stored), nil
		},
		Pending: func(ctx context.Context) (map[string]any, error) {
			stored, err := t.col.FindOne(ctx, filter, nil)
			if err != nil {
				return nil, err
			}
			return eventData(stored), nil
		},
		Check: events.Check{Collection: t.name, Filter: db.ByID(id), Exists: false},
	}
}

// pendingDoc is the event data of a change to the document filter
// selects, as it is before the change (see events.Change.Pending).
func (t dataTarget) pendingDoc(filter bson.M) func(context.Context) (map[string]any, error) {
	return func(ctx context.Context) (map[string]any, error) {
		stored, err := t.col.FindOne(ctx, filter, nil)
		if err != nil {
			return nil, err
		}
		return t.eventData(stored), nil
	}
}

// updateCheck finds an update of the URL's document by the _updated_at it
// set.
func (t dataTarget) updateCheck(c *fiber.Ctx, ts any) events.Check {
	return events.Check{Collection: t.name, Filter: bson.M{fieldID: parseID(c.Params("id")), fieldUpdatedAt: ts}, Exists: true}
}

// ensureOwnerIndex indexes _owner once per collection and process: the
// owner rule filters every query on it.
func (s *Server) ensureOwnerIndex(ctx context.Context, name string) error {
	if _, ok := s.ownerIndexed.Load(name); ok {
		return nil
	}
	if err := s.store.C(name).EnsureIndex(ctx, db.Index{Keys: []db.IndexKey{{Field: db.OwnerField}}}); err != nil {
		return fmt.Errorf("ensure _owner index on %s: %w", name, err)
	}
	s.ownerIndexed.Store(name, struct{}{})
	return nil
}
