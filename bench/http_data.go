package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/server"
)

// httpConns is the number of concurrent clients, each on its own
// keep-alive connection, of the HTTP scenarios.
const httpConns = 64

// httpDataCollection is the data API collection the scenarios use.
const httpDataCollection = "people"

// httpDataScenarios measure the data API over real HTTP on loopback next to
// a bare fiber app doing the same HTTP work (decode a JSON body and answer
// it, or answer a stored JSON document) without middleware, sign-in, access
// rules or a store: the ratio of the two is what Moonbase's layers cost.
// Client and server share the process, so the peak RSS is of both.
func httpDataScenarios() []Scenario {
	return []Scenario{
		{
			Name:    "http/fiber/create",
			About:   "POST a ~250-byte JSON document to a bare fiber handler that decodes it and answers it with an id (201)",
			Workers: httpConns,
			Setup: func(ctx context.Context, env *Env) (Op, error) {
				base, err := bareFiber(env)
				if err != nil {
					return nil, err
				}
				return createOp(base+"/items", ""), nil
			},
		},
		{
			Name:    "http/fiber/get-by-id",
			About:   "GET /items/:id from a bare fiber handler that builds the document and encodes it as JSON",
			Workers: httpConns,
			Setup: func(ctx context.Context, env *Env) (Op, error) {
				base, err := bareFiber(env)
				if err != nil {
					return nil, err
				}
				return getOp(base+"/items/", "", env.Docs, func(i int) string { return strconv.Itoa(i) }), nil
			},
		},
		{
			Name:    "http/data/create",
			About:   "POST /api/db/people as a signed-in user (owner rule): sign-in lookup, validation, insert, doc_created recorded (201)",
			Workers: httpConns,
			Setup: func(ctx context.Context, env *Env) (Op, error) {
				d, err := dataServer(ctx, env)
				if err != nil {
					return nil, err
				}
				return createOp(d.url+"/api/db/"+httpDataCollection, d.token), nil
			},
		},
		{
			Name:    "http/data/get-by-id",
			About:   "GET /api/db/people/:id of a random one of -docs documents owned by the signed-in user",
			Workers: httpConns,
			Setup: func(ctx context.Context, env *Env) (Op, error) {
				d, err := dataServer(ctx, env)
				if err != nil {
					return nil, err
				}
				if err := d.load(ctx, env); err != nil {
					return nil, err
				}
				return getOp(d.url+"/api/db/"+httpDataCollection+"/", d.token, len(d.ids), func(i int) string { return d.ids[i] }), nil
			},
		},
	}
}

// httpClient keeps one connection per worker.
func httpClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: httpConns, MaxConnsPerHost: httpConns},
	}
}

// personJSON is person(i) as a client sends it.
func personJSON(i int) []byte {
	p := person(i)
	p["created"] = p["created"].(primitive.DateTime).Time().UTC().Format(time.RFC3339)
	b, _ := json.Marshal(p)
	return b
}

// createOp POSTs a new person and checks the 201.
func createOp(url, token string) Op {
	client := httpClient()
	var next atomic.Int64
	return func(ctx context.Context, w *Worker) error {
		i := int(next.Add(1))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(personJSON(i)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return expectAnswer(client, req, http.StatusCreated, personEmail(i))
	}
}

// getOp GETs a random one of n documents and checks it is the one asked for.
func getOp(prefix, token string, n int, id func(int) string) Op {
	client := httpClient()
	return func(ctx context.Context, w *Worker) error {
		i := w.Rand.IntN(n)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, prefix+id(i), nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return expectAnswer(client, req, http.StatusOK, personEmail(i))
	}
}

// expectAnswer sends req and checks the status and that the body holds want.
func expectAnswer(client *http.Client, req *http.Request, status int, want string) error {
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != status {
		return fmt.Errorf("%s %s: status %d: %.200s", req.Method, req.URL.Path, res.StatusCode, body)
	}
	if !bytes.Contains(body, []byte(want)) {
		return fmt.Errorf("%s %s: answer lacks %s: %.200s", req.Method, req.URL.Path, want, body)
	}
	return nil
}

// bareFiber starts, once per run, a fiber app with the two handlers the
// data API scenarios are compared with, and returns its base URL. Like the
// data API, they decode and encode JSON on every request.
func bareFiber(env *Env) (string, error) {
	return Shared(env, "http/fiber", func() (string, error) {
		var ids atomic.Int64
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Post("/items", func(c *fiber.Ctx) error {
			var doc map[string]any
			if err := json.Unmarshal(c.Body(), &doc); err != nil {
				return fiber.ErrBadRequest
			}
			doc["_id"] = strconv.FormatInt(ids.Add(1), 10)
			return c.Status(http.StatusCreated).JSON(doc)
		})
		app.Get("/items/:id", func(c *fiber.Ctx) error {
			i, err := strconv.Atoi(c.Params("id"))
			if err != nil || i < 0 || i >= env.Docs {
				return fiber.ErrNotFound
			}
			doc := person(i)
			doc["_id"] = c.Params("id")
			doc["created"] = doc["created"].(primitive.DateTime).Time().UTC().Format(time.RFC3339)
			return c.JSON(doc)
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		go func() { _ = app.Listener(ln) }()
		env.Cleanup(app.Shutdown)
		return "http://" + ln.Addr().String(), nil
	})
}

// dataRun is a Moonbase server on the embedded store with one signed-in
// user.
type dataRun struct {
	srv   *server.Server
	url   string
	token string
	user  string
	ids   []string
}

// dataServer starts, once per run, a Moonbase server with its default
// configuration (request logs included, written nowhere) on the embedded
// store, and signs a user up.
func dataServer(ctx context.Context, env *Env) (*dataRun, error) {
	return Shared(env, "http/data/server", func() (*dataRun, error) {
		cfg := server.DefaultConfig()
		cfg.Server.Addr = "127.0.0.1:0"
		cfg.DataDir = filepath.Join(env.Dir, "http-data")
		cfg.AdminToken = "bench-admin-token-0123456789"
		cfg.Collections = map[string]server.CollectionConfig{httpDataCollection: {}}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv, err := server.New(cfg, server.Deps{Logger: logger, Stderr: io.Discard})
		if err != nil {
			return nil, err
		}
		if err := srv.Start(ctx); err != nil {
			_ = srv.Shutdown(ctx)
			return nil, err
		}
		env.Cleanup(func() error {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
		d := &dataRun{srv: srv, url: srv.URL()}
		body := `{"email":"bench@example.com","password":"bench password"}`
		res, err := http.Post(d.url+"/api/auth/register", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		var answer struct {
			Token string `json:"token"`
			User  struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		if err := json.NewDecoder(res.Body).Decode(&answer); err != nil || res.StatusCode != http.StatusCreated {
			return nil, fmt.Errorf("register: status %d, %v", res.StatusCode, err)
		}
		d.token, d.user = answer.Token, answer.User.ID
		return d, nil
	})
}

// load stores -docs people owned by the user, once per run, straight
// through the store: HTTP is what get-by-id measures, not what fills it.
func (d *dataRun) load(ctx context.Context, env *Env) error {
	_, err := Shared(env, "http/data/people", func() (bool, error) {
		const batch = 1000
		c := d.srv.Store().C(httpDataCollection)
		now := time.Now().UTC()
		docs := make([]bson.M, 0, batch)
		for i := 0; i < env.Docs; i += batch {
			docs = docs[:0]
			for j := i; j < min(i+batch, env.Docs); j++ {
				p := person(j)
				p[db.OwnerField], p["_created_at"], p["_updated_at"] = d.user, now, now
				docs = append(docs, p)
			}
			ids, err := c.InsertMany(ctx, docs)
			if err != nil {
				return false, fmt.Errorf("load %s: %w", httpDataCollection, err)
			}
			for _, id := range ids {
				d.ids = append(d.ids, id.(primitive.ObjectID).Hex())
			}
		}
		return true, nil
	})
	return err
}
