package store_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestMigrationToCases opens a store as the release before cases wrote it (migrated to the migration before,
// findings with their own assessments and events), upgrades it, and checks that each device's findings of one
// vulnerability (by any alias, across versions) became one case with the earliest D0, that every assessment and
// event moved to its finding's case keeping its id, that no audit event was lost, and that the trail verifies.
func TestMigrationToCases(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			admin := storetest.Admin()
			dsn := storetest.DSN(t, engine)
			old, err := store.OpenAt(ctx, dsn, store.MigrationCases-1)
			if err != nil {
				t.Fatal(err)
			}
			// The organization as that release wrote it: its ISAO memberships in its JSON column (migration 28
			// moves them on the way up).
			if _, err := old.SQL().Exec(`INSERT INTO orgs (name, time_zone, cvd_ack_days, isaos, created_at, updated_at) VALUES ('Acme Medical', 'America/Chicago', 5,
				'[{"name":"Health-ISAC","since":"2020-01-15","criteria_evidence":["a","b","c","d"]}]', '2025-06-01T00:00:00.000000000Z', '2025-06-01T00:00:00.000000000Z')`); err != nil {
				t.Fatal(err)
			}
			d := pump(t, old, "Pump")
			mon := pump(t, old, "Monitor")
			var vs []int64
			for _, v := range []*vigil.DeviceVersion{{DeviceID: d.ID, Version: "1.0"}, {DeviceID: d.ID, Version: "2.0"}, {DeviceID: d.ID, Version: "3.0"}, {DeviceID: mon.ID, Version: "1.0"}} {
				if err := old.CreateVersion(admin, v); err != nil {
					t.Fatal(err)
				}
				vs = append(vs, v.ID)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := old.SQL().Exec(q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			// The release before cases: one finding per (version, component, vulnerability id as the feed names it).
			for _, f := range []struct {
				version         int64
				vuln, aliases   string
				learned, source string
			}{
				{vs[0], "CVE-2025-0001", `[]`, "2025-06-05", "match"},                       // 1
				{vs[1], "GHSA-aaaa-bbbb-cccc", `["CVE-2025-0001"]`, "2025-06-02", "manual"}, // 2: the same vulnerability, learned first
				{vs[2], "CVE-2025-0001", `[]`, "2025-06-09", "match"},                       // 3
				{vs[0], "CVE-2025-0002", `[]`, "2025-06-05", "match"},                       // 4
				{vs[3], "CVE-2025-0001", `[]`, "2025-06-05", "match"},                       // 5: another device, another case
			} {
				exec(`INSERT INTO findings (version_id, comp_key, component, vuln_id, aliases, state, evidence, source, first_seen, learned, updated_at)
					VALUES ($1, 'lib', '{"name":"lib"}', $2, $3, 'open', '{}', $4, '2025-06-05T10:00:00.000000000Z', $5, '2025-06-05T10:00:00.000000000Z')`,
					f.version, f.vuln, f.aliases, f.source, f.learned)
			}
			exec(`INSERT INTO assessments (finding_id, created_at, actor, data, risk) VALUES
				(1, '2025-06-06T03:00:00.000000000Z', 'user:alice', '{"finding_id":1,"risk":"uncontrolled","rationale":"remote dosing"}', 'uncontrolled'),
				(3, '2025-06-20T15:00:00.000000000Z', 'user:alice', '{"finding_id":3,"risk":"controlled","interim":true,"rationale":"segmented"}', 'controlled'),
				(4, '2025-06-07T15:00:00.000000000Z', 'user:bob', '{"finding_id":4,"risk":"controlled","rationale":"log only"}', 'controlled')`)
			exec(`INSERT INTO finding_events (finding_id, type, date, details, note, created_at, actor) VALUES
				(1, 'customer_notified', '2025-06-10', '{"elements":["a","b","c","d"]}', 'CN-1', '2025-06-10T10:00:00.000000000Z', 'user:alice'),
				(2, 'interim_controls', '2025-06-10', '{}', 'CN-1 §2', '2025-06-10T10:00:00.000000000Z', 'user:alice'),
				(4, 'fix_distributed', '2025-06-12', '{"validated":true}', 'FW 1.0.1', '2025-06-12T10:00:00.000000000Z', 'user:bob')`)
			before, err := old.Checkpoint(admin)
			if err != nil {
				t.Fatal(err)
			}
			old.Close()

			db, err := store.Open(ctx, dsn, storetest.NewClock(ts("2025-07-01T09:00:00Z")))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			cs, err := db.Cases(admin, vigil.CaseFilter{States: vigil.CaseStates})
			if err != nil {
				t.Fatal(err)
			}
			type caseRow struct {
				Device, Vuln, Learned, How string
				Aliases                    []string
				Findings                   []int64
			}
			var got []caseRow
			for i := len(cs) - 1; i >= 0; i-- {
				c := cs[i]
				fs, err := db.Findings(admin, vigil.FindingFilter{CaseID: c.ID})
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, f := range fs {
					ids = append([]int64{f.ID}, ids...)
				}
				got = append(got, caseRow{c.Device, c.Vulnerability, c.Learned.String(), c.LearnedHow, c.Aliases, ids})
			}
			want := []caseRow{
				{"Pump", "CVE-2025-0001", "2025-06-02", "manual", []string{"GHSA-aaaa-bbbb-cccc"}, []int64{1, 2, 3}},
				{"Pump", "CVE-2025-0002", "2025-06-05", "match", []string{}, []int64{4}},
				{"Monitor", "CVE-2025-0001", "2025-06-05", "match", []string{}, []int64{5}},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cases (-want +got):\n%s", diff)
			}
			// Migration 28 indexed every id of the migrated cases: an alias, in any letter case, finds its case.
			if byAlias, err := db.Cases(admin, vigil.CaseFilter{Vuln: "ghsa-AAAA-bbbb-cccc"}); err != nil || len(byAlias) != 1 || byAlias[0].Vulnerability != "CVE-2025-0001" {
				t.Errorf("the migrated case by its alias: %+v, %v", byAlias, err)
			}
			caseOf := func(f int64) int64 {
				x, err := db.Finding(admin, f)
				if err != nil {
					t.Fatal(err)
				}
				return x.CaseID
			}
			// Every assessment and event is there, on its finding's case, with its id; an assessment is dated the
			// day it was entered in the organization's zone (03:00 UTC on the 6th is the 5th in Chicago).
			as, err := db.Assessments(admin, caseOf(1))
			if err != nil || len(as) != 2 || as[0].ID != 1 || as[0].Date.String() != "2025-06-05" || as[1].ID != 2 || as[1].Date.String() != "2025-06-20" || !as[1].Interim {
				t.Errorf("assessments of the CVE-2025-0001 case: %+v, %v", as, err)
			}
			es, err := db.CaseEvents(admin, caseOf(1))
			if err != nil || len(es) != 2 || es[0].ID != 1 || es[1].ID != 2 || es[0].Type != "customer_notified" || es[0].Date.String() != "2025-06-10" {
				t.Errorf("events of the CVE-2025-0001 case: %+v, %v", es, err)
			}
			if as, _ := db.Assessments(admin, caseOf(4)); len(as) != 1 || as[0].ID != 3 {
				t.Errorf("assessments of the CVE-2025-0002 case: %+v", as)
			}
			if es, _ := db.CaseEvents(admin, caseOf(4)); len(es) != 1 || es[0].ID != 3 || !es[0].Details.Validated {
				t.Errorf("events of the CVE-2025-0002 case: %+v", es)
			}
			// New records continue after the moved ids, and stay append-only.
			a := &vigil.Assessment{CaseID: caseOf(1), Date: vigil.NewDate(2025, 6, 30), Risk: "controlled", Rationale: "fix verified"}
			if err := db.Assess(admin, a); err != nil || a.ID != 4 {
				t.Errorf("a new assessment: id %d, %v; want 4", a.ID, err)
			}
			if _, err := db.SQL().Exec("UPDATE case_events SET date = '2025-06-01' WHERE id = 1"); err == nil {
				t.Error("a moved event could be edited: case_events must be append-only")
			}
			// Nothing of the trail is lost: the events before, the attestation of the moved rows, the assessment.
			rep, err := db.Verify(admin, &before)
			if err != nil || len(rep.Problems) != 0 || rep.Count != before.Count+2 {
				t.Fatalf("verify after the upgrade: %+v, %v; want the %d events before, the attestation and the assessment", rep, err, before.Count)
			}
			evs, err := db.Events(admin, vigil.AuditFilter{Action: "audit.attest"})
			if err != nil || len(evs) != 1 || evs[0].ObjectID != strconv.FormatInt(store.MigrationCases, 10) {
				t.Errorf("attestation: %+v, %v", evs, err)
			}
		})
	}
}
