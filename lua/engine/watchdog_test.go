package engine

import (
	"runtime/debug"
	"testing"
)

// While runs are in progress the collector waits for the heap to reach
// half the limit, whatever the live heap; once the live heap is past a
// quarter its own setting does that already; and its setting comes back
// when the runs end. A watchdog that does not pace the collector leaves it
// alone.
func TestWatchdogFloorsTheCollector(t *testing.T) {
	const limit = 256 << 20
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)

	w := &watchdog{limit: limit, gcPercent: 100, gcSet: 100}
	w.floorGC(4 << 20) // a heap of 4 MiB would be collected at 8 MiB
	if got := debug.SetGCPercent(w.gcSet); got != 3100 || w.gcSet != 3100 {
		t.Fatalf("GOGC with a live heap of 4 MiB = %d (watchdog says %d), want 3100: a first collection at 128 MiB", got, w.gcSet)
	}
	w.floorGC(9 << 19) // 4.5 MiB: a small change is not worth a call
	if w.gcSet != 3100 {
		t.Fatalf("GOGC after a small change = %d, want it left at 3100", w.gcSet)
	}
	w.floorGC(100 << 20) // 200 MiB is past half the limit already
	if got := debug.SetGCPercent(w.gcSet); got != 100 {
		t.Fatalf("GOGC with a live heap of 100 MiB = %d, want the setting's own 100", got)
	}
	w.floorGC(2 << 20)
	w.unfloorGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC after the runs = %d, want 100 back", got)
	}

	alone := &watchdog{limit: limit} // newWatchdog with paceGC false
	alone.floorGC(1 << 20)
	alone.unfloorGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("a watchdog that does not pace the collector set GOGC to %d", got)
	}
}
