package mongostore

import (
	"context"
	"fmt"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// IndexName is the name MongoDB gives an index by default: each field
// followed by its direction, joined by "_" ("owner_1_created_-1").
func IndexName(keys []db.IndexKey) string {
	parts := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		dir := "1"
		if k.Desc {
			dir = "-1"
		}
		parts = append(parts, k.Field, dir)
	}
	return strings.Join(parts, "_")
}

func (c *collection) EnsureIndex(ctx context.Context, idx db.Index) error {
	if err := c.ready(); err != nil {
		return err
	}
	if len(idx.Keys) == 0 {
		return queryErr("", "an index needs at least one field")
	}
	keys := make(bson.D, 0, len(idx.Keys))
	for _, k := range idx.Keys {
		if k.Field == "" {
			return queryErr("", "an index field name cannot be empty")
		}
		if err := checkPath(k.Field, k.Field); err != nil {
			return err
		}
		dir := 1
		if k.Desc {
			dir = -1
		}
		keys = append(keys, bson.E{Key: k.Field, Value: dir})
	}
	name := idx.Name
	if name == "" {
		name = IndexName(idx.Keys)
	}
	if err := db.ValidateIndexName(name); err != nil {
		return err
	}
	model := mongo.IndexModel{Keys: keys, Options: options.Index().SetName(name).SetUnique(idx.Unique)}
	if _, err := c.coll.Indexes().CreateOne(ctx, model); err != nil {
		if code, _, msg, ok := serverError(err); ok && (code == 85 || code == 86) {
			// IndexOptionsConflict / IndexKeySpecsConflict: the name or the
			// keys are taken by a different index.
			return fmt.Errorf("%w: index %q on %s conflicts with an existing index: %s", db.ErrInvalidName, name, c.name, msg)
		}
		return c.fail("create index on", err)
	}
	return nil
}

func (c *collection) DropIndex(ctx context.Context, name string) error {
	if err := c.ready(); err != nil {
		return err
	}
	if name == db.IDIndex {
		return queryErr(name, "the _id index cannot be dropped")
	}
	if err := db.ValidateIndexName(name); err != nil {
		return err
	}
	if _, err := c.coll.Indexes().DropOne(ctx, name); err != nil {
		if code, _, _, ok := serverError(err); ok && (code == 26 || code == 27) {
			// NamespaceNotFound / IndexNotFound: already gone, perhaps
			// dropped by another instance. FerretDB answers the same codes.
			return nil
		}
		return c.fail("drop index on", err)
	}
	return nil
}
