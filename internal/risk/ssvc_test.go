package risk

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
)

// ssvcSupplierCSV is CERT/CC's supplier tree as published (SSVC repository,
// data/csv/ssvc/supplier_patch_development_priority_1_0_0.csv), written out here independently of the table in
// ssvc.go so that the test covers all 36 paths against the source.
const ssvcSupplierCSV = `none,laborious,partial,minimal,defer
none,laborious,partial,significant,scheduled
none,laborious,total,minimal,scheduled
none,laborious,total,significant,out-of-cycle
none,efficient,partial,minimal,scheduled
none,efficient,partial,significant,out-of-cycle
none,efficient,total,minimal,scheduled
none,efficient,total,significant,out-of-cycle
none,super effective,partial,minimal,scheduled
none,super effective,partial,significant,out-of-cycle
none,super effective,total,minimal,out-of-cycle
none,super effective,total,significant,out-of-cycle
public poc,laborious,partial,minimal,scheduled
public poc,laborious,partial,significant,out-of-cycle
public poc,laborious,total,minimal,scheduled
public poc,laborious,total,significant,immediate
public poc,efficient,partial,minimal,scheduled
public poc,efficient,partial,significant,immediate
public poc,efficient,total,minimal,out-of-cycle
public poc,efficient,total,significant,immediate
public poc,super effective,partial,minimal,out-of-cycle
public poc,super effective,partial,significant,immediate
public poc,super effective,total,minimal,out-of-cycle
public poc,super effective,total,significant,immediate
active,laborious,partial,minimal,out-of-cycle
active,laborious,partial,significant,immediate
active,laborious,total,minimal,out-of-cycle
active,laborious,total,significant,immediate
active,efficient,partial,minimal,out-of-cycle
active,efficient,partial,significant,immediate
active,efficient,total,minimal,out-of-cycle
active,efficient,total,significant,immediate
active,super effective,partial,minimal,immediate
active,super effective,partial,significant,immediate
active,super effective,total,minimal,immediate
active,super effective,total,significant,immediate`

func TestSSVCWholeTree(t *testing.T) {
	rows := strings.Split(ssvcSupplierCSV, "\n")
	if len(rows) != 36 {
		t.Fatalf("%d rows, want 36", len(rows))
	}
	seen := map[SSVCInput]bool{}
	for _, row := range rows {
		f := strings.Split(row, ",")
		in := SSVCInput{Exploitation: f[0], Utility: f[1], TechnicalImpact: f[2], PublicSafetyImpact: f[3]}
		t.Run(row, func(t *testing.T) {
			got, err := SSVC(in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Priority != f[4] {
				t.Errorf("priority %q, want %q", got.Priority, f[4])
			}
			wantCycle := map[string]string{"defer": "regular", "scheduled": "regular", "out-of-cycle": "out-of-cycle", "immediate": "out-of-cycle"}[f[4]]
			if got.Cycle != wantCycle {
				t.Errorf("cycle %q, want %q", got.Cycle, wantCycle)
			}
			if !strings.HasPrefix(got.Reason, f[4]+":") || !strings.Contains(got.Reason, "524B") {
				t.Errorf("reason %q does not state the priority and 524B", got.Reason)
			}
			if got.Tree != SSVCTree {
				t.Errorf("tree %q", got.Tree)
			}
			seen[got.Input] = true
		})
	}
	if len(seen) != 36 {
		t.Errorf("%d distinct canonical inputs, want 36", len(seen))
	}
}

func TestSSVCSpellings(t *testing.T) {
	tests := []struct {
		name     string
		in       SSVCInput
		want     SSVCInput
		wantCode string
		inMsg    string
	}{
		{"canonical", SSVCInput{"poc", "super-effective", "total", "significant"},
			SSVCInput{"poc", "super-effective", "total", "significant"}, "", ""},
		{"SSVC spellings and case", SSVCInput{"Public PoC", "Super Effective", "TOTAL", " Minimal "},
			SSVCInput{"poc", "super-effective", "total", "minimal"}, "", ""},
		{"underscore", SSVCInput{"active", "super_effective", "partial", "minimal"},
			SSVCInput{"active", "super-effective", "partial", "minimal"}, "", ""},
		{"unknown exploitation", SSVCInput{"weaponized", "efficient", "total", "minimal"}, SSVCInput{}, vigil.EINVALID, "exploitation"},
		{"missing utility", SSVCInput{"none", "", "total", "minimal"}, SSVCInput{}, vigil.EINVALID, "utility"},
		{"unknown technical impact", SSVCInput{"none", "efficient", "high", "minimal"}, SSVCInput{}, vigil.EINVALID, "technical_impact"},
		{"unknown public safety impact", SSVCInput{"none", "efficient", "total", "catastrophic"}, SSVCInput{}, vigil.EINVALID, "public_safety_impact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SSVC(tt.in)
			if vigil.ErrorCode(err) != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", vigil.ErrorCode(err), tt.wantCode, err)
			}
			if err != nil {
				if !strings.Contains(vigil.ErrorMessage(err), tt.inMsg) {
					t.Errorf("message %q does not name %q", vigil.ErrorMessage(err), tt.inMsg)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got.Input); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSSVCUtility(t *testing.T) {
	got := []string{SSVCUtility(false, false), SSVCUtility(false, true), SSVCUtility(true, false), SSVCUtility(true, true)}
	want := []string{"laborious", "efficient", "efficient", "super-effective"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestSSVCPublicSafety(t *testing.T) {
	var got []string
	for _, h := range vigil.HarmSeverities {
		p, err := SSVCPublicSafety(h)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	want := []string{"minimal", "minimal", "significant", "significant", "significant"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if _, err := SSVCPublicSafety("fatal"); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("fatal: code %q, want EINVALID", vigil.ErrorCode(err))
	}
}
