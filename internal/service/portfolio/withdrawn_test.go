package portfolio_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestWithdrawnAdvisoryNeedsReview: PYSEC-2023-73 (redis, CVE-2023-31655) was published on 2023-05-18 and
// withdrawn on 2023-06-06. Imported as it stood before the withdrawal (the real record without its withdrawn
// line), it matches redis 4.5.4 and the finding is assessed uncontrolled with a serious adverse event on file, so
// its MDR clock runs. The real, withdrawn record then re-matches: the finding goes to needs_review, not resolved;
// its assessment, event and clock stay; a full re-match leaves it there; and only a person moves it, with a reason:
// reopened, it stays open across later re-matches (the advisory still withdrawn); closed, it is closed. Both
// engines.
func TestWithdrawnAdvisoryNeedsReview(t *testing.T) {
	real := testfix.Path(t, "osv-advisories", "pypa-advisory-database", "vulns", "redis", "PYSEC-2023-73.yaml")
	body, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	var before []string
	for _, l := range strings.Split(string(body), "\n") {
		switch {
		case strings.HasPrefix(l, "withdrawn:"):
		case strings.HasPrefix(l, "modified:"):
			before = append(before, "modified: '2023-05-18T20:15:00Z'")
		default:
			before = append(before, l)
		}
	}
	if len(before) != strings.Count(string(body), "\n") {
		t.Fatalf("the real record no longer has one withdrawn line: %s", real)
	}
	for _, decision := range []vigil.FindingState{vigil.FindingOpen, vigil.FindingClosed} {
		for _, engine := range storetest.Engines {
			t.Run(string(decision)+"/"+engine, func(t *testing.T) {
				ctx := storetest.Admin()
				clock := storetest.NewClock(time.Date(2023, 5, 22, 15, 0, 0, 0, time.UTC))
				db := storetest.Open(t, engine, clock)
				p := &portfolio.Service{Store: db}
				cs := &cases.Service{Store: db, Clock: clock}
				im := &importer.Importer{Store: db}
				if err := db.CreateOrg(ctx, &vigil.Organization{Name: "Acme", TimeZone: "UTC",
					ISAOs: []vigil.ISAOMembership{{Name: "Health-ISAC", Since: vigil.NewDate(2020, 1, 1), Documents: vigil.EvidenceNotes("a", "b", "c", "d")}}}); err != nil {
					t.Fatal(err)
				}
				d := &vigil.Device{Name: "Gateway", Class: "II", Pathway: vigil.Pathway510k, Functions: []vigil.ClinicalFunction{{Name: "alarm relay", Severity: vigil.HarmCritical}}}
				if err := db.CreateDevice(ctx, d); err != nil {
					t.Fatal(err)
				}
				v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
				if err := db.CreateVersion(ctx, v); err != nil {
					t.Fatal(err)
				}
				if err := db.SetComponents(ctx, v.ID, []vigil.Component{{Name: "redis", Version: "4.5.4", Purl: "pkg:pypi/redis@4.5.4", Type: "library"}}, "gateway.cdx.json"); err != nil {
					t.Fatal(err)
				}
				pre := filepath.Join(t.TempDir(), "PYSEC-2023-73.yaml")
				if err := os.WriteFile(pre, []byte(strings.Join(before, "\n")), 0o600); err != nil {
					t.Fatal(err)
				}
				if _, err := im.Import(ctx, []string{pre}, vigil.ImportOptions{}); err != nil {
					t.Fatal(err)
				}
				if res, err := p.RematchChanged(ctx); err != nil || res.Opened != 1 {
					t.Fatalf("before the withdrawal: %+v, %v; want the redis finding opened", res, err)
				}
				fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID})
				if err != nil || len(fs) != 1 || fs[0].Evidence.Advisory != "PYSEC-2023-73" {
					t.Fatalf("findings: %v, %v", fs, err)
				}
				id, caseID := fs[0].ID, fs[0].CaseID
				if _, err := cs.Assess(ctx, cases.AssessInput{CaseID: caseID, CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Functions: []string{"alarm relay"}, Rationale: "crash of the relay"}); err != nil {
					t.Fatal(err)
				}
				if err := cs.RecordEvent(ctx, &vigil.CaseEvent{CaseID: caseID, Type: "serious_adverse_event", Date: vigil.NewDate(2023, 5, 22), Note: "complaint C-1"}); err != nil {
					t.Fatal(err)
				}
				mdr := func(when string) {
					t.Helper()
					ds, err := cs.Deadlines(ctx, cases.DeadlineFilter{})
					if err != nil {
						t.Fatal(err)
					}
					for _, x := range ds {
						if x.CaseID == caseID && x.Clock == "mdr" && x.Due == vigil.NewDate(2023, 6, 21) {
							return
						}
					}
					t.Errorf("%s: the MDR clock (due 2023-06-21) is not in deadlines: %+v", when, ds)
				}
				mdr("before the withdrawal")

				clock.T = time.Date(2023, 6, 7, 9, 0, 0, 0, time.UTC)
				if _, err := im.Import(ctx, []string{real}, vigil.ImportOptions{}); err != nil {
					t.Fatal(err)
				}
				if res, err := p.RematchChanged(ctx); err != nil || res.Resolved != 0 {
					t.Fatalf("the withdrawal: %+v, %v; want nothing resolved", res, err)
				}
				state := func(want vigil.FindingState, when string) {
					t.Helper()
					f, err := db.Finding(ctx, id)
					if err != nil || f.State != want {
						t.Fatalf("%s: finding %+v (%v), want state %s", when, f, err, want)
					}
				}
				state(vigil.FindingNeedsReview, "after the withdrawal")
				if c, err := db.Case(ctx, caseID); err != nil || c.State != vigil.CaseNeedsReview {
					t.Errorf("the case after the withdrawal: %+v, %v; want needs_review", c, err)
				}
				if as, _ := db.Assessments(ctx, caseID); len(as) != 1 {
					t.Errorf("assessments after the withdrawal: %d, want the 1 recorded", len(as))
				}
				if es, _ := db.CaseEvents(ctx, caseID); len(es) != 1 {
					t.Errorf("events after the withdrawal: %d, want the 1 recorded", len(es))
				}
				mdr("in review")
				if list, _ := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID}); len(list) != 1 {
					t.Errorf("the default findings list leaves out the finding in review: %v", list)
				}
				evs, err := db.Events(ctx, vigil.AuditFilter{Action: "finding.sync"})
				if err != nil || len(evs) == 0 || evs[0].Reason != "advisory withdrawn: osv PYSEC-2023-73" || !strings.Contains(string(evs[0].New), `"needs_review":[`) {
					t.Errorf("audit of the withdrawal: %+v, %v", evs, err)
				}
				if _, _, _, err := p.RematchVersion(ctx, v.ID); err != nil {
					t.Fatal(err)
				}
				state(vigil.FindingNeedsReview, "after a full re-match")

				if err := cs.SetFindingState(ctx, id, decision, ""); vigil.ErrorCode(err) != vigil.EINVALID {
					t.Errorf("a decision without a reason: %v, want EINVALID", err)
				}
				if err := cs.SetFindingState(ctx, id, decision, "PSIRT-112: reproduced on 4.5.4 despite the withdrawal"); err != nil {
					t.Fatal(err)
				}
				if _, _, _, err := p.RematchVersion(ctx, v.ID); err != nil {
					t.Fatal(err)
				}
				state(decision, "after the decision and a re-match")
				if decision == vigil.FindingOpen {
					mdr("reopened")
				}
			})
		}
	}
}
