package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/sbom"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// TestSupplierVEX imports real VEX documents of each format as VEX: the CycloneDX VEX that goes with its BOM
// (jackson-databind), a CISA use case (product GHI 17.4, in triage) and OASIS's CSAF VEX example (Secvisogram). Each statement
// becomes a proposal on the open finding it matches and on no other; the version's components are untouched; the
// same file is refused a second time; accepting not_affected closes the finding and rejecting leaves it open, each
// audited and decided once; a viewer may not import.
func TestSupplierVEX(t *testing.T) {
	const td = "../../../shared/testdata/"
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := app.CLIContext(context.Background())
			a, err := app.Open(ctx, storetest.MigratedDSN(t, engine), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := a.Portfolio.CreateOrg(ctx, &vigil.Organization{Name: "Acme", TimeZone: "UTC"}); err != nil {
				t.Fatal(err)
			}
			d := &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k, Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCritical}}}
			if err := a.Portfolio.CreateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
			v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
			if err := a.Portfolio.CreateVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(td + "cyclonedx-bom-examples/VEX/bom.json")
			if err != nil {
				t.Fatal(err)
			}
			doc, err := sbom.ParseBytes("bom.json", b, untrusted.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Portfolio.SetComponents(ctx, v.ID, doc.Components, "bom.json"); err != nil {
				t.Fatal(err)
			}
			finding := func(vuln string, c vigil.Component) *vigil.Finding {
				f := &vigil.Finding{VersionID: v.ID, Vulnerability: vuln, Source: "manual", Component: c, Evidence: vigil.Evidence{Matcher: "manual"}}
				if err := a.Cases.CreateFinding(ctx, f, "supplier bulletin"); err != nil {
					t.Fatal(err)
				}
				return f
			}
			comp := map[string]vigil.Component{}
			for _, c := range doc.Components {
				comp[c.Name] = c
			}
			databind := finding("CVE-2020-25649", comp["jackson-databind"])
			core := finding("CVE-2020-25649", comp["jackson-core"]) // same flaw id, another component: not the statement's
			ghi := finding("CVE-2021-44228", vigil.Component{Name: "GHI", Version: "17.4"})
			secvisogram := finding("CVE-2021-44228", vigil.Component{Name: "Secvisogram", Version: "1.11.0"})

			imp := func(rel string) *vigil.VEXImport {
				t.Helper()
				f, err := os.Open(td + rel)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				res, err := a.VEX.ImportVEX(ctx, filepath.Base(rel), f, 0)
				if err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				return res
			}
			for _, tc := range []struct {
				file, format string
				want         *vigil.Finding
				status       vigil.VEXStatus
			}{
				{"cyclonedx-bom-examples/VEX/vex.json", "cyclonedx", databind, vigil.VEXNotAffected},
				{"cyclonedx-bom-examples/VEX/CISA-Use-Cases/Case-1/vex-under_investigation.json", "cyclonedx", ghi, vigil.VEXUnderInvestigation},
				{"csaf-2.0-spec-tests/examples/csaf/csaf_vex/sec-vex-2022-0001.json", "csaf", secvisogram, vigil.VEXNotAffected},
			} {
				res := imp(tc.file)
				if res.Document.Format != tc.format || len(res.Proposals) != 1 || res.Proposals[0].FindingID != tc.want.ID || res.Proposals[0].Statement.Status != tc.status {
					t.Errorf("%s: %+v %+v", tc.file, res.Document, res.Proposals)
				}
			}
			if ps, _ := a.VEX.VEXProposals(ctx, vigil.VEXFilter{FindingID: core.ID}); len(ps) != 0 {
				t.Errorf("jackson-core got a proposal meant for jackson-databind: %+v", ps)
			}
			// VEX is not an SBOM: the version keeps its components.
			if cs, err := a.Portfolio.Components(ctx, v.ID); err != nil || len(cs) != len(doc.Components) {
				t.Errorf("components after VEX imports: %d %v", len(cs), err)
			}
			f, _ := os.Open(td + "cyclonedx-bom-examples/VEX/vex.json")
			defer f.Close()
			if _, err := a.VEX.ImportVEX(ctx, "vex.json", f, 0); vigil.ErrorCode(err) != vigil.ECONFLICT || !strings.Contains(err.Error(), "already imported") {
				t.Errorf("second import of the same file: %v", err)
			}

			ps, err := a.VEX.VEXProposals(ctx, vigil.VEXFilter{States: []vigil.VEXProposalState{vigil.VEXProposed}})
			if err != nil || len(ps) != 3 {
				t.Fatalf("proposed: %d %v", len(ps), err)
			}
			byFinding := map[int64]*vigil.VEXProposal{}
			for _, p := range ps {
				byFinding[p.FindingID] = p
			}
			if _, err := a.VEX.DecideVEX(ctx, byFinding[databind.ID].ID, true, ""); vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("accept without a reason: %v", err)
			}
			if p, err := a.VEX.DecideVEX(ctx, byFinding[databind.ID].ID, true, "reviewed the supplier's dataflow analysis"); err != nil || p.State != vigil.VEXAccepted {
				t.Fatalf("accept: %+v %v", p, err)
			}
			if got, _ := a.Cases.Finding(ctx, databind.ID); got.State != vigil.FindingClosed {
				t.Errorf("accepted not_affected: finding is %s, want closed", got.State)
			}
			if _, err := a.VEX.DecideVEX(ctx, byFinding[databind.ID].ID, false, "changed my mind"); vigil.ErrorCode(err) != vigil.ECONFLICT {
				t.Errorf("second decision: %v", err)
			}
			if p, err := a.VEX.DecideVEX(ctx, byFinding[secvisogram.ID].ID, false, "our build includes a Java plug-in"); err != nil || p.State != vigil.VEXRejected {
				t.Fatalf("reject: %+v %v", p, err)
			}
			if got, _ := a.Cases.Finding(ctx, secvisogram.ID); got.State != vigil.FindingOpen {
				t.Errorf("rejected: finding is %s, want open", got.State)
			}
			// Accepting under_investigation records the decision and leaves the finding open.
			if _, err := a.VEX.DecideVEX(ctx, byFinding[ghi.ID].ID, true, "supplier is investigating"); err != nil {
				t.Fatal(err)
			}
			if got, _ := a.Cases.Finding(ctx, ghi.ID); got.State != vigil.FindingOpen {
				t.Errorf("accepted under_investigation: finding is %s, want open", got.State)
			}
			events, err := a.Audit.Events(ctx, vigil.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			actions := map[string]int{}
			for _, e := range events {
				actions[e.Action]++
			}
			if actions["vex.import"] != 3 || actions["vex.propose"] != 3 || actions["vex.accept"] != 2 || actions["vex.reject"] != 1 || actions["finding.state"] != 1 {
				t.Errorf("audit actions: %v", actions)
			}
			if _, err := a.Audit.Verify(ctx, nil); err != nil {
				t.Errorf("audit trail: %v", err)
			}
			viewer := vigil.WithActor(context.Background(), vigil.Actor{UserID: 9, Name: "val", Role: vigil.RoleViewer})
			f2, _ := os.Open(td + "openvex/go-vex/pkg/vex/testdata/v020-1.vex.json")
			defer f2.Close()
			if _, err := a.VEX.ImportVEX(viewer, "v.json", f2, 0); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
				t.Errorf("viewer import: %v", err)
			}
		})
	}
}
