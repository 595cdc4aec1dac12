package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/db/mongostore"
)

// benchDatabase is the MongoDB database the benchmark writes to; its
// collections are dropped before and after the run.
const benchDatabase = "moonbase_bench"

// storeImpl is one db.Store implementation the store scenarios run on.
type storeImpl struct {
	name string
	open func(ctx context.Context, env *Env) (db.Store, error)
}

// storeImpls lists the stores that can run here: the embedded store
// always, MongoDB when a URI is given.
func storeImpls(mongoURI string) []storeImpl {
	impls := []storeImpl{{
		name: "embedded",
		open: func(_ context.Context, env *Env) (db.Store, error) {
			return embedded.Open(embedded.Config{Dir: filepath.Join(env.Dir, "embedded")})
		},
	}}
	if mongoURI != "" {
		impls = append(impls, storeImpl{
			name: "mongodb",
			open: func(ctx context.Context, _ *Env) (db.Store, error) {
				return mongostore.Open(ctx, mongostore.Config{URI: mongoURI, Database: benchDatabase})
			},
		})
	}
	return impls
}

// storeScenarios are the store's workloads, each on every implementation.
func storeScenarios(impls []storeImpl) []Scenario {
	var out []Scenario
	for _, impl := range impls {
		prefix := "store/" + impl.name + "/"
		out = append(out,
			Scenario{
				Name:  prefix + "get-by-id",
				About: "FindOne({_id}) of a random document of -docs",
				Setup: func(ctx context.Context, env *Env) (Op, error) {
					p, err := loadedCollection(ctx, env, impl, "people")
					if err != nil {
						return nil, err
					}
					return func(ctx context.Context, w *Worker) error {
						i := w.Rand.IntN(len(p.ids))
						doc, err := p.c.FindOne(ctx, db.ByID(p.ids[i]), nil)
						if err != nil {
							return err
						}
						return expectEmail(doc, i)
					}, nil
				},
			},
			Scenario{
				Name:  prefix + "find-one-by-indexed-field",
				About: "FindOne({email}) of a random document of -docs, email uniquely indexed",
				Setup: func(ctx context.Context, env *Env) (Op, error) {
					p, err := loadedCollection(ctx, env, impl, "people")
					if err != nil {
						return nil, err
					}
					return func(ctx context.Context, w *Worker) error {
						i := w.Rand.IntN(len(p.ids))
						doc, err := p.c.FindOne(ctx, bson.M{"email": personEmail(i)}, nil)
						if err != nil {
							return err
						}
						return expectEmail(doc, i)
					}, nil
				},
			},
			Scenario{
				Name:  prefix + "insert-one",
				About: "InsertOne of a new ~240-byte document into a collection with a unique index on email",
				Setup: func(ctx context.Context, env *Env) (Op, error) {
					c, err := freshCollection(ctx, env, impl, "inserts")
					if err != nil {
						return nil, err
					}
					var seq atomic.Int64
					return func(ctx context.Context, _ *Worker) error {
						_, err := c.InsertOne(ctx, person(int(seq.Add(1))))
						return err
					}, nil
				},
			},
			Scenario{
				Name:  prefix + "update-mix",
				About: "50% UpdateOne({_id}, {$inc}), 30% FindOne({_id}), 20% InsertOne, over -docs documents",
				Setup: func(ctx context.Context, env *Env) (Op, error) {
					p, err := loadedCollection(ctx, env, impl, "mix")
					if err != nil {
						return nil, err
					}
					var seq atomic.Int64
					seq.Store(int64(env.Docs))
					inc := bson.M{"$inc": bson.M{"visits": 1}}
					return func(ctx context.Context, w *Worker) error {
						i := w.Rand.IntN(len(p.ids))
						switch r := w.Rand.IntN(100); {
						case r < 50:
							res, err := p.c.UpdateOne(ctx, db.ByID(p.ids[i]), inc, nil)
							if err == nil && res.Matched != 1 {
								err = fmt.Errorf("$inc by id matched %d documents", res.Matched)
							}
							return err
						case r < 80:
							doc, err := p.c.FindOne(ctx, db.ByID(p.ids[i]), nil)
							if err != nil {
								return err
							}
							return expectEmail(doc, i)
						default:
							_, err := p.c.InsertOne(ctx, person(int(seq.Add(1))))
							return err
						}
					}, nil
				},
			},
		)
	}
	return out
}

// openStore opens impl once per run and closes it at the end.
func openStore(ctx context.Context, env *Env, impl storeImpl) (db.Store, error) {
	return Shared(env, "store/"+impl.name, func() (db.Store, error) {
		s, err := impl.open(ctx, env)
		if err != nil {
			return nil, err
		}
		env.Cleanup(func() error { return s.Close(context.Background()) })
		return s, nil
	})
}

// freshCollection returns an empty collection with a unique index on
// email, dropped again when the run ends.
func freshCollection(ctx context.Context, env *Env, impl storeImpl, name string) (db.Collection, error) {
	s, err := openStore(ctx, env, impl)
	if err != nil {
		return nil, err
	}
	c := s.C(name)
	if err := c.Drop(ctx); err != nil && !errors.Is(err, db.ErrNotFound) {
		return nil, fmt.Errorf("drop %s: %w", name, err)
	}
	env.Cleanup(func() error { return c.Drop(context.Background()) })
	idx := db.Index{Keys: []db.IndexKey{{Field: "email"}}, Unique: true}
	if err := c.EnsureIndex(ctx, idx); err != nil {
		return nil, fmt.Errorf("index %s: %w", name, err)
	}
	return c, nil
}

// loaded is a collection of env.Docs people, person(i) having _id ids[i].
type loaded struct {
	c   db.Collection
	ids []any
}

// loadedCollection fills a fresh collection with env.Docs documents, once
// per run, in batches of InsertMany.
func loadedCollection(ctx context.Context, env *Env, impl storeImpl, name string) (*loaded, error) {
	return Shared(env, "store/"+impl.name+"/"+name, func() (*loaded, error) {
		c, err := freshCollection(ctx, env, impl, name)
		if err != nil {
			return nil, err
		}
		const batch = 1000
		l := &loaded{c: c, ids: make([]any, 0, env.Docs)}
		docs := make([]bson.M, 0, batch)
		for i := 0; i < env.Docs; i += batch {
			docs = docs[:0]
			for j := i; j < min(i+batch, env.Docs); j++ {
				docs = append(docs, person(j))
			}
			ids, err := c.InsertMany(ctx, docs)
			if err != nil {
				return nil, fmt.Errorf("load %s: %w", name, err)
			}
			l.ids = append(l.ids, ids...)
		}
		return l, nil
	})
}

// epochUnix (2024-01-01 UTC) anchors the generated documents' dates, so
// runs are repeatable.
const epochUnix = 1704067200

// person is the i-th generated document: about 240 bytes (as BSON) of the kinds of
// values an app stores, with a unique email.
func person(i int) bson.M {
	return bson.M{
		"email":   personEmail(i),
		"name":    "User " + strconv.Itoa(i),
		"age":     int64(18 + i%60),
		"group":   int64(i % 100),
		"score":   float64(i%1000) / 10,
		"active":  i%3 != 0,
		"created": primitive.NewDateTimeFromTime(time.Unix(epochUnix+int64(i), 0)),
		"tags":    bson.A{"t" + strconv.Itoa(i%7), "u" + strconv.Itoa(i%11)},
		"address": bson.M{"city": "City " + strconv.Itoa(i%500), "zip": fmt.Sprintf("%05d", i%100000)},
		"visits":  int64(0),
	}
}

func personEmail(i int) string { return fmt.Sprintf("user%07d@example.com", i) }

// expectEmail checks a lookup found person(i), so a store answering the
// wrong document cannot look fast.
func expectEmail(doc bson.M, i int) error {
	if got, want := doc["email"], personEmail(i); got != want {
		return fmt.Errorf("looked up %s, got %v", want, got)
	}
	return nil
}
