package store_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestAttachBatch: one sync attaches its new findings with multi-row statements; the cases and events are those of
// attaching them one by one: three findings of a new vulnerability open one case (one case.open naming the three),
// a finding carrying a new alias of an open case joins it (the alias indexed), a finding of a closed case puts it
// back in needs_review, and the trail still reconciles with every row.
func TestAttachBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		d := pump(t, db, "Pump")
		comp := func(name string) vigil.Component {
			return vigil.Component{Name: name, Version: "1.0", Purl: "pkg:pypi/" + name + "@1.0"}
		}
		a, b, c, log4j, django := comp("a"), comp("b"), comp("c"), comp("log4j"), comp("django")
		v1 := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
		v2 := &vigil.DeviceVersion{DeviceID: d.ID, Version: "2.0"}
		for _, v := range []*vigil.DeviceVersion{v1, v2} {
			if err := db.CreateVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
			if err := db.SetComponents(ctx, v.ID, []vigil.Component{a, b, c, log4j, django}, "sbom.json"); err != nil {
				t.Fatal(err)
			}
		}
		if o, _, err := db.SyncFindings(ctx, v1.ID, []vigil.Finding{{Component: log4j, Vulnerability: "CVE-2021-44228"},
			{Component: django, Vulnerability: "CVE-2023-1"}}); err != nil || o != 2 {
			t.Fatalf("first sync = +%d, %v; want +2", o, err)
		}
		before, err := db.Cases(ctx, vigil.CaseFilter{})
		if err != nil || len(before) != 2 {
			t.Fatalf("cases after the first sync = %d, %v; want 2", len(before), err)
		}
		caseOf := map[string]*vigil.Case{}
		for _, cs := range before {
			caseOf[cs.Vulnerability] = cs
		}
		if err := db.SetCaseState(ctx, caseOf["CVE-2023-1"].ID, vigil.CaseClosed, "not exploitable"); err != nil {
			t.Fatal(err)
		}
		var head int64
		if err := db.SQL().QueryRowContext(ctx, "SELECT MAX(seq) FROM audit_events").Scan(&head); err != nil {
			t.Fatal(err)
		}

		ghsa := []string{"CVE-2024-9"}
		if o, _, err := db.SyncFindings(ctx, v2.ID, []vigil.Finding{
			{Component: a, Vulnerability: "GHSA-aaaa-bbbb-cccc", Aliases: ghsa},
			{Component: b, Vulnerability: "GHSA-aaaa-bbbb-cccc", Aliases: ghsa},
			{Component: c, Vulnerability: "GHSA-aaaa-bbbb-cccc", Aliases: ghsa},
			{Component: log4j, Vulnerability: "CVE-2021-44228", Aliases: []string{"GHSA-jfh8-c2jp-5v3q"}},
			{Component: django, Vulnerability: "CVE-2023-1"},
		}); err != nil || o != 5 {
			t.Fatalf("second sync = +%d, %v; want +5", o, err)
		}

		// The new case is found by its alias (case_ids) and holds the three findings.
		got, err := db.Cases(ctx, vigil.CaseFilter{Vuln: "cve-2024-9"})
		if err != nil || len(got) != 1 {
			t.Fatalf("cases of CVE-2024-9 = %d, %v; want 1", len(got), err)
		}
		opened := got[0]
		if opened.Vulnerability != "CVE-2024-9" || !slices.Equal(opened.Aliases, []string{"GHSA-aaaa-bbbb-cccc"}) || opened.State != vigil.CaseOpen {
			t.Errorf("new case = %s %v %s; want CVE-2024-9 [GHSA-aaaa-bbbb-cccc] open", opened.Vulnerability, opened.Aliases, opened.State)
		}
		fs, err := db.Findings(ctx, vigil.FindingFilter{CaseID: opened.ID})
		if err != nil || len(fs) != 3 {
			t.Fatalf("findings of the new case = %d, %v; want 3", len(fs), err)
		}
		if got, err := db.Cases(ctx, vigil.CaseFilter{Vuln: "GHSA-jfh8-c2jp-5v3q"}); err != nil || len(got) != 1 || got[0].ID != caseOf["CVE-2021-44228"].ID {
			t.Errorf("case by the new alias GHSA-jfh8-c2jp-5v3q = %v, %v; want case %d", got, err, caseOf["CVE-2021-44228"].ID)
		}
		if cs, err := db.Case(ctx, caseOf["CVE-2023-1"].ID); err != nil || cs.State != vigil.CaseNeedsReview {
			t.Errorf("closed case after a new finding = %v, %v; want needs_review", cs, err)
		}
		for _, cs := range before {
			fs, err := db.Findings(ctx, vigil.FindingFilter{CaseID: cs.ID})
			if err != nil || len(fs) != 2 {
				t.Errorf("findings of case %s = %d, %v; want 2 (one per version)", cs.Vulnerability, len(fs), err)
			}
		}

		// One event per case, naming its findings.
		rows, err := db.SQL().QueryContext(ctx, "SELECT action, object_id, new FROM audit_events WHERE seq > $1 AND object_type = 'case' ORDER BY seq", head)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var events []string
		for rows.Next() {
			var action, obj, payload string
			if err := rows.Scan(&action, &obj, &payload); err != nil {
				t.Fatal(err)
			}
			var n struct {
				Findings []int64         `json:"findings"`
				State    vigil.CaseState `json:"state"`
			}
			if err := json.Unmarshal([]byte(payload), &n); err != nil {
				t.Fatal(err)
			}
			events = append(events, fmt.Sprintf("%s %s %s %d", action, obj, n.State, len(n.Findings)))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		want := []string{
			fmt.Sprintf("case.open %d  3", opened.ID),
			fmt.Sprintf("case.attach %d open 1", caseOf["CVE-2021-44228"].ID),
			fmt.Sprintf("case.attach %d needs_review 1", caseOf["CVE-2023-1"].ID),
		}
		slices.Sort(events)
		slices.Sort(want)
		if !slices.Equal(events, want) {
			t.Errorf("case events of the second sync = %q, want %q", events, want)
		}
		rep, err := db.Verify(ctx, nil)
		if err != nil || len(rep.Problems) != 0 {
			t.Errorf("audit verify = %+v, %v; want no problems", rep.Problems, err)
		}
	})
}

// TestAttachManyCases: a sync opening more cases than one statement writes (a first SBOM import opens one per
// vulnerability) gives every finding its own case of its vulnerability, one case.open event per case recording
// that case and its finding, then the sync's event, all in one append that verifies.
func TestAttachManyCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		d := pump(t, db, "Pump")
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
		if err := db.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		comp := vigil.Component{Name: "openssl", Version: "1.0.2", Purl: "pkg:generic/openssl@1.0.2"}
		if err := db.SetComponents(ctx, v.ID, []vigil.Component{comp}, "sbom.json"); err != nil {
			t.Fatal(err)
		}
		var head int64
		if err := db.SQL().QueryRowContext(ctx, "SELECT MAX(seq) FROM audit_events").Scan(&head); err != nil {
			t.Fatal(err)
		}
		const n = 1200
		found := make([]vigil.Finding, n)
		for i := range found {
			found[i] = vigil.Finding{Component: comp, Vulnerability: fmt.Sprintf("CVE-2024-%d", 10000+i), Aliases: []string{fmt.Sprintf("GHSA-%04d-aaaa-bbbb", i)}}
		}
		if o, _, err := db.SyncFindings(ctx, v.ID, found); err != nil || o != n {
			t.Fatalf("sync = +%d, %v; want +%d", o, err, n)
		}
		fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID})
		if err != nil || len(fs) != n {
			t.Fatalf("findings = %d, %v; want %d", len(fs), err, n)
		}
		cases, err := db.Cases(ctx, vigil.CaseFilter{})
		if err != nil || len(cases) != n {
			t.Fatalf("cases = %d, %v; want %d", len(cases), err, n)
		}
		vulnOf := map[int64]string{}
		for _, c := range cases {
			vulnOf[c.ID] = c.Vulnerability
			if len(c.Aliases) != 1 || c.State != vigil.CaseOpen {
				t.Fatalf("case %d = %s %v %s; want one alias, open", c.ID, c.Vulnerability, c.Aliases, c.State)
			}
		}
		caseOf := map[int64]int64{} // finding → case
		for _, f := range fs {
			if vulnOf[f.CaseID] != f.Vulnerability {
				t.Fatalf("finding %d of %s is in case %d of %q", f.ID, f.Vulnerability, f.CaseID, vulnOf[f.CaseID])
			}
			caseOf[f.ID] = f.CaseID
		}
		evs := trail(t, db)[head:]
		if len(evs) != n+1 || evs[n].Action != "finding.sync" {
			t.Fatalf("%d events after the sync, the last %s; want %d case.open then finding.sync", len(evs), evs[len(evs)-1].Action, n)
		}
		for _, e := range evs[:n] {
			var p struct {
				Findings []int64 `json:"findings"`
			}
			if err := json.Unmarshal(e.New, &p); err != nil {
				t.Fatal(err)
			}
			if e.Action != "case.open" || len(p.Findings) != 1 || idText(caseOf[p.Findings[0]]) != e.ObjectID || len(e.Records) != 2 ||
				e.Records[0].Table != "cases" || e.Records[0].Key != e.ObjectID || e.Records[1].Table != "findings" || e.Records[1].Key != idText(p.Findings[0]) {
				t.Fatalf("event %d = %s %s %s records %+v; want case.open of the finding's case recording both", e.Seq, e.Action, e.ObjectID, e.New, e.Records)
			}
		}
		if rep, err := db.Verify(ctx, nil); err != nil || len(rep.Problems) != 0 {
			t.Errorf("audit verify = %+v, %v; want no problems", rep.Problems, err)
		}
	})
}

func idText(id int64) string { return fmt.Sprint(id) }
