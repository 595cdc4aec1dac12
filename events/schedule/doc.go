// Package schedule parses schedule expressions (cron, RFC 5545 RRULE and
// plain phrases) and computes their occurrences in a time zone.
package schedule
