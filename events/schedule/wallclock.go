package schedule

import (
	"slices"
	"time"
)

// Cron and RRULE describe wall-clock times ("09:00 every day"), while the
// scheduler needs instants. Both rules are therefore evaluated on a clock
// without daylight saving — a "wall time" is a time.Time in UTC whose fields
// are the local date and time — and every wall time is then mapped to the
// instants it denotes in the schedule's zone. Doing the mapping here, once,
// is what makes daylight saving behave the same for cron and RRULE (both
// libraries skip or double occurrences on their own).

// wallRule is a recurrence on the wall clock.
type wallRule interface {
	// nextWall returns the first wall time strictly after w, or the zero
	// time when there is none.
	nextWall(w time.Time) time.Time
}

// wallOf returns t's local date and time in loc as a wall time.
func wallOf(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// offsetAt returns loc's UTC offset at instant t.
func offsetAt(t time.Time, loc *time.Location) time.Duration {
	_, off := t.In(loc).Zone()
	return time.Duration(off) * time.Second
}

// resolve returns the instants, in ascending order, at which loc's clocks
// show wall time w: one normally, two when the clocks go back and w occurs
// twice, none when the clocks jump over w.
func resolve(w time.Time, loc *time.Location) []time.Time {
	// Any instant showing w lies within 14 h of w read as UTC (the widest
	// offsets in use), so the offsets at both ends and in the middle cover
	// every offset loc can use there.
	var out []time.Time
	var seen []time.Duration
	for _, probe := range []time.Duration{-14 * time.Hour, 0, 14 * time.Hour} {
		off := offsetAt(w.Add(probe), loc)
		if slices.Contains(seen, off) {
			continue
		}
		seen = append(seen, off)
		t := w.Add(-off)
		if wallOf(t, loc).Equal(w) {
			out = append(out, t.In(loc))
		}
	}
	if len(out) == 2 && out[1].Before(out[0]) {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// jumpAfter returns the instant the clocks of loc jump over wall time w,
// which is the first instant whose wall time is past w.
func jumpAfter(w time.Time, loc *time.Location) time.Time {
	// Read with the offset in force before the jump, w names an instant
	// just after it; the zone period containing that instant starts at
	// the jump.
	before := offsetAt(w.Add(-14*time.Hour), loc)
	start, _ := w.Add(-before).In(loc).ZoneBounds()
	return start.In(loc)
}

// occurrences maps wall time w to the instants a schedule fires at.
//
// elapsed selects how daylight saving is handled:
//   - false (a schedule at set hours, e.g. daily at 02:30): a wall time that
//     occurs twice fires once, at its first occurrence; a wall time the
//     clocks skip fires once, at the instant they jump (03:00 local).
//   - true (a schedule that fires every hour, e.g. every 15 minutes): it
//     follows elapsed time, firing in both copies of a repeated hour and not
//     at all in an hour that does not exist.
func occurrences(w time.Time, loc *time.Location, elapsed bool) []time.Time {
	ts := resolve(w, loc)
	switch {
	case elapsed:
		return ts
	case len(ts) == 0:
		return []time.Time{jumpAfter(w, loc)}
	default:
		return ts[:1]
	}
}

// maxCandidates bounds the wall times examined for one Next call, so that a
// rule whose remaining wall times all fall on instants already passed
// cannot loop for long.
const maxCandidates = 100000

// nextOnWall returns the first instant strictly after after at which rule
// fires in loc, or the zero time.
func nextOnWall(rule wallRule, after time.Time, loc *time.Location, elapsed bool) time.Time {
	w := wallOf(after, loc)
	// Inside a repeated hour, an elapsed-time rule can still fire at the
	// second copy of a wall time earlier than after's own.
	if a, ok := overlapStart(after, loc); elapsed && ok && a.Before(w) {
		w = a
	}
	w = w.Add(-time.Nanosecond)
	var best time.Time
	for i := 0; i < maxCandidates; i++ {
		if w = rule.nextWall(w); w.IsZero() {
			break
		}
		occ := occurrences(w, loc, elapsed)
		if len(occ) == 0 {
			continue
		}
		// The first instant of a wall time grows with the wall time, so
		// once it is past the best found, no later wall time can beat it.
		if !best.IsZero() && occ[0].After(best) {
			break
		}
		for _, t := range occ {
			if t.After(after) && (best.IsZero() || t.Before(best)) {
				best = t
			}
		}
		// At set hours each wall time has one instant and they never
		// decrease, so the first one past after is the answer.
		if !elapsed && !best.IsZero() {
			break
		}
	}
	return best
}

// overlapStart reports whether instant t lies in either copy of an hour the
// clocks of loc repeat, and returns the wall time that hour starts at.
func overlapStart(t time.Time, loc *time.Location) (time.Time, bool) {
	start, end := t.In(loc).ZoneBounds()
	off := offsetAt(t, loc)
	// The second copy: the clocks went back at start.
	if !start.IsZero() {
		if before := offsetAt(start.Add(-time.Nanosecond), loc); before > off && t.Sub(start) < before-off {
			return wallOf(start, loc), true
		}
	}
	// The first copy: the clocks go back at end.
	if !end.IsZero() {
		if next := offsetAt(end, loc); next < off && end.Sub(t) <= off-next {
			return wallOf(end, loc), true
		}
	}
	return time.Time{}, false
}
