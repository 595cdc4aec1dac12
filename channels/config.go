package channels

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Defaults of Config and Rule. A zero field takes its default.
const (
	// DefaultMaxMessageBytes caps the JSON size of one message's data.
	DefaultMaxMessageBytes = 64 << 10
	// DefaultMessagesPerSecond is how many frames one connection may send
	// per second, with bursts of as many.
	DefaultMessagesPerSecond = 50
	// DefaultMaxChannels is how many channels one connection may join.
	DefaultMaxChannels = 100
	// DefaultSendQueue is how many frames may wait to be written to one
	// connection; a client that lets more pile up is disconnected.
	DefaultSendQueue = 512
	// DefaultHeartbeat is how often a process says in the store that it is
	// alive, and sweeps the members of processes that stopped saying so.
	DefaultHeartbeat = 5 * time.Second
	// DefaultPresenceTimeout is how long a process may stay silent before
	// its members are taken out of presence everywhere.
	DefaultPresenceTimeout = 20 * time.Second
	// DefaultPollInterval is how often a process looks in the store for
	// messages and presence changes of other processes (when there are
	// any and no NATS is configured).
	DefaultPollInterval = 100 * time.Millisecond
	// DefaultGapTimeout is how long delivery waits for a message whose
	// offset was allocated but which is not in the store yet (a slow or
	// failed write, a sender that died) before fencing the offset (see
	// msgLog.fence).
	DefaultGapTimeout = 3 * time.Second
	// DefaultSessionCheck is how often the sessions of signed-in
	// connections are checked in the store.
	DefaultSessionCheck = 5 * time.Second
	// MaxHistory caps Rule.History.
	MaxHistory = 10000
	// maxFrameSlack is what a frame may carry besides its data: type, id,
	// channel name.
	maxFrameSlack = 4 << 10
)

// Access levels of Rule.Join and Rule.Send.
const (
	Public        = "public"        // anyone, signed in or not
	Authenticated = "authenticated" // any signed-in user
	Member        = "member"        // Send only: a connection that joined the channel
	None          = "none"          // no client; functions still publish
)

// UserPattern is the pattern of private user channels: "user:" followed by
// a user's id, which only that user may join.
const UserPattern = "user:{user}"

// Rule is what a channel pattern allows: the value of a pattern key under
// `channels` in config.yaml.
type Rule struct {
	// Join is public, authenticated or none. On user:{user} channels only
	// the user named in the channel passes, and only when Join is not none.
	Join string `yaml:"join" json:"join"`
	// Send is public, authenticated, member or none. public and
	// authenticated let a client send without joining; member asks it to
	// join first.
	Send string `yaml:"send" json:"send"`
	// History is how many recent messages a join shows and a reconnect
	// can recover; nil is 0, none.
	History *int `yaml:"history" json:"history"`
	// Presence lists members and sends join and leave notices; nil is true.
	Presence *bool `yaml:"presence" json:"presence"`
	// MaxMessageBytes caps a message's data as JSON; 0 is 64 KiB.
	MaxMessageBytes int `yaml:"max_message_bytes" json:"max_message_bytes"`
}

// HistorySize is r.History, 0 when unset.
func (r Rule) HistorySize() int {
	if r.History == nil {
		return 0
	}
	return *r.History
}

// HasPresence is r.Presence, true when unset.
func (r Rule) HasPresence() bool { return r.Presence == nil || *r.Presence }

func (r Rule) withDefaults(private bool) Rule {
	if r.Join == "" {
		r.Join = Authenticated
	}
	if r.Send == "" {
		r.Send = Authenticated
		if private {
			r.Send = Member
		}
	}
	if r.MaxMessageBytes == 0 {
		r.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if r.History == nil {
		r.History = new(0)
	}
	if r.Presence == nil {
		r.Presence = new(true)
	}
	return r
}

// Config is the `channels` section of config.yaml. The zero value is the
// default configuration.
type Config struct {
	// Rules maps a channel pattern to its rule: an exact name ("lobby"),
	// a prefix ending in "*" ("room:*"), or user:{user}. The longest
	// matching pattern wins; a channel nothing matches takes the default
	// rule (join and send authenticated, no history, presence on). In
	// config.yaml each pattern is a key of its own under `channels`
	// (UnmarshalYAML); `rules:` holding them is read too.
	Rules map[string]Rule `yaml:"rules"`
	// NATSURL, when set (nats://host:4222), carries messages and presence
	// notices between processes over NATS core subjects instead of the
	// store's polling.
	NATSURL string `yaml:"nats_url"`
	// NATSSubject prefixes the subjects used on NATS; several deployments
	// can share one NATS server with different prefixes.
	NATSSubject string `yaml:"nats_subject"`
	// MessagesPerSecond is how many frames one connection may send per
	// second (bursts of as many); more are refused with too_many_requests.
	MessagesPerSecond int `yaml:"messages_per_second"`
	// MaxChannels is how many channels one connection may join.
	MaxChannels int `yaml:"max_channels"`
	// SendQueue is how many frames may wait to be written to one
	// connection before it is disconnected as a slow consumer (1013).
	SendQueue int `yaml:"send_queue"`
	// Heartbeat is how often a process records that it is alive.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// PresenceTimeout is how long after its last heartbeat a process's
	// members leave presence everywhere. It must exceed Heartbeat.
	PresenceTimeout time.Duration `yaml:"presence_timeout"`
	// PollInterval is how often messages and presence of other processes
	// are looked for in the store when NATS is not configured.
	PollInterval time.Duration `yaml:"poll_interval"`
	// GapTimeout is how long delivery waits for a missing offset before
	// fencing it: a write that comes later fails and its sender is told.
	GapTimeout time.Duration `yaml:"gap_timeout"`
	// SessionCheck is how often the sessions of signed-in connections
	// are looked up in the store: a connection whose session ended (a
	// sign-out or a password change on any process, an expiry) is closed
	// with code 1008 by then. A sign-out on this process closes its
	// connections at once.
	SessionCheck time.Duration `yaml:"session_check"`
	// Origins lists the browser origins allowed to open a connection ("*"
	// any). The server fills it from server.cors_origins.
	Origins []string `yaml:"-"`
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.NATSSubject == "" {
		c.NATSSubject = "moonbase.channels"
	}
	if c.MessagesPerSecond == 0 {
		c.MessagesPerSecond = DefaultMessagesPerSecond
	}
	if c.MaxChannels == 0 {
		c.MaxChannels = DefaultMaxChannels
	}
	if c.SendQueue == 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.PresenceTimeout == 0 {
		c.PresenceTimeout = DefaultPresenceTimeout
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.GapTimeout == 0 {
		c.GapTimeout = DefaultGapTimeout
	}
	if c.SessionCheck == 0 {
		c.SessionCheck = DefaultSessionCheck
	}
	return c
}

// Validate reports the first setting that cannot work, naming its key
// under `channels`.
func (c Config) Validate() error {
	d := c.WithDefaults()
	if d.NATSURL != "" {
		u, err := url.Parse(d.NATSURL)
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return configErr("nats_url", "%q is not a URL such as nats://127.0.0.1:4222", d.NATSURL)
		}
	}
	if strings.ContainsAny(d.NATSSubject, " *>\t") || strings.HasPrefix(d.NATSSubject, ".") || strings.HasSuffix(d.NATSSubject, ".") {
		return configErr("nats_subject", "%q is not a NATS subject prefix such as moonbase.channels", d.NATSSubject)
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"messages_per_second", d.MessagesPerSecond}, {"max_channels", d.MaxChannels}, {"send_queue", d.SendQueue}} {
		if n.v < 1 {
			return configErr(n.key, "must be a positive number")
		}
	}
	for _, t := range []struct {
		key string
		v   time.Duration
	}{{"heartbeat", d.Heartbeat}, {"presence_timeout", d.PresenceTimeout}, {"poll_interval", d.PollInterval}, {"gap_timeout", d.GapTimeout}, {"session_check", d.SessionCheck}} {
		if t.v <= 0 {
			return configErr(t.key, "must be a positive duration such as 5s")
		}
	}
	if d.PresenceTimeout < 2*d.Heartbeat {
		return configErr("presence_timeout", "must be at least twice heartbeat (%s), or live processes would look dead", d.Heartbeat)
	}
	patterns := make([]string, 0, len(c.Rules))
	for p := range c.Rules {
		patterns = append(patterns, p)
	}
	sort.Strings(patterns)
	for _, p := range patterns {
		if err := validateRule(p, c.Rules[p]); err != nil {
			return err
		}
	}
	return nil
}

func validateRule(pattern string, r Rule) error {
	key := pattern
	if err := checkPattern(pattern); err != nil {
		return configErr(key, "%v", err)
	}
	switch r.Join {
	case "", Public, Authenticated, None:
	default:
		return configErr(key+".join", "%q is not one of public, authenticated, none", r.Join)
	}
	switch r.Send {
	case "", Public, Authenticated, Member, None:
	default:
		return configErr(key+".send", "%q is not one of public, authenticated, member, none", r.Send)
	}
	if h := r.HistorySize(); h < 0 || h > MaxHistory {
		return configErr(key+".history", "must be between 0 and %d", MaxHistory)
	}
	if r.MaxMessageBytes < 0 || r.MaxMessageBytes > 16<<20 {
		return configErr(key+".max_message_bytes", "must be between 1 and %d (0 takes %d)", 16<<20, DefaultMaxMessageBytes)
	}
	return nil
}

// checkPattern reports why pattern is not a channel pattern.
func checkPattern(pattern string) error {
	bad := errors.New("a pattern is a channel name, a prefix ending in * (room:*) or user:{user}")
	if pattern == UserPattern {
		return nil
	}
	name := strings.TrimSuffix(pattern, "*")
	if strings.Contains(name, "*") || strings.Contains(name, "{") || (name != "" && ValidateName(name) != nil && !strings.HasSuffix(pattern, "*")) {
		return bad
	}
	if name != "" && strings.HasSuffix(pattern, "*") && !validPrefix(name) {
		return bad
	}
	if pattern == "" {
		return bad
	}
	return nil
}

func configErr(key, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, key, fmt.Sprintf(format, args...))
}
