package channels

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		cfg  Config
		key  string // "" is valid
	}{
		{"defaults", Config{}, ""},
		{"every kind of pattern", Config{Rules: map[string]Rule{"lobby": {}, "room:*": {Send: Member, History: intp(50)}, UserPattern: {History: intp(10)}, "*": {Join: Public}}}, ""},
		{"NATS", Config{NATSURL: "nats://127.0.0.1:4222"}, ""},
		{"bad NATS URL", Config{NATSURL: "http://x"}, "nats_url"},
		{"bad NATS subject", Config{NATSSubject: "a.*"}, "nats_subject"},
		{"bad join", Config{Rules: map[string]Rule{"x": {Join: "member"}}}, "x.join"},
		{"bad send", Config{Rules: map[string]Rule{"x": {Send: "everyone"}}}, "x.send"},
		{"negative history", Config{Rules: map[string]Rule{"x": {History: intp(-1)}}}, "x.history"},
		{"huge history", Config{Rules: map[string]Rule{"x": {History: intp(MaxHistory + 1)}}}, "x.history"},
		{"negative size", Config{Rules: map[string]Rule{"x": {MaxMessageBytes: -1}}}, "x.max_message_bytes"},
		{"star inside a pattern", Config{Rules: map[string]Rule{"a*b": {}}}, "a*b"},
		{"space in a pattern", Config{Rules: map[string]Rule{"a b": {}}}, "a b"},
		{"other placeholder", Config{Rules: map[string]Rule{"team:{team}": {}}}, "team:{team}"},
		{"negative rate", Config{MessagesPerSecond: -1}, "messages_per_second"},
		{"negative queue", Config{SendQueue: -5}, "send_queue"},
		{"timeout under two heartbeats", Config{Heartbeat: 10 * time.Second, PresenceTimeout: 15 * time.Second}, "presence_timeout"},
		{"negative poll", Config{PollInterval: -time.Second}, "poll_interval"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			err := s.cfg.Validate()
			if s.key == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), s.key+":") {
				t.Fatalf("error %v, want one naming %s", err, s.key)
			}
		})
	}
}

func TestRuleMatching(t *testing.T) {
	t.Parallel()
	r := newRules(map[string]Rule{
		"room:*":     {Join: Public, History: intp(1)},
		"room:vip:*": {Join: None},
		"room:hall":  {History: intp(7)},
		UserPattern:  {History: intp(3)},
	})
	scenarios := []struct {
		channel string
		join    string
		history int
	}{
		{"room:1", Public, 1},
		{"room:vip:1", None, 0},
		{"room:hall", Authenticated, 7},
		{"user:u1", Authenticated, 3},
		{"other", Authenticated, 0},
	}
	for _, s := range scenarios {
		got := r.match(s.channel)
		if got.Join != s.join || got.HistorySize() != s.history || !got.HasPresence() || got.MaxMessageBytes != DefaultMaxMessageBytes {
			t.Errorf("%s: %+v, want join %s history %d", s.channel, got, s.join, s.history)
		}
	}
	if r.match("user:u1").Send != Member || r.match("other").Send != Authenticated {
		t.Errorf("default send rules: user channel %s, other %s", r.match("user:u1").Send, r.match("other").Send)
	}
}

func TestConfigFromYAML(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name    string
		yaml    string
		check   func(t *testing.T, c Config)
		wantErr string // "" decodes and validates
	}{
		{
			name: "settings and patterns side by side",
			yaml: "channels:\n  nats_url: nats://127.0.0.1:4222\n  heartbeat: 2s\n  presence_timeout: 9s\n  \"room:*\":\n    send: member\n    history: 100\n  \"user:{user}\":\n    history: 20\n  lobby: {join: public}\n  \"*\":\n    presence: false\n",
			check: func(t *testing.T, c Config) {
				if c.NATSURL != "nats://127.0.0.1:4222" || c.Heartbeat != 2*time.Second || c.PresenceTimeout != 9*time.Second {
					t.Errorf("settings: %+v", c)
				}
				if len(c.Rules) != 4 || c.Rules["room:*"].Send != Member || c.Rules["room:*"].HistorySize() != 100 ||
					c.Rules[UserPattern].HistorySize() != 20 || c.Rules["lobby"].Join != Public || c.Rules["*"].HasPresence() {
					t.Errorf("rules: %+v", c.Rules)
				}
			},
		},
		{
			name: "patterns under rules, as before",
			yaml: "channels:\n  rules:\n    \"room:*\":\n      history: 5\n  max_channels: 7\n",
			check: func(t *testing.T, c Config) {
				if c.MaxChannels != 7 || len(c.Rules) != 1 || c.Rules["room:*"].HistorySize() != 5 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "both places at once",
			yaml: "channels:\n  rules:\n    a: {history: 1}\n  b: {history: 2}\n",
			check: func(t *testing.T, c Config) {
				if len(c.Rules) != 2 || c.Rules["a"].HistorySize() != 1 || c.Rules["b"].HistorySize() != 2 {
					t.Errorf("rules: %+v", c.Rules)
				}
			},
		},
		{
			name: "settings left out keep their defaults",
			yaml: "channels:\n  lobby: {}\n",
			check: func(t *testing.T, c Config) {
				if c.Heartbeat != DefaultHeartbeat || c.SendQueue != DefaultSendQueue {
					t.Errorf("defaults lost: %+v", c)
				}
				if _, ok := c.Rules["lobby"]; !ok {
					t.Errorf("rules: %+v", c.Rules)
				}
			},
		},
		{
			name: "an empty section",
			yaml: "channels:\n",
			check: func(t *testing.T, c Config) {
				if c.Heartbeat != DefaultHeartbeat || c.Rules != nil {
					t.Errorf("got %+v", c)
				}
			},
		},
		{name: "a pattern listed in both places", yaml: "channels:\n  rules:\n    a: {}\n  a: {}\n", wantErr: "a is listed both under channels and under channels.rules"},
		{name: "not a pattern", yaml: "channels:\n  \"a*b\": {}\n", wantErr: "a*b is neither a setting (gap_timeout, heartbeat, max_channels"},
		{name: "a placeholder other than user", yaml: "channels:\n  \"team:{team}\": {}\n", wantErr: "team:{team} is neither a setting"},
		{name: "a misspelt setting", yaml: "channels:\n  nats_ur: nats://x:4222\n", wantErr: "nats_ur: a channel pattern holds a rule"},
		{name: "a misspelt rule key", yaml: "channels:\n  lobby:\n    histroy: 5\n", wantErr: "lobby: a channel pattern holds a rule (join, send, history, presence, max_message_bytes): unknown key histroy"},
		{name: "a misspelt rule key under rules", yaml: "channels:\n  rules:\n    lobby: {histroy: 5}\n", wantErr: "unknown key histroy"},
		{name: "a bad setting value", yaml: "channels:\n  heartbeat: soon\n", wantErr: "invalid channels configuration"},
		{name: "not a map", yaml: "channels: [a, b]\n", wantErr: "channels: must be a map"},
		{name: "a bad rule value", yaml: "channels:\n  \"room:*\": {send: everyone}\n", wantErr: "room:*.send: \"everyone\" is not one of"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			var file struct {
				Channels Config `yaml:"channels"`
			}
			file.Channels = Config{}.WithDefaults()
			dec := yaml.NewDecoder(strings.NewReader(s.yaml))
			dec.KnownFields(true)
			err := dec.Decode(&file)
			if err == nil {
				err = file.Channels.Validate()
			}
			if s.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, s.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			s.check(t, file.Channels)
		})
	}
}
