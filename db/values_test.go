package db

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestStoredValues(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	paris := at.In(time.FixedZone("CET", 3600))
	times := []struct {
		name string
		v    any
		want time.Time
	}{
		{"BSON date", primitive.NewDateTimeFromTime(at), at},
		{"time in another zone", paris, at},
		{"string", "2026-01-02T03:04:05Z", time.Time{}},
		{"nil", nil, time.Time{}},
	}
	for _, s := range times {
		if got := TimeOf(s.v); !got.Equal(s.want) || got.Location() != time.UTC {
			t.Errorf("TimeOf(%s) = %v, want %v in UTC", s.name, got, s.want)
		}
	}
	ints := []struct {
		name string
		v    any
		want int64
	}{
		{"int64", int64(1) << 40, 1 << 40},
		{"int32", int32(-7), -7},
		{"int", 12, 12},
		{"float64", 3.9, 3},
		{"string", "5", 0},
		{"nil", nil, 0},
	}
	for _, s := range ints {
		if got := Int64Of(s.v); got != s.want {
			t.Errorf("Int64Of(%s) = %d, want %d", s.name, got, s.want)
		}
	}
}
