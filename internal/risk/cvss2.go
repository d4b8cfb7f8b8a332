package risk

import "math"

// specV2 is CVSS v2.0 (FIRST, "A Complete Guide to the Common Vulnerability Scoring System Version 2.0", §2 and
// §3.2), in the guide's order. Temporal and environmental metrics are optional one by one: real vectors (and the
// cvsslib test vectors) leave some out, which means "not defined".
var specV2 = []metricSpec{
	{"AV", []string{"L", "A", "N"}, true},
	{"AC", []string{"H", "M", "L"}, true},
	{"Au", []string{"M", "S", "N"}, true},
	{"C", []string{"N", "P", "C"}, true},
	{"I", []string{"N", "P", "C"}, true},
	{"A", []string{"N", "P", "C"}, true},
	{"E", []string{"U", "POC", "F", "H", "ND"}, false},
	{"RL", []string{"OF", "TF", "W", "U", "ND"}, false},
	{"RC", []string{"UC", "UR", "C", "ND"}, false},
	{"CDP", []string{"N", "L", "LM", "MH", "H", "ND"}, false},
	{"TD", []string{"N", "L", "M", "H", "ND"}, false},
	{"CR", []string{"L", "M", "H", "ND"}, false},
	{"IR", []string{"L", "M", "H", "ND"}, false},
	{"AR", []string{"L", "M", "H", "ND"}, false},
}

// v2 is written here rather than taken from go-cvss because that library rejects vectors that leave out single
// temporal or environmental metrics and rounds 8.55 down to 8.5 (binary floating point), both of which the
// published test vectors catch.
var v2Weights = map[string]map[string]float64{
	"AV":  {"L": 0.395, "A": 0.646, "N": 1.0},
	"AC":  {"H": 0.35, "M": 0.61, "L": 0.71},
	"Au":  {"M": 0.45, "S": 0.56, "N": 0.704},
	"C":   {"N": 0, "P": 0.275, "C": 0.660},
	"I":   {"N": 0, "P": 0.275, "C": 0.660},
	"A":   {"N": 0, "P": 0.275, "C": 0.660},
	"E":   {"U": 0.85, "POC": 0.9, "F": 0.95, "H": 1.0, "ND": 1.0},
	"RL":  {"OF": 0.87, "TF": 0.90, "W": 0.95, "U": 1.0, "ND": 1.0},
	"RC":  {"UC": 0.90, "UR": 0.95, "C": 1.0, "ND": 1.0},
	"CDP": {"N": 0, "L": 0.1, "LM": 0.3, "MH": 0.4, "H": 0.5, "ND": 0},
	"TD":  {"N": 0, "L": 0.25, "M": 0.75, "H": 1.0, "ND": 1.0},
	"CR":  {"L": 0.5, "M": 1.0, "H": 1.51, "ND": 1.0},
	"IR":  {"L": 0.5, "M": 1.0, "H": 1.51, "ND": 1.0},
	"AR":  {"L": 0.5, "M": 1.0, "H": 1.51, "ND": 1.0},
}

// w2 returns the weight of metric name in c, "not defined" when the vector leaves it out.
func (c CVSS) w2(name string) float64 {
	v, ok := c.metrics[name]
	if !ok {
		v = "ND"
	}
	return v2Weights[name][v]
}

// scoreV2 fills in the v2 scores (guide §3.2.1-3.2.3).
func scoreV2(c *CVSS) {
	expl := 20 * c.w2("AV") * c.w2("AC") * c.w2("Au")
	base := func(impact float64) float64 {
		f := 0.0
		if impact != 0 {
			f = 1.176
		}
		return roundHalfUp1(((0.6 * impact) + (0.4 * expl) - 1.5) * f)
	}
	temporal := func(b float64) float64 { return roundHalfUp1(b * c.w2("E") * c.w2("RL") * c.w2("RC")) }

	impact := 10.41 * (1 - (1-c.w2("C"))*(1-c.w2("I"))*(1-c.w2("A")))
	c.BaseScore = base(impact)
	c.Severity = v2Severity(c.BaseScore)
	c.Exploitability = ptr(roundHalfUp1(expl))
	if c.defined("E", "RL", "RC") {
		c.TemporalScore = ptr(temporal(c.BaseScore))
	}
	if c.defined("CDP", "TD", "CR", "IR", "AR") {
		adjImpact := math.Min(10, 10.41*(1-(1-c.w2("C")*c.w2("CR"))*(1-c.w2("I")*c.w2("IR"))*(1-c.w2("A")*c.w2("AR"))))
		adjTemporal := temporal(base(adjImpact))
		c.EnvironmentalScore = ptr(roundHalfUp1((adjTemporal + (10-adjTemporal)*c.w2("CDP")) * c.w2("TD")))
	}
}

// v2Severity applies NVD's v2 ranges: Low 0.0-3.9, Medium 4.0-6.9, High 7.0-10.0.
func v2Severity(score float64) string {
	switch {
	case score >= 7.0:
		return SeverityHigh
	case score >= 4.0:
		return SeverityMedium
	}
	return SeverityLow
}
