package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/moonbase-dev/moonbase/admin"
	"github.com/moonbase-dev/moonbase/channels"
	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/mail"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// Config is moonbase's whole configuration, as read from config.yaml. Each
// part owns its section; every key can be overridden by an environment
// variable named after its path (see LoadConfig).
type Config struct {
	Server  HTTPConfig `yaml:"server"`
	DataDir string     `yaml:"data_dir"`
	DB      DBConfig   `yaml:"db"`
	// AdminToken sets the admin token instead of generating one. It is meant
	// for MOONBASE_ADMIN_TOKEN; config.yaml holds no secrets.
	AdminToken  string                      `yaml:"admin_token"`
	Log         LogConfig                   `yaml:"log"`
	Auth        AuthConfig                  `yaml:"auth"`
	Limits      LimitsConfig                `yaml:"limits"`
	Collections map[string]CollectionConfig `yaml:"collections"`
	Events      events.Config               `yaml:"events"`
	// SMTP is where email goes; with no smtp.host it is stored in _outbox.
	SMTP mail.Config `yaml:"smtp"`
	// Functions configures the Lua runtime: limits of a run and the
	// outgoing requests functions make.
	Functions engine.Config `yaml:"functions"`
	// Channels configures the realtime channels of GET /api/ws: rules
	// per channel pattern, limits, fan-out between processes.
	Channels channels.Config `yaml:"channels"`
	// Admin configures the dashboard's sign-in at /admin.
	Admin admin.Config `yaml:"admin"`
	// Webhooks configures outbound delivery and the inbound request log.
	Webhooks webhooks.Config `yaml:"webhooks"`
}

// HTTPConfig is the HTTP listener's section, `server`.
type HTTPConfig struct {
	// Addr is host:port to listen on; port 0 picks a free port.
	Addr string `yaml:"addr"`
	// CORSOrigins lists the origins browsers may call from; "*" allows any.
	// Empty sends no CORS headers.
	CORSOrigins []string `yaml:"cors_origins"`
	// ProxyHeader names the header holding the client's address (such as
	// X-Forwarded-For) when moonbase runs behind a reverse proxy; the last
	// address in it is used. Empty uses the connection's address.
	ProxyHeader     string        `yaml:"proxy_header"`
	ReadTimeout     time.Duration `yaml:"read_timeout"`
	WriteTimeout    time.Duration `yaml:"write_timeout"`
	IdleTimeout     time.Duration `yaml:"idle_timeout"`
	RequestTimeout  time.Duration `yaml:"request_timeout"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// DBConfig selects the store, section `db`.
type DBConfig struct {
	// URI is empty or "embedded" for the embedded store under data_dir, or a
	// mongodb:// or mongodb+srv:// connection string.
	URI string `yaml:"uri"`
	// Database is the MongoDB database; empty takes the URI's path, else
	// "moonbase". The embedded store ignores it.
	Database string `yaml:"database"`
	// CacheKB is the embedded store's page cache per database connection,
	// in KiB; 0 takes the store's default (embedded.DefaultCacheKB). MongoDB
	// ignores it.
	CacheKB int `yaml:"cache_kb"`
	// BusyTimeout is how long a write to the embedded store waits for
	// another process on the same data_dir that holds the write lock,
	// before it fails (a request answered 503); default 5s. MongoDB
	// ignores it.
	BusyTimeout time.Duration `yaml:"busy_timeout"`
}

// Embedded reports whether the configuration selects the embedded store.
func (c DBConfig) Embedded() bool { return c.URI == "" || c.URI == "embedded" }

// LogConfig is the `log` section.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// AuthConfig is the `auth` section: sign-in and sessions.
type AuthConfig struct {
	SessionTTL time.Duration `yaml:"session_ttl"`
	// SessionCache is how long a server remembers a session it has looked
	// up; 0 looks every request's session up in the store.
	SessionCache      time.Duration  `yaml:"session_cache"`
	PasswordMinLength int            `yaml:"password_min_length"`
	BcryptCost        int            `yaml:"bcrypt_cost"`
	Throttle          ThrottleConfig `yaml:"throttle"`
	// ProfileFields are the fields of their account a signed-in user may
	// set with PATCH /api/auth/me; the other app fields only functions set.
	ProfileFields []string `yaml:"profile_fields"`
	// VerifyEmail sends a verification link at registration.
	VerifyEmail bool `yaml:"verify_email"`
	// RequireVerified refuses sign-in until the email is verified (and
	// implies VerifyEmail).
	RequireVerified bool `yaml:"require_verified"`
	// ResetTTL and VerifyTTL are how long a password-reset and an
	// email-verification token stay valid.
	ResetTTL  time.Duration `yaml:"reset_ttl"`
	VerifyTTL time.Duration `yaml:"verify_ttl"`
	// LinkInterval is the least time between two reset or two
	// verification emails to one account, so the calls cannot be used to
	// flood someone's mailbox; 0 sends one per request.
	LinkInterval time.Duration `yaml:"link_interval"`
	// AppURL is where the links of account emails point:
	// <app_url>/reset-password?token=… and <app_url>/verify-email?token=….
	// Empty sends the token alone.
	AppURL string `yaml:"app_url"`
	// OnDelete is what happens to the documents a user owns when they
	// delete their account: "keep" them or "delete" them.
	OnDelete string `yaml:"on_delete"`
}

// Account deletion policies, auth.on_delete.
const (
	OnDeleteKeep   = "keep"
	OnDeleteDelete = "delete"
)

// ThrottleConfig bounds failed sign-ins, section `auth.throttle`.
type ThrottleConfig struct {
	// EmailFailures failed logins for one email within Window answer 429
	// until the window ends.
	EmailFailures int `yaml:"email_failures"`
	// AddressFailures is the same bound per client address.
	AddressFailures int           `yaml:"address_failures"`
	Window          time.Duration `yaml:"window"`
}

// LimitsConfig caps what one request may cost, section `limits`.
type LimitsConfig struct {
	BodyBytes int `yaml:"body_bytes"`
	MaxDepth  int `yaml:"max_depth"`
	MaxFields int `yaml:"max_fields"`
}

// DB returns the limits in the form the db validators take.
func (l LimitsConfig) DB() db.Limits {
	return db.Limits{MaxDepth: l.MaxDepth, MaxKeys: l.MaxFields, MaxBytes: l.BodyBytes}.WithDefaults()
}

// CollectionConfig configures one collection of the data API.
type CollectionConfig struct {
	Indexes []IndexConfig `yaml:"indexes"`
	Read    db.Rule       `yaml:"read"`
	Write   db.Rule       `yaml:"write"`
}

// Access returns the collection's rules; an unset rule is owner.
func (c CollectionConfig) Access() db.Access {
	a := db.Access{Read: c.Read, Write: c.Write}
	if a.Read == "" {
		a.Read = db.RuleOwner
	}
	if a.Write == "" {
		a.Write = db.RuleOwner
	}
	return a
}

// IndexConfig is one index of a collection: fields in order, a leading "-"
// making a field descending.
type IndexConfig struct {
	Fields []string `yaml:"fields" json:"fields"`
	Unique bool     `yaml:"unique" json:"unique"`
}

// Index returns the index in the store's form.
func (ic IndexConfig) Index() db.Index {
	idx := db.Index{Unique: ic.Unique}
	for _, f := range ic.Fields {
		idx.Keys = append(idx.Keys, db.IndexKey{Field: strings.TrimPrefix(f, "-"), Desc: strings.HasPrefix(f, "-")})
	}
	return idx
}

// DefaultConfig is the configuration with no config.yaml and no environment.
// config.yaml in the repository spells out the same values.
func DefaultConfig() Config {
	return Config{
		Server: HTTPConfig{
			Addr:            "127.0.0.1:8080",
			CORSOrigins:     []string{"*"},
			ReadTimeout:     30 * time.Second,
			WriteTimeout:    30 * time.Second,
			IdleTimeout:     60 * time.Second,
			RequestTimeout:  30 * time.Second,
			ShutdownTimeout: 15 * time.Second,
		},
		DataDir: "./data",
		DB:      DBConfig{CacheKB: embedded.DefaultCacheKB, BusyTimeout: embedded.DefaultBusyTimeout},
		Log:     LogConfig{Level: "info", Format: "text"},
		Auth: AuthConfig{
			SessionTTL:        14 * 24 * time.Hour,
			SessionCache:      5 * time.Second,
			PasswordMinLength: 8,
			BcryptCost:        10,
			Throttle:          ThrottleConfig{EmailFailures: 5, AddressFailures: 20, Window: 15 * time.Minute},
			ProfileFields:     []string{"name"},
			ResetTTL:          time.Hour,
			VerifyTTL:         48 * time.Hour,
			LinkInterval:      time.Minute,
			OnDelete:          OnDeleteKeep,
		},
		Limits: LimitsConfig{BodyBytes: 1 << 20, MaxDepth: db.DefaultMaxDepth, MaxFields: db.DefaultMaxKeys},
		Events: events.DefaultConfig(),
		SMTP:   mail.Config{TLS: mail.TLSStartTLS, Timeout: mail.DefaultTimeout},
		// Spelt out, so that config.yaml can show every default.
		Functions: engine.Config{}.WithDefaults(),
		Channels:  channels.Config{}.WithDefaults(),
		Admin:     admin.Config{}.WithDefaults(),
		Webhooks:  webhooks.Config{}.WithDefaults(),
	}
}

// ErrConfig marks every configuration error.
var ErrConfig = errors.New("config")

func configErr(key, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrConfig, key, fmt.Sprintf(format, args...))
}

// Validate reports the first setting that cannot work, naming its key.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Server.Addr); err != nil {
		return configErr("server.addr", "%q is not host:port", c.Server.Addr)
	}
	if err := validateOrigins(c.Server.CORSOrigins); err != nil {
		return err
	}
	if c.AdminToken != "" && len(c.AdminToken) < minAdminTokenLen {
		return configErr("admin_token", "must be at least %d characters", minAdminTokenLen)
	}
	durations := []struct {
		key string
		d   time.Duration
	}{
		{"server.read_timeout", c.Server.ReadTimeout},
		{"server.write_timeout", c.Server.WriteTimeout},
		{"server.idle_timeout", c.Server.IdleTimeout},
		{"server.request_timeout", c.Server.RequestTimeout},
		{"server.shutdown_timeout", c.Server.ShutdownTimeout},
		{"auth.session_ttl", c.Auth.SessionTTL},
		{"auth.throttle.window", c.Auth.Throttle.Window},
	}
	for _, d := range durations {
		if d.d <= 0 {
			return configErr(d.key, "must be a positive duration such as 30s or 15m")
		}
	}
	if c.DB.CacheKB < 0 {
		return configErr("db.cache_kb", "must not be negative (0 takes the default)")
	}
	if c.DB.BusyTimeout < 0 {
		return configErr("db.busy_timeout", "must not be negative (0 takes the default)")
	}
	if c.DB.Embedded() {
		if c.DataDir == "" {
			return configErr("data_dir", "must not be empty with the embedded store")
		}
	} else if !strings.HasPrefix(c.DB.URI, "mongodb://") && !strings.HasPrefix(c.DB.URI, "mongodb+srv://") {
		return configErr("db.uri", "must be empty, embedded, or start with mongodb:// or mongodb+srv://")
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		return configErr("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return configErr("log.format", "%q is not one of text, json", c.Log.Format)
	}
	if err := c.Auth.validate(); err != nil {
		return err
	}
	ints := []struct {
		key string
		v   int
	}{
		{"limits.body_bytes", c.Limits.BodyBytes},
		{"limits.max_depth", c.Limits.MaxDepth},
		{"limits.max_fields", c.Limits.MaxFields},
	}
	for _, n := range ints {
		if n.v <= 0 {
			return configErr(n.key, "must be a positive number")
		}
	}
	if err := validateCollections(c.Collections); err != nil {
		return err
	}
	if err := c.Events.Validate(); err != nil {
		return configErr("events", "%v", err)
	}
	if err := c.SMTP.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err) // already names its smtp.* key
	}
	if err := c.Channels.Validate(); err != nil {
		return configErr("channels", "%v", strings.TrimPrefix(err.Error(), channels.ErrInvalidConfig.Error()+": "))
	}
	if err := c.Admin.Validate(); err != nil {
		return err
	}
	if err := c.Webhooks.Validate(); err != nil {
		return configErr("webhooks", "%v", strings.TrimPrefix(err.Error(), webhooks.ErrInvalidConfig.Error()+": webhooks."))
	}
	if err := c.Functions.Validate(); err != nil {
		return configErr("functions", "%v", strings.TrimPrefix(err.Error(), engine.ErrInvalidConfig.Error()+": "))
	}
	return nil
}

// validateOrigins accepts "*" alone or origins such as
// https://app.example.com, http://localhost:3000 or https://*.example.com.
func validateOrigins(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			if len(origins) > 1 {
				return configErr("server.cors_origins", `"*" allows every origin and cannot be combined with others`)
			}
			continue
		}
		u, err := url.Parse(strings.Replace(o, "://*.", "://", 1))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return configErr("server.cors_origins", "%q is not an origin such as https://app.example.com", o)
		}
	}
	return nil
}

func (a AuthConfig) validate() error {
	if a.SessionCache < 0 {
		return configErr("auth.session_cache", "must not be negative (0 turns the cache off)")
	}
	// bcrypt reads at most 72 bytes of a password.
	if a.PasswordMinLength < 1 || a.PasswordMinLength > maxPasswordBytes {
		return configErr("auth.password_min_length", "must be between 1 and %d", maxPasswordBytes)
	}
	if a.BcryptCost < 4 || a.BcryptCost > 31 {
		return configErr("auth.bcrypt_cost", "must be between 4 and 31")
	}
	if a.Throttle.EmailFailures < 1 {
		return configErr("auth.throttle.email_failures", "must be at least 1")
	}
	if a.Throttle.AddressFailures < 1 {
		return configErr("auth.throttle.address_failures", "must be at least 1")
	}
	for _, f := range a.ProfileFields {
		if f == "" || strings.HasPrefix(f, "_") || strings.HasPrefix(f, "$") || strings.ContainsAny(f, ".\x00") {
			return configErr("auth.profile_fields", "%q is not a field name (no leading _ or $, no .)", f)
		}
		if db.IsAccountField(f) || f == "id" || f == "password" {
			return configErr("auth.profile_fields", "%q is kept by the account calls; list app fields such as name or avatar", f)
		}
	}
	if a.ResetTTL <= 0 {
		return configErr("auth.reset_ttl", "must be positive")
	}
	if a.VerifyTTL <= 0 {
		return configErr("auth.verify_ttl", "must be positive")
	}
	if a.LinkInterval < 0 {
		return configErr("auth.link_interval", "must not be negative (0 sends a link for every request)")
	}
	if a.AppURL != "" {
		u, err := url.Parse(a.AppURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return configErr("auth.app_url", "%q is not an http(s) URL", a.AppURL)
		}
	}
	if a.OnDelete != OnDeleteKeep && a.OnDelete != OnDeleteDelete {
		return configErr("auth.on_delete", "%q is not one of keep, delete", a.OnDelete)
	}
	return nil
}

func validateCollections(cols map[string]CollectionConfig) error {
	names := make([]string, 0, len(cols))
	for name := range cols {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		key := "collections." + name
		if err := db.ValidateCollectionName(name); err != nil {
			return configErr(key, "not a valid collection name (use 1-64 letters, digits, _ or -, not starting with a digit or -)")
		}
		if db.IsSystemCollection(name) {
			return configErr(key, "names starting with _ belong to moonbase")
		}
		col := cols[name]
		if err := col.Access().Validate(); err != nil {
			return configErr(key, "%v", err)
		}
		for i, ic := range col.Indexes {
			if len(ic.Fields) == 0 {
				return configErr(fmt.Sprintf("%s.indexes[%d].fields", key, i), "must list at least one field")
			}
			for _, f := range ic.Fields {
				p := strings.TrimPrefix(f, "-")
				if p == "" || strings.HasPrefix(p, "$") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
					return configErr(fmt.Sprintf("%s.indexes[%d].fields", key, i), "%q is not a field path", f)
				}
			}
		}
	}
	return nil
}
