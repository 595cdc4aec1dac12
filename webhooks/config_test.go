package webhooks

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	scenarios := []struct {
		name string
		cfg  Config
		want string // in the error; empty: valid
	}{
		{"zero value", Config{}, ""},
		{"a retention of a week", Config{DeliveryRetention: 7 * 24 * time.Hour}, ""},
		{"negative delivery retention", Config{DeliveryRetention: -time.Hour}, "durations may not be negative"},
		{"negative inbound retention", Config{InboundRetention: -time.Hour}, "durations may not be negative"},
		{"too many attempts", Config{MaxAttempts: MaxAttemptsLimit + 1}, "max_attempts"},
		{"base above max", Config{BackoffBase: time.Hour, BackoffMax: time.Minute}, "backoff_base"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			err := s.cfg.Validate()
			if s.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), s.want) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig about %s", err, s.want)
			}
		})
	}
	if got := (Config{}).WithDefaults().DeliveryRetention; got != 30*24*time.Hour {
		t.Fatalf("default delivery retention %s, want 30 days", got)
	}
	if got := (Config{DeliveryRetention: time.Hour}).WithDefaults().DeliveryRetention; got != time.Hour {
		t.Fatalf("delivery retention %s, want the configured hour", got)
	}
}
