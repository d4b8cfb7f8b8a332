package risk

import (
	"math"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
)

// CVSS versions as ParseCVSS reports them.
const (
	CVSS20 = "2.0"
	CVSS30 = "3.0"
	CVSS31 = "3.1"
	CVSS40 = "4.0"
)

// Qualitative severity ratings (CVSS v3.x/v4.0 §5; NVD's ranges for v2, which has no NONE or CRITICAL).
const (
	SeverityNone     = "NONE"
	SeverityLow      = "LOW"
	SeverityMedium   = "MEDIUM"
	SeverityHigh     = "HIGH"
	SeverityCritical = "CRITICAL"
)

// maxVectorLen bounds the vectors ParseCVSS reads. The longest valid vector (v4.0 with every metric) is about
// 230 bytes; anything much longer is not a vector and must not cost more than a length check.
const maxVectorLen = 512

// CVSS is a parsed and scored CVSS vector. Its JSON form is what `vigil cvss` prints; the names follow FIRST's
// CVSS JSON schemas (baseScore, temporalScore, threatScore, environmentalScore) in snake case.
type CVSS struct {
	Version   string  `json:"version"` // CVSS20, CVSS30, CVSS31 or CVSS40
	Vector    string  `json:"vector"`
	BaseScore float64 `json:"base_score"`
	// Severity is the qualitative rating of the base score. For v2 it uses NVD's v2 ranges (LOW < 4.0 <= MEDIUM
	// < 7.0 <= HIGH), since the v2 standard defines no words.
	Severity string `json:"severity"`
	// Exploitability is the exploitability sub-score, rounded to one decimal as NVD publishes it: v3.x
	// 8.22×AV×AC×PR×UI, v2 20×AV×AC×Au. CVSS v4.0 has no such sub-score: nil.
	Exploitability *float64 `json:"exploitability"`
	// TemporalScore (v2, v3.x) is present when the vector defines a temporal metric.
	TemporalScore *float64 `json:"temporal_score,omitempty"`
	// ThreatScore (v4.0) is the CVSS-BT score, present when the vector defines E.
	ThreatScore *float64 `json:"threat_score,omitempty"`
	// EnvironmentalScore is present when the vector defines an environmental metric (for v4.0: the CVSS-BE or
	// CVSS-BTE score).
	EnvironmentalScore *float64 `json:"environmental_score,omitempty"`
	// Nomenclature (v4.0) names the metric groups the vector's own score uses: CVSS-B, CVSS-BT, CVSS-BE or CVSS-BTE.
	Nomenclature string `json:"nomenclature,omitempty"`

	metrics map[string]string // the metrics the vector states, as written
}

// Score returns the most specific score the vector yields: environmental, else temporal (or v4.0 threat), else
// base. This is the score the vector as a whole stands for.
func (c CVSS) Score() float64 {
	switch {
	case c.EnvironmentalScore != nil:
		return *c.EnvironmentalScore
	case c.TemporalScore != nil:
		return *c.TemporalScore
	case c.ThreatScore != nil:
		return *c.ThreatScore
	}
	return c.BaseScore
}

// Metric returns the value the vector gives metric name (as abbreviated by the version's specification), or ""
// when the vector does not state it.
func (c CVSS) Metric(name string) string { return c.metrics[name] }

// metricSpec is one metric of one CVSS version: its abbreviation, the values it may take, and whether a vector
// must state it.
type metricSpec struct {
	name     string
	values   []string
	required bool
}

// ParseCVSS parses and scores a CVSS v2.0, v3.0, v3.1 or v4.0 vector. v3.x vectors start with CVSS:3.0/ or
// CVSS:3.1/, v4.0 vectors with CVSS:4.0/, and v2 vectors have no prefix
// (AV:N/AC:L/Au:N/C:P/I:P/A:P; NVD's legacy parenthesized form is read too, and Vector drops the parentheses).
//
// Every error is EINVALID and names the metric at fault. A metric may appear only once and every base metric is
// required. Order is checked as each specification defines it: v2.0 and v4.0 fix the order of metrics (v4.0's
// schema enforces it), so a metric out of that order is rejected; v3.0 and v3.1 state a preferred order but say
// other orders are valid (and FIRST's own calculator test vectors use one), so v3.x accepts any order.
func ParseCVSS(vector string) (CVSS, error) {
	if len(vector) > maxVectorLen {
		return CVSS{}, vigil.Errorf(vigil.EINVALID, "cvss vector: %d bytes, longer than any valid vector (%d)", len(vector), maxVectorLen)
	}
	v := strings.TrimSpace(vector)
	if v == "" {
		return CVSS{}, vigil.Errorf(vigil.EINVALID, "cvss vector: empty")
	}
	var (
		version, body string
		specs         []metricSpec
		ordered       bool
	)
	switch {
	case strings.HasPrefix(v, "CVSS:3.0/"):
		version, body, specs = CVSS30, v[len("CVSS:3.0/"):], specV3
	case strings.HasPrefix(v, "CVSS:3.1/"):
		version, body, specs = CVSS31, v[len("CVSS:3.1/"):], specV3
	case strings.HasPrefix(v, "CVSS:4.0/"):
		version, body, specs, ordered = CVSS40, v[len("CVSS:4.0/"):], specV4, true
	case strings.HasPrefix(v, "CVSS:"):
		head, _, _ := strings.Cut(v, "/")
		return CVSS{}, vigil.Errorf(vigil.EINVALID, "cvss vector %q: unsupported version prefix %q (want CVSS:3.0/, CVSS:3.1/, CVSS:4.0/ or a v2 vector without prefix)", clip(v), clip(head))
	default:
		// NVD's legacy display wraps a v2 vector in parentheses: "(AV:N/AC:L/Au:N/C:P/I:P/A:P)".
		if len(v) > 2 && v[0] == '(' && v[len(v)-1] == ')' {
			v = v[1 : len(v)-1]
		}
		version, body, specs, ordered = CVSS20, v, specV2, true
	}
	m, err := parseMetrics(body, specs, ordered)
	if err != nil {
		return CVSS{}, vigil.Errorf(vigil.EINVALID, "cvss v%s vector %q: %s", version, clip(v), err.Error())
	}
	c := CVSS{Version: version, Vector: v, metrics: m}
	switch version {
	case CVSS20:
		scoreV2(&c)
	case CVSS30, CVSS31:
		if err := scoreV3(&c); err != nil {
			// parseMetrics accepted what the library refuses: a disagreement between two validators, kept as
			// EINVALID so that no input can turn into a server error.
			return CVSS{}, vigil.Errorf(vigil.EINVALID, "cvss v%s vector %q: %s", version, clip(v), err.Error())
		}
	case CVSS40:
		scoreV4(&c)
	}
	return c, nil
}

// problem is a parse error local to this file; ParseCVSS wraps it with the vector.
type problem string

func (p problem) Error() string { return string(p) }

// parseMetrics splits body into name:value pairs and checks each against specs: known name, allowed value, no
// duplicate, every required metric present and, when ordered, the specification's order.
func parseMetrics(body string, specs []metricSpec, ordered bool) (map[string]string, error) {
	index := func(name string) int {
		for i := range specs {
			if specs[i].name == name {
				return i
			}
		}
		return -1
	}
	m := make(map[string]string, len(specs))
	last := -1
	rest := body
	for n := 0; ; n++ {
		if n >= len(specs) {
			return nil, problem("more metrics than the version defines")
		}
		seg, tail, more := strings.Cut(rest, "/")
		name, value, ok := strings.Cut(seg, ":")
		switch {
		case seg == "":
			return nil, problem("empty metric (a stray \"/\")")
		case !ok:
			return nil, problem("metric " + quote(seg) + ": want NAME:VALUE")
		case name == "":
			return nil, problem("metric " + quote(seg) + ": empty name")
		}
		i := index(name)
		if i < 0 {
			return nil, problem("unknown metric " + quote(name))
		}
		if _, dup := m[name]; dup {
			return nil, problem("metric " + quote(name) + ": given twice")
		}
		if !contains(specs[i].values, value) {
			return nil, problem("metric " + quote(name) + ": value " + quote(value) + " is not one of " + strings.Join(specs[i].values, ", "))
		}
		if ordered && i < last {
			return nil, problem("metric " + quote(name) + ": out of order (it must come before " + quote(specs[last].name) + ")")
		}
		m[name] = value
		last = i
		if !more {
			break
		}
		rest = tail
	}
	for _, s := range specs {
		if _, ok := m[s.name]; s.required && !ok {
			return nil, problem("base metric " + quote(s.name) + ": missing")
		}
	}
	return m, nil
}

// defined reports whether the vector states any of names with a value other than "not defined".
func (c CVSS) defined(names ...string) bool {
	for _, n := range names {
		if v, ok := c.metrics[n]; ok && v != "X" && v != "ND" {
			return true
		}
	}
	return false
}

// rating returns the v3.x/v4.0 qualitative rating of score.
func rating(score float64) string {
	switch {
	case score >= 9.0:
		return SeverityCritical
	case score >= 7.0:
		return SeverityHigh
	case score >= 4.0:
		return SeverityMedium
	case score >= 0.1:
		return SeverityLow
	}
	return SeverityNone
}

// roundHalfUp1 rounds x to one decimal, halves up. The small epsilon absorbs binary floating-point error so that
// a value that is exactly x.x5 in decimal (8.55 = 9.0×0.95) rounds up as the specifications' calculators do.
func roundHalfUp1(x float64) float64 {
	r := math.Floor(x*10+0.5+1e-6) / 10
	if r == 0 {
		return 0 // no negative zero in the output
	}
	return r
}

func ptr(f float64) *float64 { return &f }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// quote quotes s for an error message, clipped so that hostile input cannot make messages huge.
func quote(s string) string { return strconv.Quote(clip(s)) }

func clip(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
