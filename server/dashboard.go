package server

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// bindDashboardApi registers the admin routes the dashboard needs beyond
// those the CLI uses: a compile check, a schedule preview, run and job
// statistics, and read-only browsing of collections and users. Like every
// /api/admin route they take the admin token or a dashboard session.
func bindDashboardApi(s *Server, r fiber.Router) {
	g := r.Group("/api/admin")
	g.Post("/functions/compile", s.adminCompileFunction)
	g.Get("/functions/:name/stats", s.adminFunctionStats)
	g.Get("/jobs/stats", s.adminJobStats)
	g.Get("/schedules/preview", s.adminPreviewSchedule)
	g.Get("/collections/:collection/documents", s.adminBrowseDocuments)
	g.Get("/collections/:collection/documents/:id", s.adminGetDocument)
	g.Get("/users", s.adminListUsers)
	g.Post("/events", s.adminPublishEvent)
}

// adminPublishEvent publishes a custom event as the admin: body {name,
// data}, answer 202 {id}. The names and limits are those of POST
// /api/events; the data carries no user.
func (s *Server) adminPublishEvent(c *fiber.Ctx) error {
	name, data, err := s.eventBody(c)
	if err != nil {
		return err
	}
	if err := events.ValidateEventName(name); err != nil {
		return err
	}
	ev, err := s.jobs.Bus.Publish(context.WithoutCancel(c.UserContext()), name, data)
	if err != nil {
		return err
	}
	return c.Status(http.StatusAccepted).JSON(fiber.Map{"id": ev.ID})
}

// adminCompileFunction compiles {source, handler?, name?} exactly as a
// save would, without saving or running anything: 200 {ok: true}, or 400
// compile_error with details {line, column}.
func (s *Server) adminCompileFunction(c *fiber.Ctx) error {
	var req struct {
		Name    string `json:"name"`
		Source  string `json:"source"`
		Handler string `json:"handler"`
	}
	if err := s.strictBody(c, &req, "source, handler, name"); err != nil {
		return err
	}
	if req.Name == "" {
		req.Name = engine.TestName
	}
	if err := s.functions.Validate(functions.Definition{Name: req.Name, Source: req.Source, Handler: req.Handler}); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": true})
}

// statsWindows are the windows the stats routes take, each cut into 60
// buckets.
var statsWindows = map[string]time.Duration{
	"15m": 15 * time.Minute, "1h": time.Hour, "6h": 6 * time.Hour, "24h": 24 * time.Hour, "1d": 24 * time.Hour,
}

// statsWindow reads ?window= (default 1h): the window and its bucket.
func statsWindow(c *fiber.Ctx) (time.Duration, time.Duration, error) {
	w := c.Query("window", "1h")
	d, ok := statsWindows[w]
	if !ok {
		return 0, 0, badInput("window must be 15m, 1h, 6h or 24h, not %q", w)
	}
	return d, d / 60, nil
}

// runBucket is one slice of a function's stats window.
type runBucket struct {
	At     time.Time `json:"at"`
	Runs   int       `json:"runs"`
	Errors int       `json:"errors"` // runs that ended in error or timeout
	P50Ms  float64   `json:"p50_ms"`
	P99Ms  float64   `json:"p99_ms"`
}

// lastRun is a function's most recent run.
type lastRun struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	StartedAt time.Time `json:"started_at"`
}

// adminFunctionStats answers GET /api/admin/functions/:name/stats?window=1h
// with {function, window, since, bucket_seconds, buckets: [{at, runs,
// errors, p50_ms, p99_ms}], runs, errors, error_rate, p50_ms, p99_ms,
// last_run}, computed from the function's execution records. Test-runs
// of unsaved text (version 0) are not counted.
func (s *Server) adminFunctionStats(c *fiber.Ctx) error {
	window, bucket, err := statsWindow(c)
	if err != nil {
		return err
	}
	name := nameParam(c)
	if err := functions.ValidateName(name); err != nil {
		return err
	}
	ctx := c.UserContext()
	// The newest record also flushes the runs still buffered, so the
	// counts below include every run that has returned.
	latest, err := s.functions.Executions(ctx, name, 1)
	if err != nil {
		return err
	}
	now := time.Now()
	since := now.Add(-window).Truncate(bucket)
	n := int(now.Sub(since)/bucket) + 1
	buckets := make([]runBucket, n)
	durations := make([][]float64, n)
	for i := range buckets {
		buckets[i].At = since.Add(time.Duration(i) * bucket).UTC()
	}
	var all []float64
	errs := 0
	// A document of _executions is a pack of runs whose started_at is its
	// newest run's, or (written before packs) a single run: every pack
	// with a run in the window starts in it.
	docs, err := s.store.C(db.Executions).Find(ctx, bson.M{"function": name, "started_at": bson.M{"$gte": since}}, nil)
	if err != nil {
		return err
	}
	count := func(run bson.M) {
		t := timeValue(run["started_at"])
		// Version 0 marks test-runs of unsaved text.
		if t.Before(since) || durationMs(run["version"]) == 0 {
			return
		}
		i := min(int(t.Sub(since)/bucket), n-1)
		buckets[i].Runs++
		if st, _ := run["status"].(string); st != functions.StatusOK {
			buckets[i].Errors++
			errs++
		}
		d := durationMs(run["duration_ms"])
		durations[i] = append(durations[i], d)
		all = append(all, d)
	}
	for _, d := range docs {
		runs, packed := d["runs"].(bson.A)
		if !packed {
			count(d)
			continue
		}
		for _, r := range runs {
			if m, ok := r.(bson.M); ok {
				count(m)
			}
		}
	}
	for i := range buckets {
		buckets[i].P50Ms, buckets[i].P99Ms = percentile(durations[i], 0.50), percentile(durations[i], 0.99)
	}
	ans := fiber.Map{
		"function": name, "window": window.String(), "since": since.UTC(), "bucket_seconds": int(bucket / time.Second),
		"buckets": buckets, "runs": len(all), "errors": errs, "error_rate": 0.0,
		"p50_ms": percentile(all, 0.50), "p99_ms": percentile(all, 0.99), "last_run": nil,
	}
	if len(all) > 0 {
		ans["error_rate"] = float64(errs) / float64(len(all))
	}
	if len(latest) > 0 {
		ans["last_run"] = lastRun{ID: latest[0].ID, Status: latest[0].Status, StartedAt: latest[0].StartedAt.UTC()}
	}
	return c.JSON(ans)
}

func durationMs(v any) float64 {
	switch d := v.(type) {
	case float64:
		return d
	case int64:
		return float64(d)
	case int32:
		return float64(d)
	}
	return 0
}

// percentile is the nearest-rank percentile of ds (sorted in place); 0 for
// none.
func percentile(ds []float64, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// adminJobStats answers GET /api/admin/jobs/stats?window=1h with the
// queue's activity per bucket and its jobs in each state now
// (events.JobStats).
func (s *Server) adminJobStats(c *fiber.Ctx) error {
	window, bucket, err := statsWindow(c)
	if err != nil {
		return err
	}
	st, err := s.jobs.Queue.Stats(c.UserContext(), time.Now().Add(-window), bucket)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// adminPreviewSchedule answers GET /api/admin/schedules/preview?expression=
// &timezone=&count=5 with {expression, timezone, normalized, next: [RFC
// 3339 × count]}: what a schedule trigger with that expression would do.
// An expression that does not parse is 400 invalid_trigger with the
// parser's explanation.
func (s *Server) adminPreviewSchedule(c *fiber.Ctx) error {
	expr := c.Query("expression")
	if strings.TrimSpace(expr) == "" {
		return badInput("expression is required: a phrase (daily at 09:00), cron (0 9 * * *) or RRULE")
	}
	n := 5
	if raw := c.Query("count"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 || v > 50 {
			return badInput("count must be a number from 1 to 50")
		}
		n = v
	}
	p, err := events.PreviewSchedule(strings.Clone(expr), strings.Clone(c.Query("timezone")), time.Now(), n)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// browsable refuses what the dashboard may not browse: Moonbase's own
// collections (they have screens of their own) and bad names.
func browsable(c *fiber.Ctx) (string, error) {
	name := strings.Clone(c.Params("collection"))
	if err := db.ValidateCollectionName(name); err != nil {
		return "", err
	}
	if db.IsSystemCollection(name) {
		return "", Errorf(http.StatusNotFound, "not_found", "collection %q is Moonbase's own; its records have screens of their own", name)
	}
	return name, nil
}

// adminBrowseDocuments lists a collection's documents, whatever its access
// rules: ?filter=&sort=&limit=&skip=&fields= as on the data API, answered
// as {items, limit, skip, total}. It only reads.
func (s *Server) adminBrowseDocuments(c *fiber.Ctx) error {
	name, err := browsable(c)
	if err != nil {
		return err
	}
	q, err := s.parseListQuery(c)
	if err != nil {
		return err
	}
	if q.opts.Sort == nil {
		q.opts.Sort = bson.D{{Key: "_id", Value: -1}}
	}
	ctx := c.UserContext()
	col := s.store.C(name)
	docs, err := col.Find(ctx, q.filter, &q.opts)
	if err != nil {
		return err
	}
	total, err := col.Count(ctx, q.filter)
	if err != nil {
		return err
	}
	items := make([]any, len(docs))
	for i, d := range docs {
		items[i] = docJSON(d)
	}
	return c.JSON(fiber.Map{"items": items, "limit": q.opts.Limit, "skip": q.opts.Skip, "total": total})
}

// adminGetDocument answers one document of a collection, whatever its
// access rules; 404 not_found when there is none.
func (s *Server) adminGetDocument(c *fiber.Ctx) error {
	name, err := browsable(c)
	if err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	var key any = id
	if oid, err := primitive.ObjectIDFromHex(id); err == nil {
		key = oid
	}
	doc, err := s.store.C(name).FindOne(c.UserContext(), db.ByID(key), nil)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"document": docJSON(doc)})
}

// adminListUsers answers GET /api/admin/users?email=&limit=&skip= with
// {users: [{id, email, name, verified, created_at, …}], limit, skip, total}, newest
// first; email narrows to the addresses containing it (any case).
func (s *Server) adminListUsers(c *fiber.Ctx) error {
	limit, skip := int64(defaultListLimit), int64(0)
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 || n > maxListLimit {
			return badInput("limit must be a whole number from 1 to %d", maxListLimit)
		}
		limit = n
	}
	if raw := c.Query("skip"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return badInput("skip must be a whole number, 0 or more")
		}
		skip = n
	}
	var filter bson.M
	if q := strings.TrimSpace(c.Query("email")); q != "" {
		if len(q) > maxEmailBytes {
			return badInput("email must be at most %d bytes", maxEmailBytes)
		}
		filter = bson.M{"email": bson.M{"$regex": regexp.QuoteMeta(strings.ToLower(q))}}
	}
	ctx := c.UserContext()
	col := s.store.C(db.Users)
	docs, err := col.Find(ctx, filter, &db.FindOptions{Sort: bson.D{{Key: "_id", Value: -1}}, Limit: limit, Skip: skip})
	if err != nil {
		return err
	}
	total, err := col.Count(ctx, filter)
	if err != nil {
		return err
	}
	users := make([]*User, 0, len(docs))
	for _, d := range docs {
		u, err := userFromDoc(d)
		if err != nil {
			return err
		}
		users = append(users, u)
	}
	return c.JSON(fiber.Map{"users": users, "limit": limit, "skip": skip, "total": total})
}
