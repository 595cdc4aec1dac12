package webhooks

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
)

// KindDelivery is the kind of the queue's jobs that deliver one webhook.
const KindDelivery = "webhook"

// Deps are what a Service needs.
type Deps struct {
	// Store holds _webhook_endpoints, _webhook_messages and _deliveries.
	Store db.Store
	// Queue runs deliveries; New registers KindDelivery on it.
	Queue *events.Queue
	// Emitter receives webhook_dead and webhook_endpoint_disabled; nil
	// emits nothing.
	Emitter events.Emitter
	// Transport sends the requests. The server passes the transport of
	// backend.http.request, which refuses loopback, private and link-local
	// addresses at connect time unless functions.http.allow_hosts allows
	// them; nil is http.DefaultTransport's settings keeping up to 64 idle
	// connections per receiver.
	Transport http.RoundTripper
	// CheckHost, when set, is asked about an endpoint URL's host and port
	// when the endpoint is saved, so an address the transport would refuse
	// is refused at once.
	CheckHost func(host, port string) error
	// Logger defaults to slog.Default(); Now to time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

// Service keeps webhook endpoints and delivers messages to them through
// the durable queue.
type Service struct {
	cfg       Config
	deps      Deps
	endpoints db.Collection
	messages  db.Collection
	delivs    db.Collection
	client    *http.Client
	log       *slog.Logger
	now       func() time.Time

	inbound *inboundLog

	paceMu sync.Mutex
	pace   map[string]time.Time // endpoint id → earliest next send
}

// New returns a Service over deps.Store and registers the delivery job
// kind on deps.Queue.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Queue == nil {
		return nil, fmt.Errorf("%w: the webhooks service needs a store and a queue", ErrInvalidConfig)
	}
	cfg = cfg.WithDefaults()
	transport := deps.Transport
	if transport == nil {
		// Deliveries to one receiver come from every queue worker at
		// once; http.DefaultTransport keeps two idle connections per
		// host and would reconnect for most of them.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		transport = t
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.Default()
	}
	s := &Service{
		cfg: cfg, deps: deps, log: logger,
		now:       func() time.Time { return now().UTC().Truncate(time.Millisecond) },
		endpoints: deps.Store.C(db.WebhookEndpoints),
		messages:  deps.Store.C(db.WebhookMessages),
		delivs:    deps.Store.C(db.Deliveries),
		client: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			// A receiver answers; it does not send the delivery elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		pace:    map[string]time.Time{},
		inbound: newInboundLog(deps.Store, logger),
	}
	deps.Queue.RegisterKind(KindDelivery, s.deliver, events.KindOptions{MaxAttempts: cfg.MaxAttempts, Timeout: cfg.Timeout + 5*time.Second})
	deps.Queue.OnDead(s.jobDied)
	return s, nil
}

// Config is the configuration in effect, defaults filled.
func (s *Service) Config() Config { return s.cfg }

var indexes = []struct {
	collection string
	index      db.Index
}{
	{db.Deliveries, db.Index{Keys: []db.IndexKey{{Field: "endpoint_id"}, {Field: "status"}, {Field: "created_at"}}}},
	{db.Deliveries, db.Index{Keys: []db.IndexKey{{Field: "status"}, {Field: "created_at"}}}},
	{db.Deliveries, db.Index{Keys: []db.IndexKey{{Field: "message_id"}}}},
	{db.WebhookMessages, db.Index{Keys: []db.IndexKey{{Field: "type"}, {Field: "created_at"}}}},
	{db.Inbound, db.Index{Keys: []db.IndexKey{{Field: "function"}, {Field: "received_at"}}}},
	{db.Inbound, db.Index{Keys: []db.IndexKey{{Field: "received_at"}}}},
}

// Start makes the indexes and queues again any pending delivery whose job
// was never queued (the process stopped between recording the delivery
// and queuing it).
func (s *Service) Start(ctx context.Context) error {
	for _, ix := range indexes {
		if err := s.deps.Store.C(ix.collection).EnsureIndex(ctx, ix.index); err != nil {
			return fmt.Errorf("ensure index on %s: %w", ix.collection, err)
		}
	}
	return s.requeuePending(ctx)
}

// Close writes the inbound request log's queued entries, bounded by ctx.
// The server calls it after the last request, before the store closes.
func (s *Service) Close(ctx context.Context) error {
	return s.inbound.close(ctx)
}

// requeuePending enqueues every pending delivery under its job key; those
// whose job exists are left alone by the queue's idempotency key.
func (s *Service) requeuePending(ctx context.Context) error {
	docs, err := s.delivs.Find(ctx, bson.M{"status": StatusPending}, &db.FindOptions{Projection: bson.M{"replays": 1, "max_attempts": 1}})
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := s.enqueue(ctx, str(d["_id"]), intOf(d["replays"]), intOf(d["max_attempts"])); err != nil {
			return err
		}
	}
	return nil
}

// enqueue queues the delivery's job for its replays-th run.
func (s *Service) enqueue(ctx context.Context, id string, replays, maxAttempts int) error {
	_, err := s.deps.Queue.Enqueue(ctx, KindDelivery, map[string]any{"delivery": id, "replay": replays}, events.EnqueueOptions{
		Key: fmt.Sprintf("delivery:%s:%d", id, replays), MaxAttempts: maxAttempts,
	})
	if err != nil && !isDuplicate(err) {
		return fmt.Errorf("queue delivery %s: %w", id, err)
	}
	return nil
}

func isDuplicate(err error) bool { return err != nil && errorsIs(err, events.ErrDuplicateJob) }

// newID is a prefixed id whose order is its creation order.
func newID(prefix string) string { return prefix + primitive.NewObjectID().Hex() }

// emit sends a system event when an emitter is wired.
func (s *Service) emit(ctx context.Context, name string, data map[string]any) {
	if s.deps.Emitter == nil {
		return
	}
	if _, err := s.deps.Emitter.Emit(ctx, name, data); err != nil {
		s.log.Warn("emit "+name, "err", err)
	}
}
