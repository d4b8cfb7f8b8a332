package risk

import (
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
)

// SSVC decision points and outcomes (CERT/CC and CISA, Stakeholder-Specific Vulnerability Categorization v2,
// supplier "patch development priority" tree).
const (
	ExploitationNone   = "none"
	ExploitationPoC    = "poc"
	ExploitationActive = "active"

	UtilityLaborious      = "laborious"
	UtilityEfficient      = "efficient"
	UtilitySuperEffective = "super-effective"

	TechnicalImpactPartial = "partial"
	TechnicalImpactTotal   = "total"

	PublicSafetyMinimal     = "minimal"
	PublicSafetySignificant = "significant"

	PriorityDefer      = "defer"
	PriorityScheduled  = "scheduled"
	PriorityOutOfCycle = "out-of-cycle"
	PriorityImmediate  = "immediate"
)

// Update cycles of FD&C Act 524B(b)(2), as the root names them (a remediation plan records one).
const (
	CycleRegular    = vigil.CycleRegular
	CycleOutOfCycle = vigil.CycleOutOfCycle
)

// SSVCTree names the decision table SSVC applies, recorded with every decision.
const SSVCTree = "SSVC v2 supplier patch development priority (CERT/CC supplier_patch_development_priority 1.0.0)"

// SSVCInput holds the four supplier decision points.
type SSVCInput struct {
	Exploitation       string `json:"exploitation"`         // none, poc, active
	Utility            string `json:"utility"`              // laborious, efficient, super-effective
	TechnicalImpact    string `json:"technical_impact"`     // partial, total
	PublicSafetyImpact string `json:"public_safety_impact"` // minimal, significant
}

// SSVCDecision is the supplier's patch-development priority and what it means for 524B. It is an aid for
// scheduling the fix; it does not decide controlled versus uncontrolled risk, which the acceptance matrix does.
type SSVCDecision struct {
	Input    SSVCInput `json:"input"` // canonical spellings
	Priority string    `json:"priority"`
	Cycle    string    `json:"cycle"`
	Reason   string    `json:"reason"`
	Tree     string    `json:"tree"`
}

// ssvcSupplier is the supplier tree, indexed [exploitation][utility][technical impact][public safety impact]
// in the order of the constants above. It is CERT/CC's published table (data/csv/ssvc/
// supplier_patch_development_priority_1_0_0.csv, identical to the SSVC 2.0 documentation's supplier-options.csv).
// An older CSV in the same repository (data/v2/csv/ssvc_2_supplier.csv) differs in two rows (none/laborious/
// total/minimal: defer; none/super effective/total/minimal: scheduled); the current table is the one used.
var ssvcSupplier = [3][3][2][2]string{
	{ // none
		{{PriorityDefer, PriorityScheduled}, {PriorityScheduled, PriorityOutOfCycle}},       // laborious
		{{PriorityScheduled, PriorityOutOfCycle}, {PriorityScheduled, PriorityOutOfCycle}},  // efficient
		{{PriorityScheduled, PriorityOutOfCycle}, {PriorityOutOfCycle, PriorityOutOfCycle}}, // super effective
	},
	{ // poc
		{{PriorityScheduled, PriorityOutOfCycle}, {PriorityScheduled, PriorityImmediate}},  // laborious
		{{PriorityScheduled, PriorityImmediate}, {PriorityOutOfCycle, PriorityImmediate}},  // efficient
		{{PriorityOutOfCycle, PriorityImmediate}, {PriorityOutOfCycle, PriorityImmediate}}, // super effective
	},
	{ // active
		{{PriorityOutOfCycle, PriorityImmediate}, {PriorityOutOfCycle, PriorityImmediate}}, // laborious
		{{PriorityOutOfCycle, PriorityImmediate}, {PriorityOutOfCycle, PriorityImmediate}}, // efficient
		{{PriorityImmediate, PriorityImmediate}, {PriorityImmediate, PriorityImmediate}},   // super effective
	},
}

// choice finds s (case-insensitively, spaces and underscores read as hyphens) among canon and aliases; it returns
// the index in canon.
func choice(field, s string, canon []string, aliases map[string]int) (int, error) {
	k := strings.NewReplacer(" ", "-", "_", "-").Replace(strings.ToLower(strings.TrimSpace(s)))
	for i, c := range canon {
		if k == c {
			return i, nil
		}
	}
	if i, ok := aliases[k]; ok {
		return i, nil
	}
	return 0, vigil.Errorf(vigil.EINVALID, "%s %q: want %s", field, s, strings.Join(canon, ", "))
}

// SSVC applies the SSVC v2 supplier tree. Values are matched case-insensitively, and SSVC's own spellings are
// accepted ("super effective", "public poc"). Each unknown value is EINVALID naming its field.
func SSVC(in SSVCInput) (SSVCDecision, error) {
	ex, err := choice("exploitation", in.Exploitation, []string{ExploitationNone, ExploitationPoC, ExploitationActive},
		map[string]int{"public-poc": 1})
	if err != nil {
		return SSVCDecision{}, err
	}
	ut, err := choice("utility", in.Utility, []string{UtilityLaborious, UtilityEfficient, UtilitySuperEffective}, nil)
	if err != nil {
		return SSVCDecision{}, err
	}
	ti, err := choice("technical_impact", in.TechnicalImpact, []string{TechnicalImpactPartial, TechnicalImpactTotal}, nil)
	if err != nil {
		return SSVCDecision{}, err
	}
	ps, err := choice("public_safety_impact", in.PublicSafetyImpact, []string{PublicSafetyMinimal, PublicSafetySignificant}, nil)
	if err != nil {
		return SSVCDecision{}, err
	}
	canon := SSVCInput{
		Exploitation:       []string{ExploitationNone, ExploitationPoC, ExploitationActive}[ex],
		Utility:            []string{UtilityLaborious, UtilityEfficient, UtilitySuperEffective}[ut],
		TechnicalImpact:    []string{TechnicalImpactPartial, TechnicalImpactTotal}[ti],
		PublicSafetyImpact: []string{PublicSafetyMinimal, PublicSafetySignificant}[ps],
	}
	p := ssvcSupplier[ex][ut][ti][ps]
	cycle, means := CycleRegular, "fix in the justified regular update cycle (524B(b)(2)(A))"
	switch p {
	case PriorityDefer:
		means = "no fix needed before the regular update cycle; track it (524B(b)(2)(A))"
	case PriorityOutOfCycle:
		cycle, means = CycleOutOfCycle, "fix out of cycle, ahead of the regular release (524B(b)(2)(B))"
	case PriorityImmediate:
		cycle, means = CycleOutOfCycle, "fix out of cycle as soon as possible, with all available resources (524B(b)(2)(B))"
	}
	return SSVCDecision{
		Input:    canon,
		Priority: p,
		Cycle:    cycle,
		Reason: fmt.Sprintf("%s: exploitation %s, utility %s, technical impact %s, public safety impact %s: %s",
			p, canon.Exploitation, canon.Utility, canon.TechnicalImpact, canon.PublicSafetyImpact, means),
		Tree: SSVCTree,
	}, nil
}

// SSVCUtility derives SSVC's utility from its two inputs: whether exploitation can be automated (steps 1-4 of
// the kill chain) and whether the vulnerable system's value density is concentrated (a single target yields much,
// as a device holding many patients' data or controlling therapy) rather than diffuse.
func SSVCUtility(automatable, concentrated bool) string {
	switch {
	case automatable && concentrated:
		return UtilitySuperEffective
	case automatable || concentrated:
		return UtilityEfficient
	}
	return UtilityLaborious
}

// SSVCPublicSafety maps a severity of patient harm (ISO 14971 scale, vigil.HarmSeverities) to SSVC's public
// safety impact. SSVC's "minimal" is its safety impact "negligible" (minor injuries at worst, no medical treatment
// needed), which covers ISO 14971 negligible and minor (temporary injury not needing professional medical
// intervention); serious and worse need intervention or are life-threatening: "significant".
func SSVCPublicSafety(harm string) (string, error) {
	switch harm {
	case vigil.HarmNegligible, vigil.HarmMinor:
		return PublicSafetyMinimal, nil
	case vigil.HarmSerious, vigil.HarmCritical, vigil.HarmCatastrophic:
		return PublicSafetySignificant, nil
	}
	return "", vigil.Errorf(vigil.EINVALID, "severity %q: want one of %s", harm, strings.Join(vigil.HarmSeverities, ", "))
}
