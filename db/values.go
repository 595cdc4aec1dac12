package db

import (
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TimeOf reads a date as either store gives it back: a BSON date, or a
// time.Time some drivers return. Anything else is the zero time.
func TimeOf(v any) time.Time {
	switch t := v.(type) {
	case primitive.DateTime:
		return t.Time().UTC()
	case time.Time:
		return t.UTC()
	}
	return time.Time{}
}

// Int64Of reads a whole number as either store gives it back (int32 or
// int64), or as a caller may have put it in (int, float64). Anything else
// is 0.
func Int64Of(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}
