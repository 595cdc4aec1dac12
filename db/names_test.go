package db

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateIndexName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("n", 128)
	for name, want := range map[string]string{
		"email_1":           "",
		"status_1_run_at_1": "",
		"":                  `invalid name: index "": use 1-127 characters, not starting with $`,
		"*":                 `invalid name: index "*": use 1-127 characters, not starting with $`,
		"$x":                `invalid name: index "$x": use 1-127 characters, not starting with $`,
		"a\x00b":            `invalid name: index "a\x00b": use 1-127 characters, not starting with $`,
		long:                `invalid name: index "` + long + `": use 1-127 characters, not starting with $`,
	} {
		err := ValidateIndexName(name)
		switch {
		case want == "" && err != nil:
			t.Errorf("ValidateIndexName(%q) = %v, want nil", name, err)
		case want != "" && (err == nil || err.Error() != want || !errors.Is(err, ErrInvalidName)):
			t.Errorf("ValidateIndexName(%q) = %v, want %q", name, err, want)
		}
	}
}
