package stix_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/feed/stix"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/testfix/stixschema"
)

func share(tlp string) stix.CaseShare {
	return stix.CaseShare{Manufacturer: "Acme Medical", ManufacturerSince: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Contact: "psirt@acme.example",
		TLP: tlp, CaseID: 7, Vulnerability: "CVE-2022-25640", CVEs: []string{"CVE-2022-25640"}, OtherIDs: []string{"GHSA-xxxx-yyyy-zzzz"}, CWEs: []string{"CWE-295"},
		Summary: "wolfSSL before 5.2.0 accepts a client without a certificate.", Device: "Infusion Pump IP-3", Versions: []string{"3.2.1", "3.3.0"},
		Assessment: "Uncontrolled: high exploitability, catastrophic severity (dose delivery).",
		Controls:   []string{"Segment the pump network (VLAN, no inbound from the hospital LAN)", "CC-2"},
		Fix:        "Firmware 3.4.0 updates wolfSSL to 5.2.0; validated (VV-2026-12) and distributed through the service portal.", FixedIn: []string{"3.4.0"},
		Communications: []stix.Communication{{Ref: "CN-2026-14", Date: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Text: "Customer notice CN-2026-14: ..."}},
		Created:        time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC), Modified: time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)}
}

func marshal(t *testing.T, b *stix.OutBundle) []byte {
	t.Helper()
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestCaseBundleValidates runs every shape of case share through the OASIS STIX 2.1 schemas (the bundle and each
// object against its own type's schema) and STIX's rules the schemas cannot express.
func TestCaseBundleValidates(t *testing.T) {
	v := stixschema.Load(t)
	if v.Types() < 40 {
		t.Fatalf("%d object schemas compiled, want the OASIS set (over 40)", v.Types())
	}
	hostile := share("red")
	hostile.Summary = `<script>alert(1)</script> "quoted" ` + strings.Repeat("é", 300)
	hostile.Controls = []string{strings.Repeat("long control ", 40)}
	bare := share("clear")
	bare.Controls, bare.Fix, bare.FixedIn, bare.Communications, bare.CWEs, bare.OtherIDs = nil, "", nil, nil, nil, nil
	tests := map[string]stix.CaseShare{"green": share("green"), "amber": share("amber"), "amber+strict": share("amber+strict"),
		"hostile text": hostile, "nothing but the vulnerability": bare}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := stix.CaseBundle(in)
			if err != nil {
				t.Fatal(err)
			}
			raw := marshal(t, b)
			for _, err := range v.Errors(raw) {
				t.Error(err)
			}
			for _, err := range stix.Check(raw, stix.Known) {
				t.Error(err)
			}
		})
	}
}

// TestCaseBundleIDs: the same share is the same bundle; a later share of the case keeps every object's id and
// moves modified, so the ISAO updates its objects rather than collecting duplicates.
func TestCaseBundleIDs(t *testing.T) {
	a, err := stix.CaseBundle(share("green"))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := stix.CaseBundle(share("green"))
	if string(marshal(t, a)) != string(marshal(t, again)) {
		t.Fatal("the same share gave two different bundles")
	}
	later := share("green")
	later.Modified = later.Modified.Add(48 * time.Hour)
	later.Communications = append(later.Communications, stix.Communication{Ref: "CN-2026-15", Text: "follow-up"})
	b, _ := stix.CaseBundle(later)
	if a.ID == b.ID {
		t.Error("a changed share kept the bundle id")
	}
	ids := map[string]stix.Object{}
	for _, o := range b.Objects {
		ids[o.ID] = o
	}
	for _, o := range a.Objects {
		n, ok := ids[o.ID]
		if !ok {
			t.Errorf("%s (%s) is not in the later share", o.ID, o.Type)
			continue
		}
		if o.Type != "identity" && o.Type != "marking-definition" && n.Modified <= o.Modified {
			t.Errorf("%s: modified %s, not after %s", o.ID, n.Modified, o.Modified)
		}
		if n.Created != o.Created {
			t.Errorf("%s: created moved from %s to %s", o.ID, o.Created, n.Created)
		}
	}
	if len(b.Objects) != len(a.Objects)+1 {
		t.Errorf("later share: %d objects, want %d (one more communication)", len(b.Objects), len(a.Objects)+1)
	}
	if _, err := stix.CaseBundle(share("white")); err == nil {
		t.Error("TLP white (TLP 1.0) accepted as a TLP 2.0 level")
	}
}

// TestValidationBites: each rule catches its violation, so a clean result means something.
func TestValidationBites(t *testing.T) {
	v := stixschema.Load(t)
	b, _ := stix.CaseBundle(share("amber"))
	edit := func(fn func(objs []map[string]any)) []byte {
		var m struct {
			Type    string           `json:"type"`
			ID      string           `json:"id"`
			Objects []map[string]any `json:"objects"`
		}
		json.Unmarshal(marshal(t, b), &m)
		fn(m.Objects)
		raw, _ := json.Marshal(m)
		return raw
	}
	find := func(objs []map[string]any, typ string) map[string]any {
		for _, o := range objs {
			if o["type"] == typ {
				return o
			}
		}
		t.Fatalf("no %s", typ)
		return nil
	}
	schema := map[string][]byte{
		"vulnerability without a name":   edit(func(o []map[string]any) { delete(find(o, "vulnerability"), "name") }),
		"report without object_refs":     edit(func(o []map[string]any) { delete(find(o, "report"), "object_refs") }),
		"report without published":       edit(func(o []map[string]any) { delete(find(o, "report"), "published") }),
		"timestamp without a zone":       edit(func(o []map[string]any) { find(o, "vulnerability")["created"] = "2026-02-20T10:00:00" }),
		"relationship type with a space": edit(func(o []map[string]any) { find(o, "relationship")["relationship_type"] = "mitigates it" }),
	}
	for name, raw := range schema {
		if len(v.Errors(raw)) == 0 {
			t.Errorf("%s: the schemas found nothing", name)
		}
	}
	rules := map[string][]byte{
		"id prefix is another type": edit(func(o []map[string]any) {
			x := find(o, "course-of-action")
			x["id"] = strings.Replace(x["id"].(string), "course-of-action--", "report--", 1)
		}),
		"modified before created": edit(func(o []map[string]any) { find(o, "vulnerability")["modified"] = "2020-01-01T00:00:00.000Z" }),
		"dangling reference":      edit(func(o []map[string]any) { find(o, "report")["created_by_ref"] = stix.ID("identity", "someone else") }),
		"marking not in the bundle": edit(func(o []map[string]any) {
			find(o, "relationship")["object_marking_refs"] = []string{"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"}
		}),
	}
	for name, raw := range rules {
		if len(stix.Check(raw, stix.Known)) == 0 {
			t.Errorf("%s: Check found nothing", name)
		}
	}
}

// TestOASISExamplesValidate: the validator and Check accept the OASIS examples (the APT1 and Poison Ivy reports and
// the smaller bundles), so they are not stricter than STIX itself.
func TestOASISExamplesValidate(t *testing.T) {
	v := stixschema.Load(t)
	dir := testfix.Path(t, "stix-2.1", "cti-stix2-json-schemas", "examples")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	more, _ := filepath.Glob(filepath.Join(dir, "threat-reports", "*.json"))
	files = append(files, more...)
	if len(files) < 5 {
		t.Fatalf("%d examples", len(files))
	}
	tlp1 := map[string]bool{"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": true, "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": true,
		"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": true, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": true}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ Type string }
		if json.Unmarshal(raw, &head); head.Type != "bundle" {
			continue // interop-objectmarking-test.json is a single campaign
		}
		for _, err := range v.Errors(raw) {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		for _, err := range stix.Check(raw, tlp1) {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}

// TestNoticeBundle: a customer notice covering two cases is one bundle that validates against the OASIS schemas
// and STIX's own rules: each case's objects once, the manufacturer and the marking once, and the notice as a
// report referencing both vulnerabilities and both cases' reports; shared again, it keeps its ids.
func TestNoticeBundle(t *testing.T) {
	v := stixschema.Load(t)
	second := share("green")
	second.CaseID, second.Vulnerability, second.CVEs, second.Device = 8, "CVE-2021-44228", []string{"CVE-2021-44228"}, "Infusion Pump IP-4"
	notice := stix.Communication{Ref: "N-3", Date: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), Text: "Dear customer, <b>update</b> to 3.4.0 ..."}
	b, err := stix.NoticeBundle(notice, []stix.CaseShare{share("green"), second})
	if err != nil {
		t.Fatal(err)
	}
	raw := marshal(t, b)
	for _, err := range v.Errors(raw) {
		t.Error(err)
	}
	for _, err := range stix.Check(raw, stix.Known) {
		t.Error(err)
	}
	types := map[string]int{}
	for _, o := range b.Objects {
		types[o.Type]++
	}
	if types["identity"] != 1 || types["marking-definition"] != 1 || types["vulnerability"] != 2 {
		t.Errorf("object types = %v", types)
	}
	last := b.Objects[len(b.Objects)-1]
	if last.Type != "report" || last.Name != "Customer communication N-3" || last.Description != notice.Text || len(last.ObjectRefs) != 4 ||
		last.Created != "2026-03-03T00:00:00.000Z" || last.Modified != "2026-03-03T00:00:00.000Z" {
		t.Errorf("the notice's report = %+v", last)
	}
	again, _ := stix.NoticeBundle(notice, []stix.CaseShare{share("green"), second})
	if again.ID != b.ID {
		t.Error("the same notice share gave another bundle")
	}
	if _, err := stix.NoticeBundle(notice, []stix.CaseShare{share("green"), share("amber")}); err == nil {
		t.Error("a notice shared under two TLP levels was accepted")
	}
	if _, err := stix.NoticeBundle(notice, nil); err == nil {
		t.Error("a notice of no case was accepted")
	}
}
