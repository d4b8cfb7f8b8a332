package regulatory

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/risk"
)

// record is a finding learned on 2025-06-02 in a PMA device of an organization that is an evidenced ISAO member,
// first assessed as decided by matrix.
func record(deviceMatrix string, first *vigil.Assessment) Record {
	org := &vigil.Organization{Name: "Acme", TimeZone: "America/Chicago",
		ISAOs: []vigil.ISAOMembership{{Name: "Health-ISAC", Documents: vigil.EvidenceNotes("a", "b", "c", "d")}}}
	d := &vigil.Device{Name: "Pump", Class: "III", Pathway: vigil.PathwayPMA}
	if deviceMatrix != "" {
		d.AcceptanceMatrix = json.RawMessage(deviceMatrix)
	}
	first.CreatedAt = time.Date(2025, 6, 2, 15, 0, 0, 0, time.UTC)
	return Record{AsOf: vigil.NewDate(2025, 6, 10), Org: org, Device: d,
		Case: &vigil.Case{Vulnerability: "CVE-2025-0001", Learned: vigil.NewDate(2025, 6, 2)}, Assessments: []*vigil.Assessment{first}}
}

// TestFromRecordMatrix checks that the live determination decides with the device's own matrix, repeats the
// matrix recorded with the first assessment, and reports a stored matrix that no longer reads instead of
// silently using the default.
func TestFromRecordMatrix(t *testing.T) {
	strict := `{"name":"ip3-strict","version":"2","uncontrolled":{"high":["negligible","minor","serious","critical","catastrophic"]}}`
	tests := []struct {
		name       string
		rec        Record
		wantRisk   vigil.Risk
		wantMatrix string // Determination.Matrix
		wantPolicy string // the matrix in force
		wantErr    string // prefix of an EINVALID message
	}{
		{"recorded risk and its matrix", record(strict, &vigil.Assessment{Risk: vigil.RiskUncontrolled, Matrix: "ip3-strict v2"}),
			vigil.RiskUncontrolled, "ip3-strict v2", "ip3-strict v2", ""},
		{"device matrix in force, default recorded earlier", record(strict, &vigil.Assessment{Risk: vigil.RiskControlled, Matrix: "vigil-default v1"}),
			vigil.RiskControlled, "vigil-default v1", "ip3-strict v2", ""},
		{"no device matrix: the default", record("", &vigil.Assessment{Risk: vigil.RiskControlled}), vigil.RiskControlled, "", "vigil-default v1", ""},
		{"a stored matrix that does not read", record(`{"name":"x","uncontrolled":{"high":["fatal"]}}`, &vigil.Assessment{Risk: vigil.RiskControlled}),
			"", "", "", "device.acceptance_matrix.uncontrolled.high[0]:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := FromRecord(tt.rec)
			if !ok {
				t.Fatal("assessed record reported as not assessed")
			}
			d, err := Determine(f)
			if tt.wantErr != "" {
				if vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(vigil.ErrorMessage(err), tt.wantErr) {
					t.Fatalf("error %v, want EINVALID starting %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{string(d.Risk), d.Matrix, d.Policy.Matrix.ID()}
			if diff := cmp.Diff([]string{string(tt.wantRisk), tt.wantMatrix, tt.wantPolicy}, got); diff != "" {
				t.Errorf("risk, matrix, policy matrix (-want +got):\n%s", diff)
			}
			if !d.PMAPeriodicReport {
				t.Error("PMA device without the periodic-report flag")
			}
		})
	}
}

// TestFromRecordEntryDate checks that a stored event's entry day, in the organization's time zone, is its recorded
// date: the notice entered late at night on the ED communication deadline (Chicago) is on time, the plan entered the
// next morning is late, and an entry day before the event's date (the time zone changed since) is left out.
func TestFromRecordEntryDate(t *testing.T) {
	r := record("", &vigil.Assessment{Risk: vigil.RiskUncontrolled}) // D0 2025-06-02: ed_communication 2025-07-02
	r.AsOf = vigil.NewDate(2025, 7, 10)
	at := func(typ string, date vigil.Date, entered time.Time) *vigil.CaseEvent {
		return &vigil.CaseEvent{Type: typ, Date: date, CreatedAt: entered}
	}
	june20 := vigil.NewDate(2025, 6, 20)
	r.Events = []*vigil.CaseEvent{
		at(EventCustomerNotified, june20, time.Date(2025, 7, 3, 4, 30, 0, 0, time.UTC)), // 2025-07-02 23:30 CDT
		at(EventRemediationPlan, june20, time.Date(2025, 7, 3, 13, 0, 0, 0, time.UTC)),  // 2025-07-03 08:00 CDT
		at(EventInterimControls, june20, time.Date(2025, 6, 20, 3, 0, 0, 0, time.UTC)),  // 2025-06-19 22:00 CDT
		at(EventISAOShared, june20, time.Time{}),                                        // not stored yet
	}
	f, ok := FromRecord(r)
	if !ok {
		t.Fatal("assessed record reported as not assessed")
	}
	var recorded []string
	for _, ev := range f.Events {
		recorded = append(recorded, ev.Recorded.String())
	}
	if diff := cmp.Diff([]string{"2025-07-02", "2025-07-03", "", ""}, recorded); diff != "" {
		t.Errorf("recorded dates (-want +got):\n%s", diff)
	}
	d, err := Determine(f)
	if err != nil {
		t.Fatal(err)
	}
	var late []int
	for _, w := range d.Warnings {
		if w.Code == WarnLateEntry {
			late = append(late, *w.Event)
		}
	}
	if diff := cmp.Diff([]int{1}, late); diff != "" {
		t.Errorf("late_entry events (-want +got):\n%s", diff)
	}
}

// TestDerivedExploitabilityIsRisks checks that the engine's derived exploitability is internal/risk's, level and
// reason, at and around the thresholds.
func TestDerivedExploitabilityIsRisks(t *testing.T) {
	for _, vec := range []string{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // 3.9
		"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", // 2.8
		"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H", // 2.3
		"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N", // 1.6
		"CVSS:3.1/AV:A/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H", // 1.5
		"CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", // 0.9
	} {
		lvl, reason, err := risk.Exploitability(risk.ExploitInput{CVSS: vec})
		if err != nil {
			t.Fatal(err)
		}
		d, err := Determine(Facts{AsOf: vigil.NewDate(2025, 1, 11), Vulnerability: Vulnerability{Learned: vigil.NewDate(2025, 1, 10), Severity: vigil.HarmCritical, CVSS: vec}})
		if err != nil {
			t.Fatal(err)
		}
		if d.Exploitability != lvl {
			t.Errorf("%s: engine says %s, risk says %s", vec, d.Exploitability, lvl)
		}
		if why := strings.TrimPrefix(reason, string(lvl)+": "); !strings.Contains(strings.Join(d.Rationale, "\n"), why) {
			t.Errorf("%s: rationale does not give risk's reason %q:\n%s", vec, why, strings.Join(d.Rationale, "\n"))
		}
	}
}

// TestFromRecordISAO: criterion 4 reads the memberships covering the case's device on the as-of day: a device
// line's own membership overrides the organization's, a membership counts only between its dates, and each §IX
// item needs a document in force that day.
func TestFromRecordISAO(t *testing.T) {
	dated := func(item int, date, expires vigil.Date) vigil.ISAODocument {
		return vigil.ISAODocument{Item: item, Kind: vigil.DocEvidence, Title: "doc", Date: date, Expires: expires, Content: []byte("x")}
	}
	full := func(expires vigil.Date) []vigil.ISAODocument {
		var ds []vigil.ISAODocument
		for i := 1; i <= 4; i++ {
			ds = append(ds, dated(i, vigil.NewDate(2024, 1, 1), expires))
		}
		return ds
	}
	orgWide := vigil.ISAOMembership{Name: "Health-ISAC", Since: vigil.NewDate(2020, 1, 1), Documents: full(vigil.Date{})}
	tests := []struct {
		name string
		ms   []vigil.ISAOMembership
		want ISAO
	}{
		{"organization's, evidenced", []vigil.ISAOMembership{orgWide}, ISAO{Member: true, Name: "Health-ISAC", CriteriaEvidenced: true}},
		{"the line's own overrides it", []vigil.ISAOMembership{orgWide, {DeviceID: 7, Name: "MDISS", Documents: full(vigil.Date{})[:3]}},
			ISAO{Member: true, Name: "MDISS"}},
		{"another line's own does not", []vigil.ISAOMembership{orgWide, {DeviceID: 8, Name: "MDISS"}}, ISAO{Member: true, Name: "Health-ISAC", CriteriaEvidenced: true}},
		{"lapsed before the day", []vigil.ISAOMembership{{Name: "Health-ISAC", Until: vigil.NewDate(2025, 6, 9), Documents: full(vigil.Date{})}}, ISAO{}},
		{"starts after the day", []vigil.ISAOMembership{{Name: "Health-ISAC", Since: vigil.NewDate(2025, 6, 11), Documents: full(vigil.Date{})}}, ISAO{}},
		{"last day of the membership", []vigil.ISAOMembership{{Name: "Health-ISAC", Until: vigil.NewDate(2025, 6, 10), Documents: full(vigil.Date{})}},
			ISAO{Member: true, Name: "Health-ISAC", CriteriaEvidenced: true}},
		{"documents expired", []vigil.ISAOMembership{{Name: "Health-ISAC", Documents: full(vigil.NewDate(2025, 6, 9))}}, ISAO{Member: true, Name: "Health-ISAC"}},
		{"a document dated after the day", []vigil.ISAOMembership{{Name: "Health-ISAC", Documents: append(full(vigil.Date{})[:3], dated(4, vigil.NewDate(2025, 6, 11), vigil.Date{}))}},
			ISAO{Member: true, Name: "Health-ISAC"}},
		{"the evidenced one of two", []vigil.ISAOMembership{{Name: "InfraGard"}, orgWide}, ISAO{Member: true, Name: "Health-ISAC", CriteriaEvidenced: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := record("", &vigil.Assessment{Risk: vigil.RiskUncontrolled})
			r.Org.ISAOs, r.Device.ID = tt.ms, 7
			f, _ := FromRecord(r)
			if diff := cmp.Diff(&tt.want, f.Device.ISAO); diff != "" {
				t.Errorf("ISAO (-want +got):\n%s", diff)
			}
		})
	}
}
