package server

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/db"
)

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml"), false, nil)
	if err != nil {
		t.Fatalf("a missing default file: %v", err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Errorf("got %+v, want the defaults", cfg)
	}
	if cfg.Server.Addr != "127.0.0.1:8080" || cfg.DataDir != "./data" || cfg.DB.URI != "" || !cfg.DB.Embedded() {
		t.Errorf("defaults: addr %q data_dir %q db.uri %q", cfg.Server.Addr, cfg.DataDir, cfg.DB.URI)
	}
	if cfg.Limits.BodyBytes != 1<<20 || cfg.Auth.PasswordMinLength != 8 {
		t.Errorf("defaults: body %d, password %d", cfg.Limits.BodyBytes, cfg.Auth.PasswordMinLength)
	}
}

// TestShippedConfigIsTheDefaults keeps config.yaml and DefaultConfig in
// step, and checks the file mentions every key.
func TestShippedConfigIsTheDefaults(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "config.yaml")
	cfg, err := LoadConfig(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Collections = map[string]CollectionConfig{}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config.yaml differs from DefaultConfig:\n got %+v\nwant %+v", cfg, want)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var defaults Config
	for _, key := range configKeys(reflect.ValueOf(&defaults).Elem(), "") {
		leaf := key.path[strings.LastIndex(key.path, ".")+1:]
		if !strings.Contains(string(raw), leaf) {
			t.Errorf("config.yaml does not document %s", key.path)
		}
	}
}

func TestMissingExplicitConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := LoadConfig(path, true, nil)
	if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "nope.yaml: no such file or directory") {
		t.Errorf("got %v", err)
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, `
server:
  addr: 0.0.0.0:9000
  cors_origins: [https://app.example.com, "https://*.example.org"]
data_dir: /var/lib/moonbase
auth:
  session_ttl: 1h
  throttle:
    window: 5m
collections:
  posts:
    read: public
    indexes:
      - fields: [slug]
        unique: true
      - fields: [author, -published_at]
`)
	cfg, err := LoadConfig(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Addr != "0.0.0.0:9000" || cfg.DataDir != "/var/lib/moonbase" || cfg.Auth.SessionTTL != time.Hour {
		t.Errorf("got %+v", cfg)
	}
	// Keys the file leaves out keep their defaults.
	if cfg.Server.ReadTimeout != 30*time.Second || cfg.Auth.Throttle.EmailFailures != 5 || cfg.Auth.Throttle.Window != 5*time.Minute {
		t.Errorf("defaults lost: %+v", cfg)
	}
	posts := cfg.Collections["posts"]
	if acc := posts.Access(); acc.Read != db.RulePublic || acc.Write != db.RuleOwner {
		t.Errorf("posts access %+v", acc)
	}
	idx := posts.Indexes[1].Index()
	if len(idx.Keys) != 2 || idx.Keys[1] != (db.IndexKey{Field: "published_at", Desc: true}) || idx.Unique {
		t.Errorf("second index %+v", idx)
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "server:\n  addr: 127.0.0.1:7000\n")
	env := []string{
		"MOONBASE_SERVER_ADDR=127.0.0.1:9999",
		"MOONBASE_DATA_DIR=/tmp/elsewhere",
		"MOONBASE_DB_URI=mongodb://db.example.com:27017/app",
		"MOONBASE_AUTH_SESSION_TTL=2h",
		"MOONBASE_AUTH_THROTTLE_EMAIL_FAILURES=9",
		"MOONBASE_SERVER_CORS_ORIGINS=https://a.example.com, https://b.example.com",
		"MOONBASE_ADMIN_TOKEN=an-admin-token-from-the-env",
		"MOONBASE_CHANNELS_NATS_URL=nats://127.0.0.1:4222",
		"MOONBASE_UNRELATED_THING=ignored",
		"PATH=/usr/bin",
	}
	cfg, err := LoadConfig(path, true, env)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"server.addr", cfg.Server.Addr, "127.0.0.1:9999"},
		{"data_dir", cfg.DataDir, "/tmp/elsewhere"},
		{"db.uri", cfg.DB.URI, "mongodb://db.example.com:27017/app"},
		{"auth.session_ttl", cfg.Auth.SessionTTL, 2 * time.Hour},
		{"auth.throttle.email_failures", cfg.Auth.Throttle.EmailFailures, 9},
		{"server.cors_origins", cfg.Server.CORSOrigins, []string{"https://a.example.com", "https://b.example.com"}},
		{"admin_token", cfg.AdminToken, "an-admin-token-from-the-env"},
		{"channels.nats_url", cfg.Channels.NATSURL, "nats://127.0.0.1:4222"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.key, c.got, c.want)
		}
	}
}

func TestEnvNames(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"server.addr":                  "MOONBASE_SERVER_ADDR",
		"data_dir":                     "MOONBASE_DATA_DIR",
		"db.uri":                       "MOONBASE_DB_URI",
		"auth.throttle.email_failures": "MOONBASE_AUTH_THROTTLE_EMAIL_FAILURES",
	} {
		if got := EnvName(path); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", path, got, want)
		}
	}
	// No two keys may share a variable.
	var cfg Config
	seen := map[string]string{}
	for _, key := range configKeys(reflect.ValueOf(&cfg).Elem(), "") {
		name := EnvName(key.path)
		if other, dup := seen[name]; dup {
			t.Errorf("%s and %s both map to %s", other, key.path, name)
		}
		seen[name] = key.path
	}
	if seen["MOONBASE_ADMIN_TOKEN"] != "admin_token" {
		t.Error("MOONBASE_ADMIN_TOKEN does not set admin_token")
	}
}

// TestConfigErrors checks each refusal is one line naming the key.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml string
		env        []string
		want       string
	}{
		{"unknown top-level key", "colections: {}\n", nil, "line 1: unknown key colections"},
		{"unknown nested key", "server:\n  adr: x\n", nil, "line 2: unknown key adr"},
		{"wrong type", "server:\n  read_timeout: soon\n", nil, "line 2: cannot unmarshal"},
		{"bad addr", "server:\n  addr: localhost\n", nil, `server.addr: "localhost" is not host:port`},
		{"bad db uri", "db:\n  uri: postgres://x\n", nil, "db.uri: must be empty, embedded, or start with mongodb:// or mongodb+srv://"},
		{"negative page cache", "db:\n  cache_kb: -1\n", nil, "db.cache_kb: must not be negative (0 takes the default)"},
		{"negative busy timeout", "db:\n  busy_timeout: -1s\n", nil, "db.busy_timeout: must not be negative (0 takes the default)"},
		{"bad rule", "collections:\n  posts:\n    read: everyone\n", nil, `collections.posts: unknown access rule "everyone"`},
		{"system collection", "collections:\n  _users: {}\n", nil, "collections._users: names starting with _ belong to moonbase"},
		{"bad collection name", "collections:\n  \"a b\": {}\n", nil, "collections.a b: not a valid collection name"},
		{"empty index", "collections:\n  posts:\n    indexes:\n      - unique: true\n", nil, "collections.posts.indexes[0].fields: must list at least one field"},
		{"bad origin", "server:\n  cors_origins: [example.com]\n", nil, `server.cors_origins: "example.com" is not an origin`},
		{"zero duration", "auth:\n  session_ttl: 0s\n", nil, "auth.session_ttl: must be a positive duration"},
		{"bad channel rule", "channels:\n  \"room:*\":\n    send: everyone\n", nil, `channels: room:*.send: "everyone" is not one of public, authenticated, member, none`},
		{"bad channel rule under rules", "channels:\n  rules:\n    \"room:*\":\n      send: everyone\n", nil, `channels: room:*.send: "everyone" is not one of public, authenticated, member, none`},
		{"bad channel pattern", "channels:\n  \"a*b\": {}\n", nil, "a*b is neither a setting"},
		{"bad channel pattern under rules", "channels:\n  rules:\n    \"a*b\": {}\n", nil, "channels: a*b: a pattern is a channel name"},
		{"misspelt channels setting", "channels:\n  nats_ur: nats://127.0.0.1:4222\n", nil, "nats_ur: a channel pattern holds a rule"},
		{"unknown channel rule key", "channels:\n  lobby:\n    histroy: 5\n", nil, "unknown key histroy"},
		{"bad NATS URL", "channels:\n  nats_url: localhost:4222\n", nil, `channels: nats_url: "localhost:4222" is not a URL`},
		{"short presence timeout", "channels:\n  heartbeat: 10s\n  presence_timeout: 15s\n", nil, "channels: presence_timeout: must be at least twice heartbeat"},
		{"short password minimum", "auth:\n  password_min_length: 0\n", nil, "auth.password_min_length: must be between 1 and 72"},
		{"bcrypt cost", "auth:\n  bcrypt_cost: 3\n", nil, "auth.bcrypt_cost: must be between 4 and 31"},
		{"profile field kept by the account calls", "auth:\n  profile_fields: [name, email]\n", nil, `auth.profile_fields: "email" is kept by the account calls`},
		{"profile field not a name", "auth:\n  profile_fields: [a.b]\n", nil, `auth.profile_fields: "a.b" is not a field name`},
		{"reserved profile field", "auth:\n  profile_fields: [_owner]\n", nil, `auth.profile_fields: "_owner" is not a field name`},
		{"reset ttl", "auth:\n  reset_ttl: 0s\n", nil, "auth.reset_ttl: must be positive"},
		{"verify ttl", "auth:\n  verify_ttl: -1h\n", nil, "auth.verify_ttl: must be positive"},
		{"link interval", "auth:\n  link_interval: -1s\n", nil, "auth.link_interval: must not be negative"},
		{"app url", "auth:\n  app_url: ftp://x\n", nil, `auth.app_url: "ftp://x" is not an http(s) URL`},
		{"delete policy", "auth:\n  on_delete: purge\n", nil, `auth.on_delete: "purge" is not one of keep, delete`},
		{"log level", "log:\n  level: loud\n", nil, `log.level: "loud" is not one of debug, info, warn, error`},
		{"env duration", "", []string{"MOONBASE_AUTH_SESSION_TTL=forever"}, `MOONBASE_AUTH_SESSION_TTL (auth.session_ttl): "forever" is not a duration`},
		{"env number", "", []string{"MOONBASE_LIMITS_BODY_BYTES=1MB"}, `MOONBASE_LIMITS_BODY_BYTES (limits.body_bytes): "1MB" is not a whole number`},
		{"short admin token", "", []string{"MOONBASE_ADMIN_TOKEN=short"}, "admin_token: must be at least 16 characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfig(writeConfig(t, c.yaml), true, c.env)
			if err == nil {
				t.Fatalf("accepted; want %q", c.want)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("%v is not ErrConfig", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q lacks %q", msg, c.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
		})
	}
}
