package isao_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/taxii"
	"github.com/vigil-dev/vigil/internal/service/isao"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// isaoObjects is what the ISAO publishes: a vulnerability naming the case's CVE, an indicator, a note on the
// vulnerability, a report naming our device (in hostile words), an object with a bad id, one of another type.
func isaoObjects(modified string) []json.RawMessage {
	objs := []string{
		`{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--0a6f5a3e-8d2c-4c34-9b1e-5f3c2a1d0e9f","created":"2025-06-01T00:00:00.000Z","modified":%q,
		  "name":"wolfSSL client certificate bypass","description":"Exploited against infusion systems.","external_references":[{"source_name":"cve","external_id":"CVE-2025-0001"}]}`,
		`{"type":"indicator","spec_version":"2.1","id":"indicator--1b7f6b4f-9e3d-4d45-8c2f-6a4d3b2e1f0a","created":"2025-06-01T00:00:00.000Z","modified":%q,
		  "name":"scanner of port 443","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2025-06-01T00:00:00Z"}`,
		`{"type":"note","spec_version":"2.1","id":"note--2c8a7c5a-0f4e-4e56-9d3a-7b5e4c3f2a1b","created":"2025-06-01T00:00:00.000Z","modified":%q,
		  "abstract":"H-ISAC analyst note","content":"Seen in the wild since May.","object_refs":["vulnerability--0a6f5a3e-8d2c-4c34-9b1e-5f3c2a1d0e9f"]}`,
		`{"type":"report","spec_version":"2.1","id":"report--3d9b8d6b-1a5f-4f67-8e4b-8c6f5d4a3b2c","created":"2025-06-01T00:00:00.000Z","modified":%q,
		  "name":"Attacks on the Infusion Pump IP-3 <script>alert(1)</script>\u001b[31m","description":"<img src=x onerror=alert(1)> \u202eevil",
		  "published":"2025-06-01T00:00:00Z","object_refs":["indicator--1b7f6b4f-9e3d-4d45-8c2f-6a4d3b2e1f0a"]}`,
		`{"type":"indicator","spec_version":"2.1","id":"malware--4e0c9e7c-2b6a-4a78-9f5c-9d7a6e5b4c3d","created":"2025-06-01T00:00:00.000Z","modified":%q,"pattern":"[x:y = 'z']","pattern_type":"stix"}`,
	}
	var out []json.RawMessage
	for _, o := range objs {
		out = append(out, json.RawMessage(fmt.Sprintf(o, modified)))
	}
	return out
}

// TestIntelligence polls the ISAO's TAXII collection (paged, then after the last poll's date), keeps indicators,
// vulnerabilities, notes and reports as signals linked to the case they touch, renders hostile text inert, lets an
// assessment cite a signal, and shows it all in the evidence view (JSON and CSV).
func TestIntelligence(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			fx := setup(t, engine)
			ctx := storetest.Admin()
			pw, url, coll, user := "pw-123456", fx.url+"/taxii2/", "shares", "acme"
			if _, err := fx.svc.Set(ctx, isao.SetInput{Name: "Health-ISAC", TAXIIURL: &url, Collection: &coll, User: &user, Password: &pw}); err != nil {
				t.Fatal(err)
			}
			fx.taxii.PageSize = 2
			c, root := fx.client(t)
			if _, err := c.AddObjects(ctx, root, "shares", isaoObjects("2025-06-01T00:00:00.000Z")); err != nil {
				t.Fatal(err)
			}
			in, err := fx.svc.Poll(ctx, "Health-ISAC", "")
			if err != nil {
				t.Fatal(err)
			}
			if in.Objects != 4 || in.Signals != 4 || in.Changed != 4 || len(in.Linked) != 1 || in.Linked[0] != fx.caseID || in.Cursor == "" {
				t.Fatalf("first poll = %+v (the server refused the malware-id object)", in)
			}
			sigs, err := fx.svc.Signals(ctx, "", fx.caseID)
			if err != nil || len(sigs) != 3 {
				t.Fatalf("signals of the case = %+v, %v; want the vulnerability, its note and the report naming the pump", sigs, err)
			}
			for _, sg := range sigs {
				if sg.Type == "report" {
					if strings.ContainsAny(sg.Name+sg.Description, "\x1b\u202e") || !strings.Contains(sg.Name, "<script>") || sg.Named[0] != "device:Infusion Pump IP-3" {
						t.Errorf("the hostile report is kept as %q / %q / %v", sg.Name, sg.Description, sg.Named)
					}
				}
			}
			// Nothing new: nothing changes; a newer version of the vulnerability: one change.
			again, err := fx.svc.Poll(ctx, "Health-ISAC", in.Cursor)
			if err != nil || again.Objects != 0 || again.Changed != 0 || again.Cursor != in.Cursor {
				t.Errorf("a poll with nothing new = %+v, %v", again, err)
			}
			if _, err := c.AddObjects(ctx, root, "shares", isaoObjects("2025-06-03T00:00:00.000Z")[:1]); err != nil {
				t.Fatal(err)
			}
			later, err := fx.svc.Poll(ctx, "Health-ISAC", in.Cursor)
			if err != nil || later.Objects != 1 || later.Changed != 1 {
				t.Errorf("a poll after a new version = %+v, %v", later, err)
			}
			// The feed scheduler's way in: a taxii feed naming the membership's server, from its cursor.
			cur, sum, err := fx.svc.PollFeed(ctx, &vigil.Feed{Name: "h-isac", Source: vigil.SourceTAXII, URL: url, Cursor: in.Cursor})
			if err != nil || cur != later.Cursor || sum.Added != 0 || sum.Unchanged != 1 || sum.Source != vigil.SourceTAXII {
				t.Errorf("feed poll from the first cursor = %q, %+v, %v; want the newer version read again and kept as it is, cursor %q", cur, sum, err, later.Cursor)
			}
			if _, _, err := fx.svc.PollFeed(ctx, &vigil.Feed{Name: "other", Source: vigil.SourceTAXII, URL: "https://taxii.other.example/"}); vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("a feed no membership names = %v", err)
			}
			// The assessment cites the vulnerability signal: §IX item 4.
			as, _ := fx.db.Assessments(ctx, fx.caseID)
			var vuln int64
			for _, sg := range sigs {
				if sg.Type == "vulnerability" {
					vuln = sg.ID
				}
			}
			if err := fx.svc.Cite(ctx, as[0].ID, []int64{vuln}, "H-ISAC reports exploitation"); err != nil {
				t.Fatal(err)
			}
			ev, err := fx.svc.Evidence(ctx, "Health-ISAC", "", vigil.NewDate(2025, 6, 1), vigil.Date{})
			if err != nil {
				t.Fatal(err)
			}
			if !ev.Active || len(ev.Signals) != 4 || ev.Touched != 3 || ev.Cited != 1 || !ev.Items[3].Evidenced || !strings.Contains(ev.Items[3].Records, "1 cited by assessments") {
				t.Errorf("evidence = %+v", ev)
			}
			var buf bytes.Buffer
			if err := ev.WriteCSV(&buf); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(rows) < 10 || rows[0][0] != "section" {
				t.Fatalf("CSV = %v, %v", rows, err)
			}
			cited := false
			for _, r := range rows {
				cited = cited || (r[0] == "signal" && strings.Contains(r[4], fmt.Sprintf("assessments %d", as[0].ID)))
			}
			if !cited {
				t.Errorf("the CSV does not trace the signal to the assessment:\n%s", buf.String())
			}
		})
	}
}

// TestHostileSTIX: a bundle that is not one, nests too deep, carries an oversized string or bad ids gets a clear
// error (or the bad objects are rejected by index), and nothing is kept from a refused file.
func TestHostileSTIX(t *testing.T) {
	fx := setup(t, "sqlite")
	ctx := storetest.Admin()
	deep := `{"type":"bundle","id":"bundle--5f1d0a8b-3c7e-4b89-a06d-0e8c7f6a5b4d","objects":[{"type":"note","id":"note--6a2e1b9c-4d8f-4c9a-b17e-1f9d8a7b6c5e","x":` +
		strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}]}`
	huge := `{"type":"bundle","id":"bundle--5f1d0a8b-3c7e-4b89-a06d-0e8c7f6a5b4d","objects":[{"type":"note","id":"note--6a2e1b9c-4d8f-4c9a-b17e-1f9d8a7b6c5e","content":"` +
		strings.Repeat("A", 2<<20) + `","object_refs":["x--1"]}]}`
	for name, tc := range map[string]struct{ body, want string }{
		"not a bundle":      {`{"type":"report"}`, "type"},
		"not JSON":          {`<html>`, "stix"},
		"nested too deep":   {deep, "nest"},
		"oversized string":  {huge, "string"},
		"objects not array": {`{"type":"bundle","id":"bundle--5f1d0a8b-3c7e-4b89-a06d-0e8c7f6a5b4d","objects":{}}`, "not a stix bundle"},
	} {
		_, err := fx.svc.ImportSTIX(ctx, "Health-ISAC", name+".json", strings.NewReader(tc.body))
		if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(strings.ToLower(err.Error()), tc.want) || !strings.Contains(err.Error(), name+".json") {
			t.Errorf("%s: %v, want EINVALID naming the file and %q", name, err, tc.want)
		}
	}
	if sigs, _ := fx.svc.Signals(ctx, "", 0); len(sigs) != 0 {
		t.Errorf("refused files left signals: %+v", sigs)
	}
	objs := isaoObjects("2025-06-01T00:00:00.000Z")
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5f1d0a8b-3c7e-4b89-a06d-0e8c7f6a5b4d", "objects": objs})
	in, err := fx.svc.ImportSTIX(ctx, "Health-ISAC", "bulletin.json", bytes.NewReader(b))
	if err != nil || in.Signals != 4 || len(in.Rejected) != 1 || !strings.Contains(in.Rejected[0], "objects[4]") || !strings.Contains(in.Rejected[0], "is not a indicator identifier") {
		t.Errorf("a file with a bad id = %+v, %v", in, err)
	}
}

func (fx *fixture) client(t *testing.T) (*taxii.Client, string) {
	t.Helper()
	return &taxii.Client{User: "acme", Password: "pw-123456"}, fx.url + "/api1/"
}
