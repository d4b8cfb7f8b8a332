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
func ResetPeak() { ResetPeakOf(0) }

// PeakMB reads VmHWM from /proc/self/status, in MiB (0 when unavailable).
func PeakMB() float64 { return PeakMBOf(0) }

// ResetPeakOf is ResetPeak for another process of the same user (a server the harness started); 0 is this one.
func ResetPeakOf(pid int) { os.WriteFile(procFile(pid, "clear_refs"), []byte("5"), 0) }

// PeakMBOf is PeakMB for another process (0: this one).
func PeakMBOf(pid int) float64 { return statusMB(pid, "VmHWM:") }

// RSSMBOf is the current resident memory (VmRSS) of a process (0: this one), in MiB.
func RSSMBOf(pid int) float64 { return statusMB(pid, "VmRSS:") }

func procFile(pid int, name string) string {
	if pid == 0 {
		return "/proc/self/" + name
	}
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}

func statusMB(pid int, field string) float64 {
	f, err := os.Open(procFile(pid, "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
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
