package vigil

import (
	"slices"
	"strings"
)

// The program's closed vocabularies are typed: each is a string type with its values as constants, a list of
// them, Validate, and MarshalText/UnmarshalText so that a JSON document or a form cannot carry an unknown word past
// decoding. Each word list is written once, here; the store, cases, web and the engines use these types.

// Risk is the binary determination of G2016 §VI.C: the residual risk of patient harm is controlled or it is not.
type Risk string

// Risks.
const (
	RiskControlled   Risk = "controlled"
	RiskUncontrolled Risk = "uncontrolled"
)

// Risks lists the determinations.
var Risks = []Risk{RiskControlled, RiskUncontrolled}

func (r Risk) Validate() error               { return OneOf("risk", r, Risks) }
func (r Risk) MarshalText() ([]byte, error)  { return marshalWord("risk", r, Risks) }
func (r *Risk) UnmarshalText(b []byte) error { return unmarshalWord("risk", r, b, Risks) }

// RiskFilter selects findings by their latest determination: a Risk, or RiskUnassessed for findings never assessed.
type RiskFilter string

// RiskUnassessed selects the findings no assessment has determined yet.
const RiskUnassessed RiskFilter = "unassessed"

// RiskFilters lists the filters.
var RiskFilters = []RiskFilter{RiskFilter(RiskControlled), RiskFilter(RiskUncontrolled), RiskUnassessed}

func (f RiskFilter) Validate() error { return OneOf("risk", f, RiskFilters) }

// Exploitability is how likely a vulnerability is to be exploited (DETERMINATION.md; G2016 §VI.A): the row of the
// acceptance matrix.
type Exploitability string

// Exploitability levels.
const (
	ExploitabilityLow    Exploitability = "low"
	ExploitabilityMedium Exploitability = "medium"
	ExploitabilityHigh   Exploitability = "high"
)

// Exploitabilities lists the levels from least to most exploitable.
var Exploitabilities = []Exploitability{ExploitabilityLow, ExploitabilityMedium, ExploitabilityHigh}

func (e Exploitability) Validate() error { return OneOf("exploitability", e, Exploitabilities) }
func (e Exploitability) MarshalText() ([]byte, error) {
	return marshalWord("exploitability", e, Exploitabilities)
}
func (e *Exploitability) UnmarshalText(b []byte) error {
	return unmarshalWord("exploitability", e, b, Exploitabilities)
}

// VEXStatus is a finding's status in a VEX document (CISA's minimum requirements; CycloneDX and OpenVEX map to it).
type VEXStatus string

// VEX statuses.
const (
	VEXAffected           VEXStatus = "affected"
	VEXNotAffected        VEXStatus = "not_affected"
	VEXFixed              VEXStatus = "fixed"
	VEXUnderInvestigation VEXStatus = "under_investigation"
)

// VEXStatuses lists the VEX statuses.
var VEXStatuses = []VEXStatus{VEXAffected, VEXNotAffected, VEXFixed, VEXUnderInvestigation}

func (v VEXStatus) Validate() error              { return OneOf("vex_status", v, VEXStatuses) }
func (v VEXStatus) MarshalText() ([]byte, error) { return marshalWord("vex_status", v, VEXStatuses) }
func (v *VEXStatus) UnmarshalText(b []byte) error {
	return unmarshalWord("vex_status", v, b, VEXStatuses)
}

// OneOf returns EINVALID naming field when v is not one of the words allowed.
func OneOf[T ~string](field string, v T, allowed []T) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	words := make([]string, len(allowed))
	for i, w := range allowed {
		words[i] = string(w)
	}
	return Errorf(EINVALID, "%s: %q is not one of %s", field, v, strings.Join(words, ", "))
}

// marshalWord writes v, refusing an unknown word; the empty word (a field not set) is written as it is.
func marshalWord[T ~string](field string, v T, allowed []T) ([]byte, error) {
	if v != "" {
		if err := OneOf(field, v, allowed); err != nil {
			return nil, err
		}
	}
	return []byte(v), nil
}

// unmarshalWord reads b into v, refusing an unknown word; an empty text leaves the field unset, for Validate (or
// the field's absence being allowed) to judge.
func unmarshalWord[T ~string](field string, v *T, b []byte, allowed []T) error {
	w := T(b)
	if w != "" {
		if err := OneOf(field, w, allowed); err != nil {
			return err
		}
	}
	*v = w
	return nil
}
