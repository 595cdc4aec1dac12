package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// Deps are what the registry needs from the rest of the server. Only Store
// is required.
type Deps struct {
	Store db.Store
	// Rules gives a collection's access rules; the data calls of a run
	// invoked by a signed-in user act under them. Nil means the default
	// rule (owner) everywhere.
	Rules func(collection string) db.Access
	// Publish records a custom event (backend.publishEvent) and returns its
	// id. Nil: backend.publishEvent raises "events are not set up".
	Publish func(ctx context.Context, name string, data map[string]any) (string, error)
	// Commit makes one document write of a function and records the
	// doc_* event reporting it in the same step, and reports whether the
	// chain depth limit stopped the event. Nil: writes fire no event.
	Commit func(ctx context.Context, w DocWrite) (stopped bool, err error)
	// SendEmail queues an email (backend.sendEmail); body holds text, html,
	// from, reply_to. Nil: backend.sendEmail raises "email is not set up".
	SendEmail func(ctx context.Context, to []string, subject string, body map[string]any) (string, error)
	// ChannelPublish sends data to a realtime channel (backend.publish)
	// and returns the message's offset. Nil: backend.publish raises
	// "channels are not set up".
	ChannelPublish func(ctx context.Context, channel string, data any) (int64, error)
	// ChannelMembers lists the users present on a channel, each {id, name}
	// (backend.channels.members). Nil: it raises "channels are not set
	// up".
	ChannelMembers func(ctx context.Context, channel string) ([]map[string]any, error)
	// CheckSchedule validates a schedule trigger's expression at save time.
	// Nil: schedules are saved unchecked.
	CheckSchedule func(expr, timezone string) error
	// Webhooks serves backend.webhooks.verify, emit and send. Nil: those
	// calls raise "webhooks are not set up".
	Webhooks Webhooks
	// RedactHeader reports whether the execution record of an http run
	// keeps a request header's value (its name in lower case) as
	// RedactedHeader; the server gives the inbound log's rule. Nil keeps
	// every value.
	RedactHeader func(name string) bool
	// Logger receives the registry's own warnings; nil discards them.
	Logger *slog.Logger
}

// refreshEvery is how long a run trusts the cached version of a function
// before checking the store for a newer one saved by another instance.
// Saves through this registry take effect at once.
const refreshEvery = 2 * time.Second

// Registry stores, compiles and runs functions. Its storage side
// (Save, Get, List, Delete, Versions, Rollback, Executions, the secrets) is
// the embedded *functions.Store; the Registry adds the compile check, the
// cache of compiled versions, the pool of states and Run. It is safe for
// concurrent use.
type Registry struct {
	*functions.Store

	cfg   Config
	deps  Deps
	log   *slog.Logger
	store db.Store

	pool  *pool
	watch *watchdog
	turns turns
	http  *http.Client
	// restoreLimit puts back the Go runtime's memory limit as it was.
	restoreLimit func()

	mu    sync.Mutex
	fns   map[string]*cached
	fresh map[string]compiled // by name: what the last save compiled, until the save ends

	refresh      time.Duration // refreshEvery; shorter in tests
	ownerIndexed sync.Map      // collection name → struct{}: _owner index ensured
	closed       atomic.Bool
	shutdownOnce sync.Once
}

// compiled is a source compiled for a save, waiting to be cached under the
// version the save makes.
type compiled struct {
	source, handler string
	proto           *lua.FunctionProto
}

// cached is the current version of one function, compiled.
type cached struct {
	fn    functions.Function
	proto *lua.FunctionProto

	mu      sync.Mutex // held while checking the store for a newer version
	checked atomic.Int64
}

// NewRegistry returns a registry over deps.Store. It starts the watchdog
// and the store's execution-record writer; call Start before serving and
// Shutdown at the end.
func NewRegistry(cfg Config, deps Deps) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("engine: NewRegistry needs a store")
	}
	cfg = cfg.WithDefaults()
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{
		cfg:   cfg,
		deps:  deps,
		log:   log,
		store: deps.Store,
		fns:   make(map[string]*cached),
		fresh: make(map[string]compiled),
		http:  newHTTPClient(cfg.HTTP),

		refresh: refreshEvery,
	}
	fns, err := functions.NewStore(functions.Config{MaxTimeout: cfg.MaxTimeout}, functions.Deps{
		Store:         deps.Store,
		Compile:       r.compileForSave,
		Saved:         r.saved,
		Deleted:       r.forget,
		CheckSchedule: deps.CheckSchedule,
		Logger:        log,
	})
	if err != nil {
		return nil, err
	}
	r.Store = fns
	r.pool = newPool(cfg.PoolSize, r.newVM)
	var ownLimit bool
	r.restoreLimit, ownLimit = setRuntimeLimit(cfg.MemoryLimit)
	r.watch = newWatchdog(cfg.MemoryLimit, log, ownLimit)
	r.turns = newTurns()
	return r, nil
}

// Start creates the indexes the store reads by. It is safe to call at
// every start and from several instances at once.
func (r *Registry) Start(ctx context.Context) error { return r.Store.Start(ctx) }

// compileForSave is the store's compile check: it compiles the source and
// keeps the result for saved, so the version the save makes is cached
// without compiling it again.
func (r *Registry) compileForSave(name, source, handler string) error {
	proto, err := compile(name, source, handler)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.fresh[name] = compiled{source: source, handler: handler, proto: proto}
	r.mu.Unlock()
	return nil
}

// saved caches the version a save made current with what compileForSave
// compiled for it; when a concurrent save took that, it drops the cached
// version so the next run loads and compiles the current one.
func (r *Registry) saved(fn functions.Function) {
	r.mu.Lock()
	c, ok := r.fresh[fn.Name]
	if ok && c.source == fn.Source && c.handler == fn.Handler {
		delete(r.fresh, fn.Name)
	} else {
		ok = false
	}
	r.mu.Unlock()
	if !ok {
		r.forget(fn.Name)
		return
	}
	r.remember(fn, c.proto)
}

// Shutdown stops accepting runs, lets the runs in progress finish until
// ctx ends (and then stops them), writes every execution record still
// buffered — theirs included — and releases the pooled states. It is
// idempotent.
func (r *Registry) Shutdown(ctx context.Context) error {
	var err error
	r.shutdownOnce.Do(func() {
		r.closed.Store(true)
		r.Store.Refuse()
		r.watch.refuse()
		drained := r.watch.drain(ctx)
		if !drained {
			r.watch.cancelAll(ErrCanceled)
			wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			r.watch.drain(wait)
			cancel()
		}
		// The records must be written even when ctx ran out waiting for
		// runs: a graceful shutdown keeps them all.
		flushCtx := ctx
		if ctx.Err() != nil {
			var cancel context.CancelFunc
			flushCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
		}
		err = r.Store.Close(flushCtx)
		r.watch.close()
		r.restoreLimit()
		r.pool.close()
		r.http.CloseIdleConnections()
	})
	return err
}

// getVM takes a ready state, or makes one rather than wait.
func (r *Registry) getVM() *vm { return r.pool.get() }

// putVM returns a state to the pool, which releases it when it is not fit
// for reuse, or the registry is shut down.
func (r *Registry) putVM(v *vm) { r.pool.put(v) }

// lookup returns the current compiled version of a function: from the
// cache when it was confirmed within refreshEvery, else after checking the
// store's version (and recompiling when it changed).
func (r *Registry) lookup(ctx context.Context, name string) (*cached, error) {
	r.mu.Lock()
	c := r.fns[name]
	r.mu.Unlock()
	now := time.Now().UnixNano()
	if c != nil && now-c.checked.Load() < int64(r.refresh) {
		return c, nil
	}
	if c != nil && !c.mu.TryLock() {
		return c, nil // another run is checking; this one uses what it has
	}
	if c != nil {
		defer c.mu.Unlock()
	}
	version, err := r.Store.CurrentVersion(ctx, name)
	if errors.Is(err, functions.ErrFunctionNotFound) {
		r.forget(name)
		return nil, err
	}
	if err != nil {
		if c != nil {
			return c, nil // keep serving what was saved when the store hiccups
		}
		return nil, err
	}
	if c != nil && version == c.fn.Version {
		c.checked.Store(now)
		return c, nil
	}
	fn, err := r.Store.Get(ctx, name)
	if err != nil {
		if errors.Is(err, functions.ErrFunctionNotFound) {
			r.forget(name)
		}
		return nil, err
	}
	proto, err := compile(fn.Name, fn.Source, fn.Handler)
	if err != nil {
		return nil, fmt.Errorf("function %q version %d no longer compiles: %w", name, fn.Version, err)
	}
	return r.remember(fn, proto), nil
}

// remember caches fn as the current version, unless a newer one is cached.
func (r *Registry) remember(fn functions.Function, proto *lua.FunctionProto) *cached {
	c := &cached{fn: fn, proto: proto}
	c.checked.Store(time.Now().UnixNano())
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.fns[fn.Name]; old != nil && old.fn.Version > fn.Version {
		return old
	}
	r.fns[fn.Name] = c
	return c
}

func (r *Registry) forget(name string) {
	r.mu.Lock()
	delete(r.fns, name)
	r.mu.Unlock()
}
