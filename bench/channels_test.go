package main

import "testing"

func TestStampOf(t *testing.T) {
	scenarios := []struct {
		frame string
		t     int64
		ok    bool
	}{
		{`{"type":"message","channel":"bench:room","offset":3,"user":null,"data":{"t":1765130000123456789},"at":"2026-12-07T18:00:00.000Z"}`, 1765130000123456789, true},
		{`{"type":"message","data":{"t":42}}`, 42, true},
		{`{"type":"ok","id":1,"offset":3}`, 0, false},
		{`{"type":"message","data":{"x":1}}`, 0, false},
		{`{"type":"message","data":{"t":"soon"}}`, 0, false},
	}
	for _, s := range scenarios {
		got, ok := stampOf([]byte(s.frame))
		if got != s.t || ok != s.ok {
			t.Errorf("stampOf(%s) = %d, %v; want %d, %v", s.frame, got, ok, s.t, s.ok)
		}
	}
}
