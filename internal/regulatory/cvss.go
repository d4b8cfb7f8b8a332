package regulatory

import (
	"math"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// Exploitability thresholds on the CVSS v3 exploitability sub-score (DETERMINATION.md).
const (
	exploitHighMin   = 2.8
	exploitMediumMin = 1.6
)

// cvssKind reports which CVSS version a vector is written in ("3.0", "3.1", "4.0" or "2.0") and whether it parses.
// Vigil keeps this small and local (internal/risk owns scoring); the engine only needs to know the vector is
// well-formed and, for v3.x, its exploitability sub-score.
func cvssKind(vector string) (string, bool) {
	switch {
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		_, err := gocvss30.ParseVector(vector)
		return "3.0", err == nil
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		_, err := gocvss31.ParseVector(vector)
		return "3.1", err == nil
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		_, err := gocvss40.ParseVector(vector)
		return "4.0", err == nil
	case strings.HasPrefix(vector, "CVSS:"):
		return "", false
	}
	_, err := gocvss20.ParseVector(strings.TrimSuffix(strings.TrimPrefix(vector, "("), ")"))
	return "2.0", err == nil
}

// ExploitabilitySubScore returns the CVSS v3.x exploitability sub-score 8.22 × AV × AC × PR × UI, rounded to one
// decimal as NVD and FIRST's calculator display it (round half up: 1.6197 → 1.6, as NVD publishes for
// AV:N/AC:H/PR:N/UI:R), and false for anything but a valid v3.0 or v3.1 vector.
func ExploitabilitySubScore(vector string) (float64, bool) {
	var raw float64
	switch {
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		v, err := gocvss30.ParseVector(vector)
		if err != nil {
			return 0, false
		}
		raw = v.Exploitability()
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		v, err := gocvss31.ParseVector(vector)
		if err != nil {
			return 0, false
		}
		raw = v.Exploitability()
	default:
		return 0, false
	}
	// The 1e-9 absorbs binary error in products such as 2.835 that must round half up.
	return math.Floor(raw*10+0.5+1e-9) / 10, true
}

// ExploitabilityLevel maps a v3 exploitability sub-score to high (≥ 2.8), medium (≥ 1.6) or low.
func ExploitabilityLevel(sub float64) string {
	switch {
	case sub >= exploitHighMin:
		return ExploitHigh
	case sub >= exploitMediumMin:
		return ExploitMedium
	}
	return ExploitLow
}
