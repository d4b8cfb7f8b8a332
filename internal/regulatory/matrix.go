package regulatory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// Matrix is a risk acceptance matrix (G2016 §VI.C): exploitability × severity of patient harm, evaluated after
// existing mitigations, gives controlled or uncontrolled. FDA's figure is only an example, so each manufacturer
// (and each device) may set its own; Name and Version identify the one used, and every determination records
// them.
type Matrix struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// Uncontrolled maps an exploitability level to the severities whose risk is uncontrolled at that level. A
	// level left out has no uncontrolled cell.
	Uncontrolled map[string][]string `json:"uncontrolled"`
}

// DefaultMatrix returns the default matrix of REGULATORY.md §2, a fresh copy each time so that no caller can
// change another's.
func DefaultMatrix() Matrix {
	return Matrix{
		Name:    "vigil-default",
		Version: "1",
		Uncontrolled: map[string][]string{
			ExploitHigh:   {vigil.HarmSerious, vigil.HarmCritical, vigil.HarmCatastrophic},
			ExploitMedium: {vigil.HarmCritical, vigil.HarmCatastrophic},
			ExploitLow:    {vigil.HarmCatastrophic},
		},
	}
}

// IsZero reports whether m is unset.
func (m Matrix) IsZero() bool { return m.Name == "" && m.Version == "" && len(m.Uncontrolled) == 0 }

// ID is the name and version recorded with each determination, e.g. "vigil-default v1".
func (m Matrix) ID() string {
	if m.Version == "" {
		return m.Name
	}
	return m.Name + " v" + m.Version
}

// Validate checks the matrix; field is the JSON path used in error messages.
func (m Matrix) Validate(field string) error {
	if strings.TrimSpace(m.Name) == "" {
		return vigil.Errorf(vigil.EINVALID, "%s.name: required (every determination records the matrix used)", field)
	}
	for expl, sevs := range m.Uncontrolled {
		if !slices.Contains(Exploitabilities, expl) {
			return vigil.Errorf(vigil.EINVALID, "%s.uncontrolled: unknown exploitability %q (want %s)", field, expl, oneOf(Exploitabilities))
		}
		for i, s := range sevs {
			if !slices.Contains(vigil.HarmSeverities, s) {
				return vigil.Errorf(vigil.EINVALID, "%s.uncontrolled.%s[%d]: unknown severity %q (want %s)", field, expl, i, s, oneOf(vigil.HarmSeverities))
			}
		}
	}
	return nil
}

// Decide returns RiskUncontrolled or RiskControlled for one cell.
func (m Matrix) Decide(exploitability, severity string) string {
	if slices.Contains(m.Uncontrolled[exploitability], severity) {
		return RiskUncontrolled
	}
	return RiskControlled
}

// oneOf formats an enumeration for an error message.
func oneOf(vals []string) string {
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	return fmt.Sprintf("%s or %s", strings.Join(vals[:len(vals)-1], ", "), vals[len(vals)-1])
}
