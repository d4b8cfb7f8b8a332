package risk

import "math"

// specV4 is CVSS v4.0 (FIRST specification document, §7 Table 23), in the order the specification and its JSON
// schema require: base, threat, environmental, supplemental.
var specV4 = []metricSpec{
	{"AV", []string{"N", "A", "L", "P"}, true},
	{"AC", []string{"L", "H"}, true},
	{"AT", []string{"N", "P"}, true},
	{"PR", []string{"N", "L", "H"}, true},
	{"UI", []string{"N", "P", "A"}, true},
	{"VC", []string{"H", "L", "N"}, true},
	{"VI", []string{"H", "L", "N"}, true},
	{"VA", []string{"H", "L", "N"}, true},
	{"SC", []string{"H", "L", "N"}, true},
	{"SI", []string{"H", "L", "N"}, true},
	{"SA", []string{"H", "L", "N"}, true},
	{"E", []string{"X", "A", "P", "U"}, false},
	{"CR", []string{"X", "H", "M", "L"}, false},
	{"IR", []string{"X", "H", "M", "L"}, false},
	{"AR", []string{"X", "H", "M", "L"}, false},
	{"MAV", []string{"X", "N", "A", "L", "P"}, false},
	{"MAC", []string{"X", "L", "H"}, false},
	{"MAT", []string{"X", "N", "P"}, false},
	{"MPR", []string{"X", "N", "L", "H"}, false},
	{"MUI", []string{"X", "N", "P", "A"}, false},
	{"MVC", []string{"X", "H", "L", "N"}, false},
	{"MVI", []string{"X", "H", "L", "N"}, false},
	{"MVA", []string{"X", "H", "L", "N"}, false},
	{"MSC", []string{"X", "H", "L", "N"}, false},
	{"MSI", []string{"X", "S", "H", "L", "N"}, false},
	{"MSA", []string{"X", "S", "H", "L", "N"}, false},
	{"S", []string{"X", "N", "P"}, false},
	{"AU", []string{"X", "N", "Y"}, false},
	{"R", []string{"X", "A", "U", "I"}, false},
	{"V", []string{"X", "D", "C"}, false},
	{"RE", []string{"X", "L", "M", "H"}, false},
	{"U", []string{"X", "Clear", "Green", "Amber", "Red"}, false},
}

// v4EnvMetrics are the environmental metrics of v4.0; supplemental metrics never change a score.
var v4EnvMetrics = []string{"CR", "IR", "AR", "MAV", "MAC", "MAT", "MPR", "MUI", "MVC", "MVI", "MVA", "MSC", "MSI", "MSA"}

// scoreV4 fills in the v4.0 scores. Scoring is written here (after FIRST's reference calculator, cvss_score.js)
// rather than taken from go-cvss because go-cvss rounds 5.6499999 to 5.6 where the specification's value is 5.65,
// which FIRST's calculator (and the published test vectors) round to 5.7.
func scoreV4(c *CVSS) {
	hasThreat := c.defined("E")
	hasEnv := c.defined(v4EnvMetrics...)
	c.BaseScore = v4Score(c.metrics, false, false)
	c.Severity = rating(c.BaseScore)
	c.Nomenclature = "CVSS-B"
	switch {
	case hasThreat && hasEnv:
		c.Nomenclature = "CVSS-BTE"
	case hasThreat:
		c.Nomenclature = "CVSS-BT"
	case hasEnv:
		c.Nomenclature = "CVSS-BE"
	}
	if hasThreat {
		c.ThreatScore = ptr(v4Score(c.metrics, true, false))
	}
	if hasEnv {
		c.EnvironmentalScore = ptr(v4Score(c.metrics, hasThreat, true))
	}
}

// v4Levels are the severity levels of the metrics that take part in the severity distance, in tenths (FIRST's
// calculator uses 0.1 steps; integers keep the arithmetic exact). Lower is more severe.
var v4Levels = map[string]map[string]int{
	"AV": {"N": 0, "A": 1, "L": 2, "P": 3},
	"PR": {"N": 0, "L": 1, "H": 2},
	"UI": {"N": 0, "P": 1, "A": 2},
	"AC": {"L": 0, "H": 1},
	"AT": {"N": 0, "P": 1},
	"VC": {"H": 0, "L": 1, "N": 2},
	"VI": {"H": 0, "L": 1, "N": 2},
	"VA": {"H": 0, "L": 1, "N": 2},
	"SC": {"H": 1, "L": 2, "N": 3},
	"SI": {"S": 0, "H": 1, "L": 2, "N": 3},
	"SA": {"S": 0, "H": 1, "L": 2, "N": 3},
	"CR": {"H": 0, "M": 1, "L": 2},
	"IR": {"H": 0, "M": 1, "L": 2},
	"AR": {"H": 0, "M": 1, "L": 2},
}

// v4DistMetrics are the metrics of the severity distance, grouped by equivalence set: EQ1 (0-2), EQ2 (3-4),
// EQ3 with EQ6 (5-10), EQ4 (11-13).
var v4DistMetrics = [...]string{"AV", "PR", "UI", "AC", "AT", "VC", "VI", "VA", "CR", "IR", "AR", "SC", "SI", "SA"}

// v4Max lists, per equivalence set and level, the highest-severity vectors of the macrovector (specification
// Tables 24-30), in the order of FIRST's calculator: the first one the scored vector does not exceed is used.
var v4Max = struct {
	eq1, eq2, eq4 [][]map[string]string
	eq3eq6        [3][2][]map[string]string
}{
	eq1: [][]map[string]string{
		{{"AV": "N", "PR": "N", "UI": "N"}},
		{{"AV": "A", "PR": "N", "UI": "N"}, {"AV": "N", "PR": "L", "UI": "N"}, {"AV": "N", "PR": "N", "UI": "P"}},
		{{"AV": "P", "PR": "N", "UI": "N"}, {"AV": "A", "PR": "L", "UI": "P"}},
	},
	eq2: [][]map[string]string{
		{{"AC": "L", "AT": "N"}},
		{{"AC": "H", "AT": "N"}, {"AC": "L", "AT": "P"}},
	},
	eq4: [][]map[string]string{
		{{"SC": "H", "SI": "S", "SA": "S"}},
		{{"SC": "H", "SI": "H", "SA": "H"}},
		{{"SC": "L", "SI": "L", "SA": "L"}},
	},
	eq3eq6: [3][2][]map[string]string{
		0: {
			0: {{"VC": "H", "VI": "H", "VA": "H", "CR": "H", "IR": "H", "AR": "H"}},
			1: {
				{"VC": "H", "VI": "H", "VA": "L", "CR": "M", "IR": "M", "AR": "H"},
				{"VC": "H", "VI": "H", "VA": "H", "CR": "M", "IR": "M", "AR": "M"},
			},
		},
		1: {
			0: {
				{"VC": "L", "VI": "H", "VA": "H", "CR": "H", "IR": "H", "AR": "H"},
				{"VC": "H", "VI": "L", "VA": "H", "CR": "H", "IR": "H", "AR": "H"},
			},
			1: {
				{"VC": "L", "VI": "H", "VA": "H", "CR": "H", "IR": "M", "AR": "M"},
				{"VC": "H", "VI": "L", "VA": "H", "CR": "M", "IR": "H", "AR": "M"},
				{"VC": "L", "VI": "H", "VA": "L", "CR": "H", "IR": "M", "AR": "H"},
				{"VC": "H", "VI": "L", "VA": "L", "CR": "M", "IR": "H", "AR": "H"},
				{"VC": "L", "VI": "L", "VA": "H", "CR": "H", "IR": "H", "AR": "M"},
			},
		},
		2: {
			1: {{"VC": "L", "VI": "L", "VA": "L", "CR": "H", "IR": "H", "AR": "H"}},
		},
	},
}

// v4Depth is the number of severity steps inside each macrovector plus one ("maxSeverity" in FIRST's
// calculator), by equivalence set and level.
var (
	v4DepthEQ1    = []int{1, 4, 5}
	v4DepthEQ2    = []int{1, 2}
	v4DepthEQ4    = []int{6, 5, 4}
	v4DepthEQ3EQ6 = [3][2]int{{7, 6}, {8, 8}, {0, 10}}
)

// v4Score scores the metrics of a v4.0 vector. withThreat and withEnv say whether the threat and environmental
// groups count, so that one parsed vector yields its CVSS-B, -BT and -BE/-BTE scores.
func v4Score(metrics map[string]string, withThreat, withEnv bool) float64 {
	// m is the effective value of a metric (FIRST's m()): a modified metric overrides its base metric; E, CR, IR
	// and AR not defined take their worst case.
	m := func(name string) string {
		if withEnv {
			if v, ok := metrics["M"+name]; ok && v != "X" {
				return v
			}
		}
		v := metrics[name]
		switch name {
		case "E":
			if !withThreat || v == "" || v == "X" {
				return "A"
			}
		case "CR", "IR", "AR":
			if !withEnv || v == "" || v == "X" {
				return "H"
			}
		}
		return v
	}
	// Effective levels of the metrics the severity distance uses, looked up once: the distance loop below may
	// try twenty combinations of highest-severity vectors.
	var level [len(v4DistMetrics)]int
	for i, name := range v4DistMetrics {
		level[i] = v4Levels[name][m(name)]
	}
	if m("VC") == "N" && m("VI") == "N" && m("VA") == "N" && m("SC") == "N" && m("SI") == "N" && m("SA") == "N" {
		return 0
	}

	av, pr, ui := m("AV"), m("PR"), m("UI")
	eq1 := 2
	switch {
	case av == "N" && pr == "N" && ui == "N":
		eq1 = 0
	case (av == "N" || pr == "N" || ui == "N") && av != "P":
		eq1 = 1
	}
	eq2 := 1
	if m("AC") == "L" && m("AT") == "N" {
		eq2 = 0
	}
	vc, vi, va := m("VC"), m("VI"), m("VA")
	eq3 := 2
	switch {
	case vc == "H" && vi == "H":
		eq3 = 0
	case vc == "H" || vi == "H" || va == "H":
		eq3 = 1
	}
	msi, msa := "", ""
	if withEnv {
		msi, msa = metrics["MSI"], metrics["MSA"]
	}
	eq4 := 2
	switch {
	case msi == "S" || msa == "S":
		eq4 = 0
	case m("SC") == "H" || m("SI") == "H" || m("SA") == "H":
		eq4 = 1
	}
	eq5 := map[string]int{"A": 0, "P": 1, "U": 2}[m("E")]
	eq6 := 1
	if (m("CR") == "H" && vc == "H") || (m("IR") == "H" && vi == "H") || (m("AR") == "H" && va == "H") {
		eq6 = 0
	}

	value := v4Lookup(eq1, eq2, eq3, eq4, eq5, eq6)

	// Scores of the next lower macrovector in each equivalence set; NaN where there is none.
	next1 := v4Lookup(eq1+1, eq2, eq3, eq4, eq5, eq6)
	next2 := v4Lookup(eq1, eq2+1, eq3, eq4, eq5, eq6)
	var next36 float64
	switch {
	case eq3 == 1 && eq6 == 1, eq3 == 0 && eq6 == 1:
		next36 = v4Lookup(eq1, eq2, eq3+1, eq4, eq5, eq6)
	case eq3 == 1 && eq6 == 0:
		next36 = v4Lookup(eq1, eq2, eq3, eq4, eq5, eq6+1)
	case eq3 == 0 && eq6 == 0:
		// 00 can step to 01 or to 10: the higher of the two is the next lower macrovector.
		next36 = math.Max(v4Lookup(eq1, eq2, eq3, eq4, eq5, eq6+1), v4Lookup(eq1, eq2, eq3+1, eq4, eq5, eq6))
	default:
		next36 = math.NaN() // 21 has no lower macrovector
	}
	next4 := v4Lookup(eq1, eq2, eq3, eq4+1, eq5, eq6)
	next5 := v4Lookup(eq1, eq2, eq3, eq4, eq5+1, eq6)

	// Severity distance of the vector from the first highest-severity vector of its macrovector that it does not
	// exceed in any metric.
	var d1, d2, d36, d4 int
found:
	for _, x1 := range v4Max.eq1[eq1] {
		for _, x2 := range v4Max.eq2[eq2] {
			for _, x36 := range v4Max.eq3eq6[eq3][eq6] {
				for _, x4 := range v4Max.eq4[eq4] {
					var ds [len(v4DistMetrics)]int
					ok := true
					for i, name := range v4DistMetrics {
						max := x1
						switch {
						case i >= 11:
							max = x4
						case i >= 5:
							max = x36
						case i >= 3:
							max = x2
						}
						ds[i] = level[i] - v4Levels[name][max[name]]
						if ds[i] < 0 {
							ok = false
							break
						}
					}
					if !ok {
						continue
					}
					d1 = ds[0] + ds[1] + ds[2]
					d2 = ds[3] + ds[4]
					d36 = ds[5] + ds[6] + ds[7] + ds[8] + ds[9] + ds[10]
					d4 = ds[11] + ds[12] + ds[13]
					break found
				}
			}
		}
	}

	// Each existing lower macrovector contributes the score gap times the share of the macrovector's depth the
	// vector has travelled; the score is the macrovector's score minus the mean contribution.
	n, sum := 0, 0.0
	add := func(next float64, d, depth int) {
		if math.IsNaN(next) {
			return
		}
		n++
		sum += (value - next) * float64(d) / float64(depth)
	}
	add(next1, d1, v4DepthEQ1[eq1])
	add(next2, d2, v4DepthEQ2[eq2])
	add(next36, d36, v4DepthEQ3EQ6[eq3][eq6])
	add(next4, d4, v4DepthEQ4[eq4])
	add(next5, 0, 1) // EQ5 has a single metric: its distance is always 0
	if n > 0 {
		value -= sum / float64(n)
	}
	return roundHalfUp1(math.Max(0, math.Min(10, value)))
}

// v4Lookup returns the score of a macrovector, NaN when it does not exist.
func v4Lookup(eq ...int) float64 {
	var key [6]byte
	for i, e := range eq {
		key[i] = byte('0' + e)
	}
	if s, ok := v4MacroScores[string(key[:])]; ok {
		return s
	}
	return math.NaN()
}
