package vigil_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
)

func TestVersionVEXValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    vigil.VersionVEX
		want string // a part of the error, "" for none
	}{
		{"not affected, justified", vigil.VersionVEX{Status: vigil.VEXNotAffected, Justification: vigil.JustNotInExecutePath, Reason: "r"}, ""},
		{"not affected, CycloneDX word", vigil.VersionVEX{Status: vigil.VEXNotAffected, Justification: vigil.JustProtectedAtPerimeter, Reason: "r"}, ""},
		{"not affected, impact statement only", vigil.VersionVEX{Status: vigil.VEXNotAffected, ImpactStatement: "The parser is never built into 3.x.", Reason: "r"}, ""},
		{"not affected, no why", vigil.VersionVEX{Status: vigil.VEXNotAffected, Reason: "r"}, "justification: not_affected needs"},
		{"justification on affected", vigil.VersionVEX{Status: vigil.VEXAffected, Justification: vigil.JustCodeNotPresent, Reason: "r"}, "justification: only"},
		{"unknown justification", vigil.VersionVEX{Status: vigil.VEXNotAffected, Justification: "because", Reason: "r"}, "justification:"},
		{"fixed in on affected", vigil.VersionVEX{Status: vigil.VEXAffected, FixedIn: "3.2.2", Reason: "r"}, "fixed_in:"},
		{"fixed", vigil.VersionVEX{Status: vigil.VEXFixed, FixedIn: "3.2.2", Reason: "r"}, ""},
		{"no reason", vigil.VersionVEX{Status: vigil.VEXAffected}, "reason:"},
		{"unknown status", vigil.VersionVEX{Status: "maybe", Reason: "r"}, "vex_status:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || vigil.ErrorCode(err) != vigil.EINVALID) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestVEXJustificationMaps checks that every justification has a word in both vocabularies, and that a word
// already in one stays itself.
func TestVEXJustificationMaps(t *testing.T) {
	openvex := vigil.VEXJustifications[:5]
	cdx := vigil.VEXJustifications[5:]
	for _, j := range vigil.VEXJustifications {
		if o := j.OpenVEX(); !slices.Contains(openvex, o) {
			t.Errorf("%s.OpenVEX() = %s, not an OpenVEX justification", j, o)
		}
		if c := j.CycloneDX(); !slices.Contains(cdx, c) {
			t.Errorf("%s.CycloneDX() = %s, not a CycloneDX justification", j, c)
		}
	}
	for _, j := range openvex {
		if j.OpenVEX() != j {
			t.Errorf("%s.OpenVEX() = %s", j, j.OpenVEX())
		}
	}
	for _, j := range cdx {
		if j.CycloneDX() != j {
			t.Errorf("%s.CycloneDX() = %s", j, j.CycloneDX())
		}
	}
}
