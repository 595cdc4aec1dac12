package db

import (
	"errors"
	"testing"
)

func TestCheckJSONText(t *testing.T) {
	scenarios := []struct {
		name string
		text string
		bad  bool
	}{
		{"ascii", `{"a":"b"}`, false},
		{"utf8", `{"é":"✓ 😀"}`, false},
		{"escaped pair", `{"a":"\ud83d\ude00"}`, false},
		{"escaped pair upper case", `{"a":"\uD83D\uDE00"}`, false},
		{"escaped bmp", `{"a":"\u00e9\u2713"}`, false},
		{"escaped backslash before u", `{"a":"\\ud800"}`, false},
		{"escaped quote", `{"a":"\"\ud83d\ude00"}`, false},
		{"invalid byte", "{\"a\":\"\xff\"}", true},
		{"truncated sequence", "{\"a\":\"\xc3\"}", true},
		{"encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}", true},
		{"invalid byte in key", "{\"\xfe\":1}", true},
		{"lone high surrogate", `{"a":"\ud800"}`, true},
		{"lone high surrogate at the end", `"\ud800`, true},
		{"high surrogate then letter", `{"a":"\ud800x"}`, true},
		{"two high surrogates", `{"a":"\ud800\ud800"}`, true},
		{"lone low surrogate", `{"a":"\udc00"}`, true},
		{"escaped backslash then lone surrogate", `{"a":"\\\ud800"}`, true},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			err := CheckJSONText([]byte(s.text))
			if s.bad != (err != nil) {
				t.Fatalf("CheckJSONText(%q) = %v, want an error: %v", s.text, err, s.bad)
			}
			if !s.bad {
				return
			}
			if !errors.Is(err, ErrInvalidText) || !errors.Is(err, ErrInvalidDocument) {
				t.Errorf("error %v matches neither ErrInvalidText nor ErrInvalidDocument", err)
			}
			// Both decoders refuse it too.
			if _, err := DecodeJSONValue([]byte(s.text), Limits{}); !errors.Is(err, ErrInvalidText) {
				t.Errorf("DecodeJSONValue: %v, want ErrInvalidText", err)
			}
		})
	}
}

func TestValidateDocumentRefusesInvalidUTF8Values(t *testing.T) {
	for _, doc := range []map[string]any{
		{"s": "a\xffb"},
		{"a": map[string]any{"b": []any{"ok", "\xc3"}}},
	} {
		if err := ValidateDocument(doc, Limits{}); !errors.Is(err, ErrInvalidDocument) {
			t.Errorf("ValidateDocument(%q) = %v, want ErrInvalidDocument", doc, err)
		}
	}
}
