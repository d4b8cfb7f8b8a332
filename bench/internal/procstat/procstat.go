// Package procstat reads what the benchmark harnesses report about their own process: CPU time, peak resident
// memory (Linux VmHWM, resettable per phase) and the machine's load average, so every harness measures the same way.
package procstat

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// CPUSeconds is the user and system time this process has used.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// ResetPeak resets the kernel's peak-RSS counter (VmHWM) of this process, so a phase reports its own peak.
func ResetPeak() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// PeakMB reads VmHWM from /proc/self/status, in MiB (0 when unavailable).
func PeakMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// Load1 is the one-minute load average (0 when unavailable).
func Load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
