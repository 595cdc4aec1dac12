package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/admin"
	"github.com/moonbase-dev/moonbase/channels"
	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/db/mongostore"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/mail"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// setupTimeout bounds what New does against the store: opening it,
// creating indexes, reading the admin token's hash.
const setupTimeout = 30 * time.Second

// storeCloseTimeout bounds closing the store at shutdown, after the rest
// has had the shutdown's deadline.
const storeCloseTimeout = 5 * time.Second

// Deps are what a Server is built from besides its Config. Every field is
// optional.
type Deps struct {
	// Store is the database. Nil opens the one cfg.DB selects, which the
	// Server then closes in Shutdown; a store given here stays the
	// caller's to close, after everything else using it has stopped.
	Store db.Store
	// Events receives the system events (user_registered, doc_created, …).
	// Nil emits them on the server's own events service, which records
	// them and runs the functions subscribed to them.
	Events events.Emitter
	// Logger is where logs go; nil is slog.Default().
	Logger *slog.Logger
	// Stderr is where the admin token generated on first start is printed;
	// nil is os.Stderr.
	Stderr io.Writer
}

// Server is moonbase's HTTP server: the fiber app, its routes and
// middleware, over one store.
type Server struct {
	cfg          Config
	store        db.Store
	ownsStore    bool // opened by New, so closed by Shutdown
	events       events.Emitter
	jobs         *events.Service   // the queue, the bus, the scheduler and the sweeper (events.go, jobs.go)
	webhooks     *webhooks.Service // outbound endpoints and deliveries (webhooks.go)
	mailer       mail.Sender       // SMTP, or the outbox when none is configured (mail.go)
	functions    *engine.Registry  // stores, compiles and runs the Lua functions (functions.go)
	channels     *channels.Hub     // the realtime channels behind GET /api/ws (channels.go)
	log          *slog.Logger
	app          *fiber.App
	limits       db.Limits
	throttle     *throttle
	sessions     *sessionCache
	requestIDs   *requestIDs // ids of requests that come without one (middleware.go)
	answerBufs   sync.Pool   // *[]byte to encode function answers in (invoke.go)
	adminHash    []byte
	dashboard    *admin.Dashboard // the page at /admin and its cookie sessions (admin.go)
	dummyHash    []byte           // compared against when an email is unknown, so timing does not tell
	ownerIndexed sync.Map         // collection name → struct{}: _owner index ensured by this process

	baseCtx    context.Context // parent of every request's context
	cancelBase context.CancelFunc

	mu        sync.Mutex
	ln        net.Listener
	serveDone chan struct{}
	lingering lingerSet     // connections closing gracefully
	stop      chan struct{} // closes background loops

	shutdownOnce sync.Once
	shutdownErr  error
}

// New validates cfg, opens the store when deps has none, ensures the system
// indexes and the configured collections' indexes, sets up the admin token
// and builds every route. It does not listen; Start does.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Stderr == nil {
		deps.Stderr = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	store, owns := deps.Store, false
	if store == nil {
		var err error
		if store, err = OpenStore(ctx, cfg); err != nil {
			return nil, err
		}
		owns = true
	}
	s := &Server{
		cfg:        cfg,
		store:      store,
		ownsStore:  owns,
		events:     deps.Events,
		log:        deps.Logger,
		limits:     cfg.Limits.DB(),
		throttle:   newThrottle(cfg.Auth.Throttle),
		sessions:   newSessionCache(cfg.Auth.SessionCache),
		requestIDs: newRequestIDs(),
		stop:       make(chan struct{}),
	}
	jobs, err := events.New(cfg.Events, events.Deps{Store: store, Logger: deps.Logger})
	if err != nil {
		if owns {
			_ = store.Close(context.Background())
		}
		return nil, err
	}
	s.jobs = jobs
	s.mailer = newMailer(cfg.SMTP, store)
	registerEmail(jobs.Queue, s.mailer)
	jobs.Queue.Register(KindPasswordReset, s.passwordResetJob)
	jobs.Queue.RegisterKind(KindAccountCleanup, s.accountCleanupJob, events.KindOptions{MaxAttempts: accountCleanupAttempts})
	if s.events == nil {
		s.events = jobs.Bus
	}
	if s.webhooks, err = newWebhooks(cfg, store, jobs.Queue, s.events, deps.Logger); err != nil {
		if owns {
			_ = store.Close(context.Background())
		}
		return nil, err
	}
	jobs.Sweeper.AddRule(db.Inbound, "received_at", s.webhooks.Config().InboundRetention)
	jobs.Sweeper.AddSweep(db.Deliveries, s.webhooks.SweepDeliveries)
	jobs.Sweeper.AddSweep(db.WebhookMessages, s.webhooks.SweepMessages)
	reg, err := s.newRegistry()
	if err != nil {
		if owns {
			_ = store.Close(context.Background())
		}
		return nil, err
	}
	s.functions = reg
	s.runFunctionJobs(reg)
	if s.channels, err = s.newChannels(); err != nil {
		_ = s.functions.Shutdown(context.Background())
		if owns {
			_ = store.Close(context.Background())
		}
		return nil, err
	}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	if err := s.setup(ctx, deps.Stderr); err != nil {
		s.cancelBase()
		_ = s.functions.Shutdown(context.Background())
		if owns {
			_ = store.Close(context.Background())
		}
		return nil, err
	}
	if s.dashboard, err = admin.New(cfg.Admin, admin.Deps{Store: store, CheckToken: s.isAdminToken, Guard: adminSignInGuard{s}}); err != nil {
		s.cancelBase()
		_ = s.functions.Shutdown(context.Background())
		if owns {
			_ = store.Close(context.Background())
		}
		return nil, err
	}
	s.app = s.newApp()
	return s, nil
}

// OpenStore opens the store cfg.DB selects: the embedded store under
// cfg.DataDir, or MongoDB.
func OpenStore(ctx context.Context, cfg Config) (db.Store, error) {
	if cfg.DB.Embedded() {
		st, err := embedded.Open(embedded.Config{Dir: cfg.DataDir, CacheKB: cfg.DB.CacheKB, BusyTimeout: cfg.DB.BusyTimeout})
		if err != nil {
			return nil, fmt.Errorf("open embedded store in %s: %w", cfg.DataDir, err)
		}
		return st, nil
	}
	st, err := mongostore.Open(ctx, mongostore.Config{URI: cfg.DB.URI, Database: cfg.DB.Database})
	if err != nil {
		return nil, fmt.Errorf("open MongoDB store: %w", err)
	}
	return st, nil
}

// setup prepares the store and the secrets New needs before serving.
func (s *Server) setup(ctx context.Context, stderr io.Writer) error {
	if err := db.EnsureSystemIndexes(ctx, s.store); err != nil {
		return err
	}
	if err := s.functions.Start(ctx); err != nil {
		return err
	}
	for name, col := range s.cfg.Collections {
		for _, ic := range col.Indexes {
			if err := s.store.C(name).EnsureIndex(ctx, ic.Index()); err != nil {
				return fmt.Errorf("ensure index %v on %s: %w", ic.Fields, name, err)
			}
		}
		if err := s.ensureOwnerIndex(ctx, name); err != nil {
			return err
		}
	}
	hash, err := s.setupAdminToken(ctx, stderr)
	if err != nil {
		return err
	}
	s.adminHash = hash
	s.dummyHash, err = dummyPasswordHash(s.cfg.Auth.BcryptCost)
	return err
}

// newApp builds the fiber app and binds every area's routes.
func (s *Server) newApp() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "moonbase",
		ErrorHandler:          s.errorHandler,
		BodyLimit:             s.cfg.Limits.BodyBytes,
		ReadTimeout:           s.cfg.Server.ReadTimeout,
		WriteTimeout:          s.cfg.Server.WriteTimeout,
		IdleTimeout:           s.cfg.Server.IdleTimeout,
		CaseSensitive:         true,
		DisableStartupMessage: true,
	})
	s.useMiddleware(app)
	// The admin token guards the whole /api/admin tree before any route
	// is bound, so an area's admin routes are covered whichever file binds
	// them and in whatever order.
	app.Use("/api/admin", s.requireAdmin)
	s.dashboard.Bind(app)
	// One route table per area, each in its own file.
	for _, bind := range []func(*Server, fiber.Router){
		bindHealthApi,
		bindAuthApi,
		bindDataApi,
		bindAdminApi,
		bindEventsApi,
		bindJobsApi,
		bindMailApi,
		bindFunctionsApi,
		bindFunctionsAdminApi,
		bindDeployApi,
		bindSecretsApi,
		bindChannelsApi,
		bindDashboardApi,
		bindWebhooksApi,
		bindInboundApi,
	} {
		bind(s, app)
	}
	return app
}

// App is the fiber app, for driving the server without a listener
// (app.Test) and for mounting extra routes before Start.
func (s *Server) App() *fiber.App { return s.app }

// Store is the store the server runs on.
func (s *Server) Store() db.Store { return s.store }

// Start starts the job queue, the scheduler and the retention sweeper,
// then listens on cfg.Server.Addr and serves in the background. Port 0
// picks a free port; Addr and URL report the one bound. ctx bounds only
// the start itself.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return errors.New("server already started")
	}
	select {
	case <-s.stop:
		return errors.New("server was shut down")
	default:
	}
	// Jobs and schedules run before the first request, so that nothing a
	// request queues waits for a poll.
	if err := s.jobs.Start(ctx); err != nil {
		return fmt.Errorf("start the job queue and scheduler: %w", err)
	}
	if err := s.channels.Start(ctx); err != nil {
		return fmt.Errorf("start channels: %w", err)
	}
	if err := s.webhooks.Start(ctx); err != nil {
		return fmt.Errorf("start webhook delivery: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Server.Addr, err)
	}
	s.ln = ln
	s.serveDone = make(chan struct{})
	go func() {
		defer close(s.serveDone)
		if err := s.app.Listener(lingerListener{Listener: ln, closing: &s.lingering}); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("server stopped serving", "error", err.Error())
		}
	}()
	go s.sweepSessions()
	s.log.Info("moonbase listening", "addr", ln.Addr().String(), "store", storeKind(s.cfg.DB))
	return nil
}

func storeKind(c DBConfig) string {
	if c.Embedded() {
		return "embedded"
	}
	return "mongodb"
}

// Addr is the address the server listens on ("127.0.0.1:43121"), or "" before
// Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL is the server's base URL ("http://127.0.0.1:43121"), or "" before
// Start.
func (s *Server) URL() string {
	addr := s.Addr()
	if addr == "" {
		return ""
	}
	return "http://" + addr
}

// Shutdown stops accepting connections, lets in-flight requests finish
// until ctx ends, stops the job queue and the scheduler (running jobs get
// what is left of ctx), then closes the store if New opened it. It is
// idempotent: later calls return the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() { s.shutdownErr = s.shutdown(ctx) })
	return s.shutdownErr
}

func (s *Server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	close(s.stop)
	ln, serveDone := s.ln, s.serveDone
	s.mu.Unlock()

	// Requests get all but the last quarter of ctx's time (a second at
	// most) to drain; then the base context is canceled, which stops what
	// still runs (a function run far from its own timeout), so that the
	// rest of the shutdown has that quarter and ends within ctx.
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		stopRuns := time.AfterFunc(left-min(left/4, time.Second), s.cancelBase)
		defer stopRuns.Stop()
	}
	var errs []error
	if ln != nil {
		if err := s.app.ShutdownWithContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drain requests: %w", err))
		}
		// Serve may not have taken the listener yet; closing it makes sure
		// it never accepts.
		_ = ln.Close()
		select {
		case <-serveDone:
		case <-ctx.Done():
		}
		lingered := make(chan struct{})
		go func() { s.lingering.wait(); close(lingered) }()
		select {
		case <-lingered:
		case <-ctx.Done():
		}
	}
	// WebSocket connections are not the HTTP server's any more once
	// upgraded: the hub closes them (1001) and takes this process out of
	// presence while the store is still open.
	if err := s.channels.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop channels: %w", err))
	}
	s.cancelBase()
	// Running jobs get what is left of ctx to finish; those still running
	// then keep their leases and run again after a restart.
	if err := s.jobs.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop jobs: %w", err))
	}
	// Function runs end with the requests and jobs that started them; the
	// execution records still buffered are written before the store
	// closes, within a bound of their own.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), storeCloseTimeout)
	defer fcancel()
	if err := s.functions.Shutdown(fctx); err != nil {
		errs = append(errs, fmt.Errorf("stop functions: %w", err))
	}
	if err := s.webhooks.Close(fctx); err != nil {
		errs = append(errs, fmt.Errorf("write the inbound request log: %w", err))
	}
	if s.ownsStore {
		// The store closes even when the jobs used up ctx, within a bound
		// of its own.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeCloseTimeout)
		defer cancel()
		if err := s.store.Close(cctx); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	s.log.Info("moonbase stopped")
	return errors.Join(errs...)
}
