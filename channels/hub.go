package channels

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/valyala/fasthttp"

	"github.com/moonbase-dev/moonbase/db"
)

// Authenticator turns a session token into its user, and says which
// sessions still sign someone in. The server implements it over its
// sessions.
type Authenticator interface {
	// Authenticate returns the user token signs in and the id of its
	// session. An unknown or expired token is an error.
	Authenticate(ctx context.Context, token string) (*User, string, error)
	// LiveSessions returns which of ids are sessions that still sign
	// someone in: not signed out, not ended by a password change or an
	// account's deletion, not expired. A connection whose session is not
	// is closed (see Hub.EndSession).
	LiveSessions(ctx context.Context, ids []string) (map[string]bool, error)
}

// JoinAuthorizer decides the joins the rules allow: the server runs the
// functions with a channel_join trigger through it. A nil error admits;
// an error refuses the join with that error (a *RefusedError for a
// function that said no).
type JoinAuthorizer interface {
	AuthorizeJoin(ctx context.Context, channel string, user *User) error
}

// MessageSink stores each message a client sends together with the
// chan_in event that reports it, as one step: write stores the message
// through tx, and the sink records the event (and its jobs) in the same
// transaction where the store has them. The server implements it over
// the events bus; without a sink, messages are stored and no event is
// recorded.
type MessageSink interface {
	CommitMessage(ctx context.Context, m Message, write func(ctx context.Context, tx db.Tx) error) error
}

// Deps are what a Hub is built from besides its Config. Store is
// required; the rest is optional (no Auth: every token is refused).
type Deps struct {
	Store  db.Store
	Logger *slog.Logger
	Auth   Authenticator
	Joins  JoinAuthorizer
	Sink   MessageSink
}

// storeTimeout bounds each store operation a frame causes.
const storeTimeout = 10 * time.Second

// Hub is the realtime channels service of one process: the WebSocket
// connections, the channels they joined, delivery in offset order, and
// the loops that keep presence alive and bring in what other processes
// send.
type Hub struct {
	cfg      Config
	rules    rules
	store    db.Store
	log      msgLog
	presence presenceStore
	deps     Deps
	logger   *slog.Logger
	node     string
	upgrader websocket.Upgrader
	maxFrame int
	bus      bus // NATS when configured

	mu     sync.Mutex
	conns  map[*conn]struct{}
	chans  map[string]*channel
	closed bool

	others  atomic.Int64 // other live processes, as of the last heartbeat
	kick    chan struct{}
	stop    chan struct{}
	loops   sync.WaitGroup
	serving sync.WaitGroup // connections being served
	started atomic.Bool
	once    sync.Once
}

// channel is a channel with connections on this process.
type channel struct {
	name  string
	rule  Rule
	subs  map[*conn]*sub
	users map[string]int // user id → this process's connections to the channel
	// loading: where delivery starts is being read from the store; what
	// arrives meanwhile waits in pending. loaded closes when it is read,
	// loadErr says why it could not be.
	loading bool
	loaded  chan struct{}
	loadErr error
	// delivered: every offset up to here is settled on this process,
	// delivered or known never to have a message.
	delivered int64
	pending   map[int64]pendingMsg // arrived above a missing offset
	kicked    int64                // delivered when the store was last asked to fill a gap
	members   map[string]User      // presence as last told to the members
	presMu    sync.Mutex           // one presence refresh at a time
}

// pendingMsg is a message waiting for a smaller offset, since at.
type pendingMsg struct {
	m  Message
	at time.Time
}

// sub is one connection's membership of a channel.
type sub struct {
	ready bool      // the join answer is queued; messages flow
	last  int64     // last offset queued to the connection
	buf   []Message // messages that came while the join was answered
}

// New returns a Hub over deps.Store. It does not start its loops; Start
// does.
func New(cfg Config, deps Deps) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("channels: Deps.Store is required")
	}
	cfg = cfg.WithDefaults()
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	h := &Hub{
		cfg:    cfg,
		rules:  newRules(cfg.Rules),
		store:  deps.Store,
		log:    msgLog{store: deps.Store},
		deps:   deps,
		logger: deps.Logger,
		node:   newNodeID(),
		conns:  map[*conn]struct{}{},
		chans:  map[string]*channel{},
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
	}
	h.presence = presenceStore{store: deps.Store, node: h.node, timeout: cfg.PresenceTimeout}
	h.maxFrame = DefaultMaxMessageBytes
	for _, r := range cfg.Rules {
		h.maxFrame = max(h.maxFrame, r.MaxMessageBytes)
	}
	h.maxFrame += maxFrameSlack
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// Small read buffers, and write buffers taken from a pool only
		// while writing: an idle connection holds as little as it can.
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     originChecker(cfg.Origins),
	}
	return h, nil
}

func newNodeID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Node is this process's id in presence and among the live processes.
func (h *Hub) Node() string { return h.node }

// Start ensures the indexes, records this process as alive and starts the
// heartbeat and delivery loops. ctx bounds the start only.
func (h *Hub) Start(ctx context.Context) error {
	if !h.started.CompareAndSwap(false, true) {
		return errors.New("channels: already started")
	}
	if err := h.log.ensureIndexes(ctx); err != nil {
		return err
	}
	others, err := h.presence.heartbeat(ctx)
	if err != nil {
		return err
	}
	h.others.Store(int64(others))
	if h.cfg.NATSURL != "" {
		b, err := dialBus(h.cfg, h.node, h)
		if err != nil {
			return err
		}
		h.bus = b
	}
	h.startLoops()
	return nil
}

// Shutdown closes every connection (close code 1001), stops the loops and
// takes this process out of presence. It is idempotent.
func (h *Hub) Shutdown(ctx context.Context) error {
	var err error
	h.once.Do(func() {
		h.mu.Lock()
		h.closed = true
		conns := make([]*conn, 0, len(h.conns))
		for c := range h.conns {
			conns = append(conns, c)
		}
		h.mu.Unlock()
		close(h.stop)
		for _, c := range conns {
			c.kill(websocket.CloseGoingAway, "server shutting down")
		}
		done := make(chan struct{})
		go func() { h.serving.Wait(); h.loops.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = fmt.Errorf("channels shutdown: %w", ctx.Err())
		}
		if h.bus != nil {
			h.bus.close()
		}
		if h.started.Load() {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
			defer cancel()
			// A store already closed under the hub leaves nothing to clean
			// that the heartbeats' expiry does not.
			if lerr := h.presence.leaveAll(lctx); lerr != nil && !errors.Is(lerr, db.ErrClosed) && err == nil {
				err = fmt.Errorf("channels shutdown: %w", lerr)
			}
		}
	})
	return err
}

// Handle upgrades the request of ctx to a channels connection (see
// Upgrade). The server routes GET /api/ws here.
func (h *Hub) Handle(ctx *fasthttp.RequestCtx) {
	Upgrade(ctx, &h.upgrader, h.serve)
}

// IsUpgrade reports whether the request asks for a WebSocket.
func IsUpgrade(ctx *fasthttp.RequestCtx) bool {
	return strings.EqualFold(string(ctx.Request.Header.Peek("Upgrade")), "websocket")
}

// originChecker admits requests without an Origin (other clients than
// browsers), and browsers whose origin is in origins: "*" is any,
// "https://*.example.com" any subdomain. An empty list admits only the
// server's own origin.
func originChecker(origins []string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		if len(origins) == 0 {
			u, err := url.Parse(origin)
			return err == nil && strings.EqualFold(u.Host, r.Host)
		}
		for _, o := range origins {
			if o == "*" || strings.EqualFold(o, origin) {
				return true
			}
			if scheme, rest, ok := strings.Cut(o, "://*."); ok {
				if strings.HasPrefix(strings.ToLower(origin), strings.ToLower(scheme)+"://") &&
					strings.HasSuffix(strings.ToLower(origin), "."+strings.ToLower(rest)) {
					return true
				}
			}
		}
		return false
	}
}

// Rule returns the rule that applies to channel.
func (h *Hub) Rule(channel string) Rule { return h.rules.match(channel) }
