package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// resetPeakRSS makes the kernel's peak resident set (VmHWM) start again
// from the current one (Linux 4.0 and later), so each scenario reports its
// own peak rather than the whole run's.
func resetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads the process's peak resident set in bytes.
func peakRSS() (int64, error) {
	return procStatusKB("VmHWM")
}

func procStatusKB(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New(field + " not in /proc/self/status")
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs       int
	GOMAXPROCS int
	CPUModel   string
	Memory     string
	Go         string
	Load       string
}

// ReadMachine gathers the machine description from the runtime and /proc.
func ReadMachine() Machine {
	m := Machine{
		CPUs:       runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		CPUModel:   "unknown",
		Memory:     "unknown",
		Go:         runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Load:       loadAverage(),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return m
}

// loadAverage is the 1, 5 and 15 minute load averages, as uptime shows.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// writeHeader prints the report's preamble and the table's head.
func writeHeader(w io.Writer, m Machine, command string, opts RunOptions, docs int) {
	fmt.Fprintf(w, "### %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- command: `%s`\n", command)
	fmt.Fprintf(w, "- machine: %d CPUs (GOMAXPROCS %d), %s, %s RAM\n", m.CPUs, m.GOMAXPROCS, m.CPUModel, m.Memory)
	fmt.Fprintf(w, "- Go: %s\n", m.Go)
	fmt.Fprintf(w, "- load average before: %s\n", m.Load)
	measure := fmt.Sprintf("%s measured", opts.Duration)
	if opts.Ops > 0 {
		measure = fmt.Sprintf("%d operations measured", opts.Ops)
	}
	fmt.Fprintf(w, "- each scenario: %s warm-up, then %s; collections of %d documents\n\n", opts.Warmup, measure, docs)
	fmt.Fprintln(w, "| scenario | workers | ops | ops/s | p50 | p99 | CPU cores | ops/CPU-s | peak RSS | errors |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
}

// writeRow prints one scenario's result as a table row.
func writeRow(w io.Writer, r Result) {
	rss := fmt.Sprintf("%.0f MiB", float64(r.PeakRSS)/(1<<20))
	if !r.PeakReset {
		rss += " (whole run)"
	}
	errs := strconv.FormatUint(r.Errors, 10)
	if r.FirstErr != nil {
		errs += ": " + strings.ReplaceAll(r.FirstErr.Error(), "|", "\\|")
	}
	fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %.2f | %s | %s | %s |\n",
		r.Name, r.Workers, r.Ops, thousands(r.OpsPerSec()), latency(r.P50), latency(r.P99),
		r.Cores(), thousands(r.OpsPerCPUSecond()), rss, errs)
}

// writeFooter prints what follows the table.
func writeFooter(w io.Writer) {
	fmt.Fprintf(w, "\nload average after: %s\n", loadAverage())
}

// thousands formats a rate as a whole number with thousands separators.
func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// latency formats a duration with three significant digits in a unit that
// suits it.
func latency(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.3g µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3g s", d.Seconds())
}
