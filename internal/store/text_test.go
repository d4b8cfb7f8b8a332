package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestTextRule writes text that one engine used to refuse with a 500 (PostgreSQL: a NUL byte, invalid UTF-8, an
// indexed value over its 2704-byte btree row limit) and the other kept (SQLite stored a 60 MB component name), through
// every kind of service write, on both engines: each is EINVALID naming the field, and nothing is stored. The
// longest accepted values are stored on both, so the limits fit PostgreSQL's indexes.
func TestTextRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		seedOrg(t, db)
		seedTeam(t, db)
		d := &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k, Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}}}
		if err := db.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
		if err := db.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		f := &vigil.Finding{VersionID: v.ID, Component: vigil.Component{Name: "lib", Version: "1"}, Vulnerability: "CVE-2025-0001"}
		if err := db.CreateFinding(ctx, f, "researcher report R-1"); err != nil {
			t.Fatal(err)
		}
		before, err := db.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}

		nul, bad, long := "pump\x00IP-4", "pump \xff\xfe", strings.Repeat("n", 3000)
		huge := strings.Repeat("c", 1<<20)
		comp := func(c vigil.Component) []vigil.Component {
			return []vigil.Component{{Name: "ok", Version: "1"}, c}
		}
		dev := func(mod func(*vigil.Device)) func() error {
			return func() error {
				x := &vigil.Device{Name: "Pump 2", Class: "II", Pathway: vigil.Pathway510k}
				mod(x)
				return db.CreateDevice(ctx, x)
			}
		}
		for _, tt := range []struct {
			name  string
			write func() error
			field string // the message starts with it
		}{
			{"device name with NUL", dev(func(x *vigil.Device) { x.Name = nul }), "name: contains a NUL byte"},
			{"device name not UTF-8", dev(func(x *vigil.Device) { x.Name = bad }), "name: not valid UTF-8"},
			{"device name over the btree limit", dev(func(x *vigil.Device) { x.Name = long }), "name: 3000 bytes, more than 512"},
			{"device model", dev(func(x *vigil.Device) { x.Model = nul }), "model:"},
			{"function name", dev(func(x *vigil.Device) {
				x.Functions = []vigil.ClinicalFunction{{Name: long, Severity: vigil.HarmMinor}}
			}), "functions[0].name: 3000 bytes"},
			{"intended use", dev(func(x *vigil.Device) { x.IntendedUse = "IV\x00" }), "intended_use: contains a NUL byte"},
			{"device update reason", func() error { return db.UpdateDevice(ctx, d, "renamed\x00") }, "reason: contains a NUL byte"},
			{"version", func() error { return db.CreateVersion(ctx, &vigil.DeviceVersion{DeviceID: d.ID, Version: long}) }, "version: 3000 bytes"},
			{"component name of 1 MiB", func() error {
				return db.SetComponents(ctx, v.ID, comp(vigil.Component{Name: huge, Version: "1"}), "x.cdx.json")
			},
				"components[1].name: 1048576 bytes, more than 512"},
			{"component name with NUL", func() error {
				return db.SetComponents(ctx, v.ID, comp(vigil.Component{Name: nul, Version: "1"}), "x.cdx.json")
			},
				"components[1].name: contains a NUL byte"},
			{"component version", func() error {
				return db.SetComponents(ctx, v.ID, comp(vigil.Component{Name: "a", Version: bad}), "x.cdx.json")
			},
				"components[1].version: not valid UTF-8"},
			{"component purl", func() error {
				return db.SetComponents(ctx, v.ID, comp(vigil.Component{Name: "a", Version: "1", Purl: "pkg:npm/a@1?x=" + long}), "x.cdx.json")
			}, "components[1].purl: 3014 bytes, more than 1024"},
			{"component hash", func() error {
				return db.SetComponents(ctx, v.ID, comp(vigil.Component{Name: "a", Version: "1", Hashes: map[string]string{"SHA-256": "ab\x00"}}), "x.cdx.json")
			}, "components[1].hashes.SHA-256: contains a NUL byte"},
			{"SBOM source name", func() error { return db.SetComponents(ctx, v.ID, comp(vigil.Component{Name: "a"}), "x\x00.json") }, "source: contains a NUL byte"},
			{"consignee address", func() error {
				return db.CreateConsignee(ctx, &vigil.Consignee{Name: "General", Address: "1 Main St\x00"})
			}, "address: contains a NUL byte"},
			{"consignee lot", func() error {
				return db.CreateConsignee(ctx, &vigil.Consignee{Name: "General", Units: []vigil.ConsigneeUnit{{VersionID: v.ID, Units: 1, Lots: []string{long}}}})
			}, "units[0].lots[0]: 3000 bytes"},
			{"org contact", func() error {
				return db.CreateOrg(ctx, &vigil.Organization{Name: "Other", TimeZone: "UTC", CVDContact: "psirt@\x00"})
			}, "cvd_contact: contains a NUL byte"},
			{"manual finding's vulnerability", func() error {
				return db.CreateFinding(ctx, &vigil.Finding{VersionID: v.ID, Component: vigil.Component{Name: "lib"}, Vulnerability: "CVE\x00"}, "report")
			}, "vulnerability: contains a NUL byte"},
			{"manual finding's component", func() error {
				return db.CreateFinding(ctx, &vigil.Finding{VersionID: v.ID, Component: vigil.Component{Name: long}, Vulnerability: "CVE-2025-0002"}, "report")
			}, "component.name: 3000 bytes"},
			{"event note", func() error {
				return db.AddCaseEvent(ctx, &vigil.CaseEvent{CaseID: f.CaseID, Type: "customer_notified", Date: vigil.NewDate(2020, 1, 2), Note: "CN-1\x00"})
			}, "note: contains a NUL byte"},
			{"assessment rationale", func() error {
				return db.Assess(ctx, &vigil.Assessment{CaseID: f.CaseID, Risk: "controlled", Rationale: "not reachable " + bad})
			}, "rationale: not valid UTF-8"},
			{"assessment function", func() error {
				return db.Assess(ctx, &vigil.Assessment{CaseID: f.CaseID, Risk: "controlled", Rationale: "ok", Functions: []string{nul}})
			}, "functions[0]: contains a NUL byte"},
			{"finding state reason", func() error { return db.SetFindingState(ctx, f.ID, vigil.FindingClosed, "fixed\x00") }, "reason: contains a NUL byte"},
			{"user name", func() error {
				return db.CreateUser(ctx, &vigil.User{Name: "eve\x00", Role: vigil.RoleViewer}, lifecyclePW)
			}, "name: contains a NUL byte"},
			{"token name", func() error { _, _, err := db.CreateToken(ctx, "root", long, time.Time{}); return err }, "name: 3000 bytes"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.write()
				if vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(vigil.ErrorMessage(err), tt.field) {
					t.Errorf("%s (%v), want EINVALID starting %q", vigil.ErrorCode(err), clipErr(err), tt.field)
				}
			})
		}
		after, err := db.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Errorf("the audit trail grew from %d to %d events: a refused write was kept", before.Count, after.Count)
		}
		if cs, err := db.Components(ctx, v.ID); err != nil || len(cs) != 0 {
			t.Errorf("components after refused imports: %d %v", len(cs), err)
		}

		// The longest accepted values fit both engines' indexes (device name and version are unique keys, the
		// component key is group/name@version).
		max := strings.Repeat("é", vigil.MaxName/2)
		if err := db.CreateDevice(ctx, &vigil.Device{Name: max, Class: "II", Pathway: vigil.Pathway510k}); err != nil {
			t.Errorf("a %d-byte device name: %v", len(max), err)
		}
		if err := db.CreateVersion(ctx, &vigil.DeviceVersion{DeviceID: d.ID, Version: max}); err != nil {
			t.Errorf("a %d-byte version: %v", len(max), err)
		}
		big := vigil.Component{Name: max, Group: max, Version: max}
		if err := db.SetComponents(ctx, v.ID, []vigil.Component{big, {Name: "a", Version: "1", Purl: "pkg:npm/a@1?x=" + strings.Repeat("q", vigil.MaxIdent-16)}}, "x.cdx.json"); err != nil {
			t.Errorf("components at the limits: %v", err)
		}
		if err := db.CreateFinding(ctx, &vigil.Finding{VersionID: v.ID, Component: big, Vulnerability: "CVE-2025-0003"}, "report"); err != nil {
			t.Errorf("a finding on a component at the limits: %v", err)
		}
	})
}

func clipErr(err error) string {
	if err == nil {
		return "no error"
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
