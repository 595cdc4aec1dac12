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

// maxShift bounds how far two UTC offsets of one zone can be apart around a
// transition. Real zones shift by at most two hours; three leaves room.
const maxShift = 3 * time.Hour

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
	// Where the offset changes near after, a wall time somewhat earlier
	// than after's own can still fall later in real time (the second copy
	// of a repeated hour), so the search starts early by the change.
	spread := offsetSpread(after, loc)
	w := wallOf(after, loc).Add(-spread - time.Nanosecond)
	var best time.Time
	var bestLimit time.Time
	for i := 0; i < maxCandidates; i++ {
		w = rule.nextWall(w)
		if w.IsZero() {
			break
		}
		// A wall time fires no earlier than w minus the largest offset
		// nearby; once that is past the best instant found, no later wall
		// time can beat it.
		if !best.IsZero() && w.After(bestLimit) {
			break
		}
		for _, t := range occurrences(w, loc, elapsed) {
			if t.After(after) && (best.IsZero() || t.Before(best)) {
				best = t
				bestLimit = wallOf(best, loc).Add(offsetSpread(best, loc))
			}
		}
	}
	return best
}

// offsetSpread returns how far loc's UTC offsets differ within maxShift of
// instant t: zero away from daylight-saving changes.
func offsetSpread(t time.Time, loc *time.Location) time.Duration {
	lo, hi := offsetAt(t, loc), offsetAt(t, loc)
	for _, d := range []time.Duration{-maxShift, maxShift} {
		off := offsetAt(t.Add(d), loc)
		lo, hi = min(lo, off), max(hi, off)
	}
	return hi - lo
}
