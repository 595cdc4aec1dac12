package channels

import (
	"errors"
	"strings"
	"testing"
	"time"
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
		{"bad join", Config{Rules: map[string]Rule{"x": {Join: "member"}}}, "rules.x.join"},
		{"bad send", Config{Rules: map[string]Rule{"x": {Send: "everyone"}}}, "rules.x.send"},
		{"negative history", Config{Rules: map[string]Rule{"x": {History: intp(-1)}}}, "rules.x.history"},
		{"huge history", Config{Rules: map[string]Rule{"x": {History: intp(MaxHistory + 1)}}}, "rules.x.history"},
		{"negative size", Config{Rules: map[string]Rule{"x": {MaxMessageBytes: -1}}}, "rules.x.max_message_bytes"},
		{"star inside a pattern", Config{Rules: map[string]Rule{"a*b": {}}}, "rules.a*b"},
		{"space in a pattern", Config{Rules: map[string]Rule{"a b": {}}}, "rules.a b"},
		{"other placeholder", Config{Rules: map[string]Rule{"team:{team}": {}}}, "rules.team:{team}"},
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
