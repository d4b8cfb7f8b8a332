package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	csafin "github.com/vigil-dev/vigil/internal/feed/csaf"
	"github.com/vigil-dev/vigil/internal/pgpkey"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// api is a PSIRT member's bearer-token client of a running Vigil.
type api struct {
	t      *testing.T
	base   string
	token  string
	client *http.Client
}

// do sends a JSON request and decodes the answer into out (when not nil); a status other than want fails the test.
func (c *api) do(method, path string, in any, want int, out any) []byte {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

// TestCommunication walks issue 13's "done when" through the JSON API, on both engines, as production wires it:
// a case assessed, planned and given a compensating control; a customer notice drafted from the records (the
// element the records cannot support reported missing), completed, sent and received by a real SMTP server
// (Mailpit) at every contact of the consignees of the affected version, which records customer_notified with the
// four elements (criterion 2 met, typed by nobody); a fix release validated and distributed (criterion 3 met); a
// follow-up notice threaded under the first in each recipient's mailbox (In-Reply-To, References read back from
// Mailpit); CSAF advisories (TLP:WHITE for the notice, interim then final, with the reporter's credit as agreed in
// the disclosure coordination; TLP:AMBER for the case) that pass Vigil's validator and the CSAF TC's reference
// validator; the provider served over TLS and checked by gocsaf's csaf_checker, AMBER refused to the public; and
// each version's VEX saying what the case says, the CSAF VEX passing the reference validator too.
func TestCommunication(t *testing.T) {
	mp := testfix.StartMailpit(t)
	checker := testfix.CSAFChecker(t)
	// The CSAF documents of both engines go to the reference validator in one call: starting it costs seconds.
	docs := t.TempDir()
	var files []string
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			mp.Reset(t)
			ctx := app.CLIContext(context.Background())
			key, err := pgpkey.Load(testfix.OpenPGPKey(t, "Acme Medical", time.Now()), []byte(testfix.OpenPGPPassphrase))
			if err != nil {
				t.Fatal(err)
			}
			a, err := app.Open(ctx, storetest.MigratedDSN(t, engine), nil, app.WithSMTPURL(mp.URL("psirt@acme.example")), app.WithOpenPGP(key))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			unsigned(t, a)
			h, err := a.Handler(app.ServeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewTLSServer(h)
			defer srv.Close()
			must := storetest.Must(t)
			// What the portfolio and intake already hold: the organization, its CVD policy (the CSAF namespace), a
			// device with the fielded version and the fix release's version, two consignees with contacts, the
			// matched finding, and a researcher's report triaged into it whose credit was agreed.
			must(a.Portfolio.CreateOrg(ctx, &vigil.Organization{Name: "Acme Medical", TimeZone: "UTC", CVDContact: "psirt@acme.example"}))
			must(a.Intake.SetPolicy(ctx, &vigil.CVDPolicy{Languages: []string{"en"}, BaseURL: srv.URL, Expires: a.Clock.Now().AddDate(0, 6, 0)}, "publish"))
			d := &vigil.Device{Name: "Infusion Pump IP-3", Class: "II", Pathway: vigil.Pathway510k, Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}}}
			must(a.Portfolio.CreateDevice(ctx, d))
			v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.2.1", UnitsFielded: 50}
			must(a.Portfolio.CreateVersion(ctx, v))
			fixVersion := &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.2.2", Status: vigil.VersionInDevelopment}
			must(a.Portfolio.CreateVersion(ctx, fixVersion))
			for _, c := range []*vigil.Consignee{
				{Name: "General Hospital", Emails: []string{"biomed@general.example", "ciso@general.example"}, Units: []vigil.ConsigneeUnit{{VersionID: v.ID, Units: 40}}},
				{Name: "Clinic", Emails: []string{"it@clinic.example"}, Units: []vigil.ConsigneeUnit{{VersionID: v.ID, Units: 10}}},
			} {
				must(a.Portfolio.CreateConsignee(ctx, c))
			}
			f := &vigil.Finding{VersionID: v.ID, Vulnerability: "CVE-2022-25640", Component: vigil.Component{Name: "wolfssl", Version: "4.8.1", Purl: "pkg:generic/wolfssl@4.8.1"}}
			must(a.Cases.CreateFinding(ctx, f, "matched"))
			rep, _, err := a.Intake.Submit(ctx, &vigil.ReportInput{DeviceID: d.ID, Title: "Dose programming without a client certificate", Description: "TLS accepts any client.",
				ReporterName: "Rae", ReporterEmail: "rae@lab.example", Credit: "Rae"})
			must(err)
			must(a.Intake.Acknowledge(ctx, rep.ID, "Received."))
			must(a.Intake.Triage(ctx, rep.ID, []vigil.ReportLink{{Kind: vigil.LinkFinding, ID: f.ID}}, "Confirmed."))
			_, err = a.Cases.SetDisclosure(ctx, f.CaseID, vigil.Disclosure{Partners: []string{vigil.PartnerReporter}, Credit: "Rae Researcher (Example Lab)"}, "credit agreed with the reporter")
			must(err)
			system := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "outbox"})
			_, err = a.Outbox.DeliverDue(system) // the reporter's acknowledgement and triage messages
			must(err)
			mp.Reset(t)
			must(a.Accounts.CreateUser(ctx, &vigil.User{Name: "pat", Role: vigil.RolePSIRT}, "pat's long passphrase"))
			must(a.Accounts.SetFullName(ctx, "pat", "Pat Q. Psirt"))
			// The determination and the notice's release are signed (with the requirements off, as a choice): the
			// advisory carries their manifests.
			patSig := map[string]any{"meaning": "approval", "signer": "pat", "password": "pat's long passphrase"}
			_, secret, err := a.Accounts.CreateToken(ctx, "pat", "e2e", time.Time{})
			must(err)
			c := &api{t: t, base: srv.URL, token: secret, client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
			caseURL := fmt.Sprintf("/api/v1/cases/%d", f.CaseID)
			criteria := func() []string {
				t.Helper()
				var out struct {
					Determination struct {
						EnforcementDiscretion struct {
							Criteria []struct {
								Status string `json:"status"`
							} `json:"criteria"`
						} `json:"enforcement_discretion"`
					} `json:"determination"`
				}
				c.do("GET", caseURL, nil, 200, &out)
				var s []string
				for _, cr := range out.Determination.EnforcementDiscretion.Criteria {
					s = append(s, cr.Status)
				}
				return s
			}

			// Assessment and plan, then the notice: prefilled, the fix element missing until the PSIRT writes it.
			c.do("POST", caseURL+"/assessments", map[string]any{"cvss": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", "functions": []string{"dose delivery"},
				"controls": []string{"pump network segmented from the hospital LAN"}, "rationale": "a client without a certificate reaches dose programming", "signature": patSig}, 201, nil)
			today := a.Clock.Now().UTC().Format("2006-01-02")
			c.do("POST", caseURL+"/remediation", map[string]any{"action": "plan", "plan": map[string]any{"fix_release": "3.2.2", "target_date": a.Clock.Now().AddDate(0, 0, 30).UTC().Format("2006-01-02"),
				"cycle": "out-of-cycle", "rationale": "the TLS library update needs a regression run",
				"controls": []map[string]any{{"what": "Pumps on a dedicated VLAN", "documented": "IFU §7.3", "since": today}}}}, 200, nil)
			type noticeOut struct {
				ID         int64    `json:"id"`
				State      string   `json:"state"`
				Missing    []string `json:"missing_elements"`
				Recipients []struct {
					Email string `json:"email"`
				} `json:"recipients"`
				Deliveries []struct {
					State string `json:"state"`
					Log   []struct {
						Outcome string `json:"outcome"`
					} `json:"log"`
				} `json:"deliveries"`
			}
			var n noticeOut
			c.do("POST", "/api/v1/notices", map[string]any{"cases": []int64{f.CaseID}}, 201, &n)
			if strings.Join(n.Missing, ",") != "d" {
				t.Fatalf("drafted notice misses %v, want d (the records name no fixed version)", n.Missing)
			}
			c.do("POST", fmt.Sprintf("/api/v1/notices/%d/send", n.ID), map[string]any{}, 400, nil) // refused: an element is missing, no reason given
			fixText := "Release 3.2.2 will fix it; we will tell you when it is available."
			c.do("POST", fmt.Sprintf("/api/v1/notices/%d", n.ID), map[string]any{"elements": map[string]string{"d": fixText}, "reason": "fix planned"}, 200, &n)
			if len(n.Missing) != 0 {
				t.Fatalf("edited notice misses %v", n.Missing)
			}
			var preview vigil.NoticePreview
			c.do("GET", fmt.Sprintf("/api/v1/notices/%d/preview", n.ID), nil, 200, &preview)
			if len(preview.Recipients) != 3 || !strings.Contains(preview.Text, fixText) || !strings.Contains(preview.HTML, "<h2>The fix</h2>") {
				t.Errorf("preview: %+v", preview)
			}
			c.do("POST", fmt.Sprintf("/api/v1/notices/%d/send", n.ID), map[string]any{"signature": patSig}, 200, &n)
			if n.State != vigil.NoticeSent || len(n.Deliveries) != 3 || n.Deliveries[0].State != "queued" {
				t.Fatalf("sent notice: %+v", n)
			}
			c.do("POST", fmt.Sprintf("/api/v1/notices/%d/send", n.ID), map[string]any{}, 409, nil) // once
			if sent, err := a.Outbox.DeliverDue(system); err != nil || sent != 3 {
				t.Fatalf("delivered %d, %v; want 3", sent, err)
			}
			first := map[string]string{} // recipient → the Message-ID of the first notice's message
			var to []string
			for _, m := range mp.Messages(t) {
				to = append(to, m.To[0].Address)
				first[m.To[0].Address] = strings.Trim(m.MessageID, "<>")
				if m.Subject != preview.Subject || !strings.Contains(m.Text, fixText) || !strings.Contains(m.HTML, "<h2>What you can do now: compensating controls</h2>") ||
					m.Headers["X-Vigil-About"][0] != fmt.Sprintf("notice:%d", n.ID) || m.MessageID == "" || len(m.Headers["In-Reply-To"]) != 0 {
					t.Errorf("arrived: %+v", m)
				}
			}
			sort.Strings(to)
			if strings.Join(to, " ") != "biomed@general.example ciso@general.example it@clinic.example" {
				t.Errorf("arrived to %v", to)
			}
			c.do("GET", fmt.Sprintf("/api/v1/notices/%d", n.ID), nil, 200, &n)
			for _, dl := range n.Deliveries {
				if dl.State != "accepted" || len(dl.Log) != 1 || dl.Log[0].Outcome != "accepted" {
					t.Errorf("delivery log: %+v", n.Deliveries)
				}
			}
			if got := criteria(); len(got) != 4 || got[1] != "met" || got[2] == "met" {
				t.Fatalf("criteria after the notice = %v, want 2 met and 3 not yet", got)
			}

			// The fix: validated, then distributed; criterion 3 follows.
			var rem struct {
				Fixes []struct {
					ID int64 `json:"id"`
				} `json:"fixes"`
			}
			c.do("POST", caseURL+"/remediation", map[string]any{"action": "fix", "fix": map[string]any{"release": "3.2.2", "description": "wolfSSL 5.5.0"}}, 200, &rem)
			fixID := rem.Fixes[0].ID
			c.do("POST", caseURL+"/remediation", map[string]any{"action": "vv", "fix_id": fixID, "vv": map[string]any{"protocol": "VVP-31", "report": "VVR-31", "result": "passed",
				"approver": "J. Quality", "validated": today}}, 200, nil)
			c.do("POST", caseURL+"/remediation", map[string]any{"action": "distribute", "fix_id": fixID, "distribution": map[string]any{"date": today, "channel": "remote update"}}, 200, nil)
			if got := criteria(); got[1] != "met" || got[2] != "met" {
				t.Fatalf("criteria after the validated fix = %v, want 2 and 3 met", got)
			}

			// The follow-up (the fix is available) lands under the first notice in each mailbox.
			mp.Reset(t)
			var follow noticeOut
			c.do("POST", "/api/v1/notices", map[string]any{"follow_up_of": n.ID}, 201, &follow)
			c.do("POST", fmt.Sprintf("/api/v1/notices/%d", follow.ID), map[string]any{"elements": map[string]string{"d": "Release 3.2.2 is available: install it through the remote update."}, "reason": "fix out"}, 200, nil)
			c.do("POST", fmt.Sprintf("/api/v1/notices/%d/send", follow.ID), map[string]any{}, 200, nil)
			if sent, err := a.Outbox.DeliverDue(system); err != nil || sent != 3 {
				t.Fatalf("follow-up delivered %d, %v; want 3", sent, err)
			}
			for _, m := range mp.Messages(t) {
				id := "<" + first[m.To[0].Address] + ">"
				if first[m.To[0].Address] == "" || strings.Join(m.Headers["In-Reply-To"], " ") != id || strings.Join(m.Headers["References"], " ") != id ||
					!strings.Contains(m.Text, fmt.Sprintf("This notice updates our notice N-%d", n.ID)) {
					t.Errorf("follow-up to %s: In-Reply-To %q, References %q, want %s", m.To[0].Address, m.Headers["In-Reply-To"], m.Headers["References"], id)
				}
			}

			// Advisories: the notice's, public, interim then final; the case's, AMBER.
			var white, amber vigil.SecurityAdvisory
			c.do("POST", "/api/v1/advisories", map[string]any{"notice_id": n.ID}, 201, &white)
			c.do("POST", fmt.Sprintf("/api/v1/advisories/%d/publish", white.ID), map[string]any{"status": "interim"}, 200, nil)
			c.do("POST", fmt.Sprintf("/api/v1/advisories/%d/publish", white.ID), map[string]any{"status": "final", "summary": "Fix release 3.2.2 distributed"}, 200, &white)
			if white.Status != vigil.AdvisoryFinal || len(white.Revisions) != 2 {
				t.Errorf("published advisory: %+v", white)
			}
			c.do("POST", "/api/v1/advisories", map[string]any{"cases": []int64{f.CaseID}, "tlp": "amber"}, 201, &amber)
			draftDoc := c.do("GET", fmt.Sprintf("/api/v1/advisories/%d/document", amber.ID), nil, 200, nil)
			c.do("POST", fmt.Sprintf("/api/v1/advisories/%d/publish", amber.ID), map[string]any{"status": "final"}, 200, nil)
			dir := t.TempDir()
			write := func(name string, doc []byte) {
				p := filepath.Join(docs, engine+"-"+name)
				must(os.WriteFile(p, doc, 0o644))
				files = append(files, p)
			}
			for i, id := range []int64{white.ID, amber.ID, 0} {
				doc := draftDoc
				if id != 0 {
					doc = c.do("GET", fmt.Sprintf("/api/v1/advisories/%d/document", id), nil, 200, nil)
				}
				rep, err := csafin.Validate(doc)
				if err != nil || !rep.Valid() {
					t.Fatalf("document %d: %+v %v", i, rep, err)
				}
				write([]string{"white", "amber", "draft"}[i]+".json", doc)
			}
			var doc struct {
				Document struct {
					Notes []struct {
						Category, Title, Text string
					}
				}
				Vulnerabilities []struct {
					Acknowledgments []struct {
						Names []string `json:"names"`
					} `json:"acknowledgments"`
					ProductStatus map[string][]string `json:"product_status"`
					Remediations  []struct {
						Category string `json:"category"`
						Details  string `json:"details"`
					} `json:"remediations"`
				} `json:"vulnerabilities"`
			}
			whiteDoc := c.do("GET", fmt.Sprintf("/api/v1/advisories/%d/document", white.ID), nil, 200, nil)
			must(json.Unmarshal(whiteDoc, &doc))
			var compact bytes.Buffer
			must(json.Compact(&compact, whiteDoc))
			if !strings.Contains(compact.String(), `"purl":"pkg:generic/acme-medical/infusion-pump-ip-3@3.2.1"`) { // the VEX documents' product purl
				t.Errorf("the advisory's product tree does not name 3.2.1 by its purl: %s", whiteDoc)
			}
			// The manifests of the determination and of the notice's release, in a general note (the reference
			// validator judges the document below).
			var signed string
			for _, note := range doc.Document.Notes {
				if note.Category == "general" && note.Title == "Electronic signatures (21 CFR Part 11)" {
					signed = note.Text
				}
			}
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`(?m)^Determination of CVE-2022-25640 on Infusion Pump IP-3 \(A\d+, [0-9-]+\): Electronically signed by Pat Q\. Psirt \(pat\) on [0-9-]+ [0-9:]+ UTC \(\+00:00\) for approval; signs assessment \d+ in state sha256:[0-9a-f]{16}$`),
				regexp.MustCompile(fmt.Sprintf(`(?m)^Release of customer notice N-%d for CVE-2022-25640 on Infusion Pump IP-3: Electronically signed by Pat Q\. Psirt \(pat\) on .* for approval; signs notice_release \d+ in state sha256:[0-9a-f]{16}$`, n.ID)),
			} {
				if !want.MatchString(signed) {
					t.Errorf("the advisory's signature note lacks %s:\n%s", want, signed)
				}
			}
			if vs := doc.Vulnerabilities; len(vs) != 1 || len(vs[0].Acknowledgments) != 1 || strings.Join(vs[0].Acknowledgments[0].Names, "") != "Rae Researcher (Example Lab)" ||
				len(vs[0].ProductStatus["known_affected"]) != 1 || vs[0].Remediations[0].Category != "vendor_fix" || !strings.HasPrefix(vs[0].Remediations[0].Details, "Update to 3.2.2") {
				t.Errorf("the advisory's vulnerability: %+v", doc.Vulnerabilities)
			}

			// Each version's VEX says what the case says: 3.2.1 affected (update to 3.2.2, controls meanwhile), 3.2.2
			// fixed; in every format, the CSAF one through the reference validator too.
			for _, tt := range []struct {
				version *vigil.DeviceVersion
				status  vigil.VEXStatus
			}{{v, vigil.VEXAffected}, {fixVersion, vigil.VEXFixed}} {
				var dv vigil.DeviceVEX
				c.do("GET", fmt.Sprintf("/api/v1/versions/%d/vex", tt.version.ID), nil, 200, &dv)
				if len(dv.Statements) != 1 || dv.Statements[0].Status != tt.status || dv.Statements[0].CaseID != f.CaseID {
					t.Errorf("%s VEX: %+v, want %s", tt.version.Version, dv.Statements, tt.status)
				}
				var ov struct {
					Statements []struct {
						Status string `json:"status"`
						Action string `json:"action_statement"`
					} `json:"statements"`
				}
				c.do("GET", fmt.Sprintf("/api/v1/versions/%d/vex?format=openvex", tt.version.ID), nil, 200, &ov)
				if len(ov.Statements) != 1 || ov.Statements[0].Status != string(tt.status) || tt.status == vigil.VEXAffected && !strings.HasPrefix(ov.Statements[0].Action, "Update to 3.2.2") {
					t.Errorf("%s OpenVEX: %+v", tt.version.Version, ov.Statements)
				}
				var cdx struct {
					Vulnerabilities []struct {
						Analysis struct {
							State string `json:"state"`
						} `json:"analysis"`
					} `json:"vulnerabilities"`
				}
				c.do("GET", fmt.Sprintf("/api/v1/versions/%d/vex?format=cyclonedx", tt.version.ID), nil, 200, &cdx)
				if want := map[vigil.VEXStatus]string{vigil.VEXAffected: "exploitable", vigil.VEXFixed: "resolved"}[tt.status]; len(cdx.Vulnerabilities) != 1 || cdx.Vulnerabilities[0].Analysis.State != want {
					t.Errorf("%s CycloneDX VEX: %+v, want %s", tt.version.Version, cdx.Vulnerabilities, want)
				}
				csafVEX := c.do("GET", fmt.Sprintf("/api/v1/versions/%d/vex?format=csaf", tt.version.ID), nil, 200, nil)
				write("vex-"+tt.version.Version+".json", csafVEX)
				// Every format carries the manifest of the determination the status rests on.
				manifest := regexp.MustCompile(`Determination A\d+ of [0-9-]+: Electronically signed by Pat Q\. Psirt \(pat\) on [0-9-]+ [0-9:]+ UTC \(\+00:00\) for approval; signs assessment \d+`)
				for format, doc := range map[string][]byte{"json": c.do("GET", fmt.Sprintf("/api/v1/versions/%d/vex", tt.version.ID), nil, 200, nil),
					"openvex":   c.do("GET", fmt.Sprintf("/api/v1/versions/%d/vex?format=openvex", tt.version.ID), nil, 200, nil),
					"cyclonedx": c.do("GET", fmt.Sprintf("/api/v1/versions/%d/vex?format=cyclonedx", tt.version.ID), nil, 200, nil), "csaf": csafVEX} {
					if !manifest.Match(doc) {
						t.Errorf("%s VEX (%s) lacks the determination's signature:\n%s", tt.version.Version, format, doc)
					}
				}
			}

			// The provider: public TLP:WHITE, AMBER only signed in; then csaf_checker over TLS.
			for path, want := range map[string]int{
				"/.well-known/csaf/provider-metadata.json": 200, "/.well-known/csaf/white/index.txt": 200,
				"/.well-known/csaf/white/" + white.Revisions[0].Date.Format("2006") + "/" + strings.ToLower(white.TrackingID) + ".json": 200, "/.well-known/csaf/amber/index.txt": 401,
			} {
				res, err := c.client.Get(srv.URL + path)
				must(err)
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != want {
					t.Errorf("GET %s = %d, want %d: %s", path, res.StatusCode, want, body)
				}
			}
			checkSigned(t, c.client, srv.URL, "/.well-known/csaf/white/"+white.Revisions[0].Date.Format("2006")+"/"+strings.ToLower(white.TrackingID)+".json")
			host := strings.TrimPrefix(srv.URL, "https://")
			report := filepath.Join(dir, "checker.json")
			out, err := exec.Command(checker, "--insecure", "-o", report, "-f", "json", host).CombinedOutput()
			if err != nil {
				t.Logf("csaf_checker: %v\n%s", err, out)
			}
			b, err := os.ReadFile(report)
			must(err)
			var chk struct {
				Domains []struct {
					Requirements []struct {
						Num      int    `json:"num"`
						Desc     string `json:"description"`
						Messages []struct {
							Type int    `json:"type"`
							Text string `json:"text"`
						} `json:"messages"`
					} `json:"requirements"`
				} `json:"domains"`
			}
			must(json.Unmarshal(b, &chk))
			if testing.Verbose() {
				t.Logf("csaf_checker report: %s", b)
			}
			if len(chk.Domains) != 1 {
				t.Fatalf("checker report: %s", b)
			}
			// What a provider on a test host cannot pass: 10, the DNS path (csaf.data.security.<domain> does not
			// resolve for 127.0.0.1; requirements 8, 9 and 10 are alternatives, and 8 and 9 pass). The signatures
			// (15, 19) and the public key (20) pass with the OpenPGP key configured.
			for _, r := range chk.Domains[0].Requirements {
				for _, m := range r.Messages {
					if m.Type >= 2 && r.Num != 10 {
						t.Errorf("csaf_checker requirement %d (%s): %s", r.Num, r.Desc, m.Text)
					}
				}
			}
		})
	}
	if want := 5 * len(storetest.Engines); !t.Failed() && len(files) != want {
		t.Fatalf("%d CSAF documents to validate, want %d (3 advisories and 2 VEX per engine)", len(files), want)
	}
	for _, r := range testfix.CSAFReferenceValidate(t, files...) {
		if !r.IsValid {
			t.Errorf("%s fails csaf-validator-lib: %+v", r.File, r.Errors)
		}
	}
}

// checkSigned verifies what the one OpenPGP key signs, with the public key as provider-metadata.json publishes
// it: the detached signature (.asc) of the CSAF document at doc, and security.txt, cleartext-signed (RFC 9116
// §2.3), whose fields it then checks: the required Contact (one or more) and Expires (once, in the future, under
// a year away), Canonical, Policy, Preferred-Languages and CSAF as the policy sets them, and Encryption naming the
// published key.
func checkSigned(t *testing.T, client *http.Client, base, doc string) {
	t.Helper()
	get := func(path string) []byte {
		t.Helper()
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s = %d: %s", path, res.StatusCode, b)
		}
		return b
	}
	var pm struct {
		Keys []struct{ Fingerprint, URL string } `json:"public_openpgp_keys"`
	}
	if err := json.Unmarshal(get("/.well-known/csaf/provider-metadata.json"), &pm); err != nil || len(pm.Keys) != 1 || !strings.HasPrefix(pm.Keys[0].URL, base+"/.well-known/csaf/") {
		t.Fatalf("public_openpgp_keys: %+v %v", pm.Keys, err)
	}
	ring, err := openpgp.ReadArmoredKeyRing(strings.NewReader(string(get(strings.TrimPrefix(pm.Keys[0].URL, base)))))
	if err != nil || len(ring) != 1 || fmt.Sprintf("%X", ring[0].PrimaryKey.Fingerprint) != pm.Keys[0].Fingerprint {
		t.Fatalf("the published key: %v (fingerprint %s)", err, pm.Keys[0].Fingerprint)
	}
	if _, err := openpgp.CheckArmoredDetachedSignature(ring, strings.NewReader(string(get(doc))), strings.NewReader(string(get(doc+".asc"))), nil); err != nil {
		t.Errorf("%s.asc does not verify: %v", doc, err)
	}
	signed := get("/.well-known/security.txt")
	b, _ := clearsign.Decode(signed)
	if b == nil {
		t.Fatalf("security.txt is not cleartext-signed:\n%s", signed)
	}
	if _, err := b.VerifySignature(ring, nil); err != nil {
		t.Errorf("security.txt's signature does not verify: %v", err)
	}
	fields := map[string][]string{}
	for _, line := range strings.Split(string(b.Plaintext), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			t.Errorf("security.txt line %q is not a field", line)
		}
		fields[name] = append(fields[name], value)
	}
	if len(fields["Contact"]) == 0 || len(fields["Expires"]) != 1 {
		t.Fatalf("security.txt lacks a required field (Contact, Expires once): %v", fields)
	}
	exp, err := time.Parse(time.RFC3339, fields["Expires"][0])
	if err != nil || !exp.After(time.Now()) || exp.After(time.Now().AddDate(1, 0, 0)) {
		t.Errorf("Expires %q: %v", fields["Expires"][0], err)
	}
	for name, want := range map[string]string{"Canonical": base + "/.well-known/security.txt", "Policy": base + "/security/policy", "Preferred-Languages": "en",
		"CSAF": base + "/.well-known/csaf/provider-metadata.json", "Encryption": pm.Keys[0].URL} {
		if got := fields[name]; len(got) != 1 || got[0] != want {
			t.Errorf("security.txt %s = %v, want %s", name, got, want)
		}
	}
	if !slices.Contains(fields["Contact"], "mailto:psirt@acme.example") || !slices.Contains(fields["Contact"], base+"/report") {
		t.Errorf("security.txt Contact = %v", fields["Contact"])
	}
}
