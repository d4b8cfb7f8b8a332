package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/cli"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type runner struct {
	t  *testing.T
	db string
}

func (r runner) run(stdin string, args ...string) (int, string, string) {
	r.t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), append([]string{"--db", r.db}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// unsigned switches every signature requirement off, for a test whose acts are not about signing (the signing of
// each act is tested in TestActSignaturesCLI, and end to end in TestCaseFlow).
func (r runner) unsigned() {
	r.t.Helper()
	r.ok("signing-policy", "off", "all", "--reason", "command-line test not about Part 11 signatures")
}

// signed runs an act signed by user with password pw (--meaning approval --user, the password on stdin), and
// fails the test unless it succeeds.
func (r runner) signed(user, pw string, args ...string) string {
	r.t.Helper()
	code, out, errs := r.run(pw+"\n", append(args, "--meaning", "approval", "--user", user)...)
	if code != 0 {
		r.t.Fatalf("vigil %s (signed by %s): exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), user, code, out, errs)
	}
	return out
}

func (r runner) ok(args ...string) string {
	r.t.Helper()
	code, out, errs := r.run("", args...)
	if code != 0 {
		r.t.Fatalf("vigil %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// TestCaseFlow takes a case (opened by a finding created by hand) from new through assessment, notice, fix and
// closure on the command line, with every step in the audit trail, on both engines.
func TestCaseFlow(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			dir := t.TempDir()
			isaos := filepath.Join(dir, "isaos.json")
			os.WriteFile(isaos, []byte(`[{"name":"Health-ISAC","since":"2020-01-01","documents":[{"item":1,"kind":"note","text":"agreement"},{"item":2,"kind":"note","text":"policies"},{"item":3,"kind":"note","text":"shares"},{"item":4,"kind":"note","text":"sop"}]}]`), 0o600)
			r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC", "--isaos", isaos)
			r.ok("device", "create", "--name", "Pump", "--class", "III", "--pathway", "PMA", "--functions", "dose delivery=catastrophic,event log=negligible")
			r.ok("version", "create", "2.0", "--device", "Pump", "--units", "300")

			today := time.Now().UTC()
			d0 := today.AddDate(0, 0, -20).Format(time.DateOnly)
			day := func(n int) string { return today.AddDate(0, 0, -20+n).Format(time.DateOnly) }
			r.ok("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", "2.0", "--learned", d0, "--reason", "researcher report")
			const pw = "correct horse battery staple"
			if code, _, errs := r.run(pw+"\n", "user", "add", "pat", "--role", "psirt", "--full-name", "Pat Q. Psirt"); code != 0 {
				t.Fatalf("user add: %s", errs)
			}

			// Invalid assessment inputs are refused with exit 2 and name the field.
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"case", "assess", "1", "--functions", "dose delivery"}, "rationale"},
				{[]string{"case", "assess", "1", "--functions", "teleport", "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--rationale", "x"}, "functions[0]"},
				{[]string{"case", "assess", "1", "--cvss", "CVSS:3.0/AV:X", "--functions", "dose delivery", "--rationale", "x"}, "cvss"},
				{[]string{"case", "event", "add", "1", "customer_notified", "--date", today.AddDate(0, 0, -30).Format(time.DateOnly), "--note", "n"}, "before"},
				{[]string{"case", "event", "add", "1", "teleported", "--date", day(1), "--note", "n"}, "type"},
			} {
				code, out, errs := r.run("", tc.args...)
				if code != 2 || !strings.Contains(out+errs, tc.want) {
					t.Errorf("vigil %v: exit %d, output %q %q; want exit 2 naming %q", tc.args, code, out, errs, tc.want)
				}
			}

			assess := []string{"case", "assess", "1", "--date", d0, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery",
				"--controls", "segmented network", "--rationale", "unauthenticated remote dose change"}
			// The determination needs the assessor's Part 11 signature: unsigned, or with a wrong password, nothing is written.
			if code, _, errs := r.run("", assess...); code != 2 || !strings.Contains(errs, "signature: required: recording a determination (assessment) needs a Part 11 signature") {
				t.Fatalf("unsigned assessment: exit %d, %q", code, errs)
			}
			if code, _, errs := r.run("wrong\n", append(assess, "--meaning", "authorship", "--user", "pat")...); code != 1 || !strings.Contains(errs, "wrong user name or password") {
				t.Fatalf("assessment with a wrong password: exit %d, %q", code, errs)
			}
			out := r.signed("pat", pw, assess...)
			if !strings.Contains(out, "A1 "+d0+": risk uncontrolled") {
				t.Fatalf("assess: %s", out)
			}
			show := func() map[string]any {
				var v map[string]any
				if err := json.Unmarshal([]byte(r.ok("--format", "json", "case", "show", "1")), &v); err != nil {
					t.Fatal(err)
				}
				return v["determination"].(map[string]any)
			}
			d := show()
			if d["risk"] != "uncontrolled" || d["change"] != "correction" || d["enforcement_discretion"].(map[string]any)["status"] != "pending" {
				t.Fatalf("after assessment: %v", d)
			}
			dl := d["deadlines"].(map[string]any)
			if dl["ed_communication"] != day(30) || dl["ed_fix"] != day(60) {
				t.Errorf("ED clocks = %v, want %s and %s", dl, day(30), day(60))
			}
			var deadlines []map[string]any
			json.Unmarshal([]byte(r.ok("--format", "json", "deadlines")), &deadlines)
			if len(deadlines) != 2 || deadlines[0]["clock"] != "ed_communication" {
				t.Fatalf("deadlines = %v", deadlines)
			}
			// A customer notified and a validated fix distributed are signed acts, typed or not: unsigned, or with a
			// wrong password, nothing is written; an event that is no signed act takes no signature.
			notified := []string{"case", "event", "add", "1", "customer_notified", "--date", day(10), "--note", "doc customer_notified", "--elements", "a,b,c,d"}
			if code, _, errs := r.run("", notified...); code != 2 || !strings.Contains(errs, "signature: required: a customer_notified event records releasing a customer notice") {
				t.Fatalf("unsigned customer_notified: exit %d, %q", code, errs)
			}
			if code, _, errs := r.run("wrong\n", append(notified, "--meaning", "approval", "--user", "pat")...); code != 1 || !strings.Contains(errs, "wrong user name or password") {
				t.Fatalf("customer_notified with a wrong password: exit %d, %q", code, errs)
			}
			if code, _, errs := r.run(pw+"\n", "case", "event", "add", "1", "interim_controls", "--date", day(10), "--note", "n", "--meaning", "approval", "--user", "pat"); code != 2 || !strings.Contains(errs, "not an act that is signed") {
				t.Fatalf("signed interim_controls: exit %d, %q", code, errs)
			}
			if out := r.signed("pat", pw, notified...); !regexp.MustCompile(`customer_notified \(doc customer_notified; entered [0-9-]+\)\n +Electronically signed by Pat Q\. Psirt \(pat\)`).MatchString(out) {
				t.Errorf("the signed customer_notified's manifestation is not shown under it: %s", out)
			}
			for _, ev := range [][]string{{"interim_controls"}, {"remediation_plan"}, {"isao_shared"}} {
				r.ok("case", "event", "add", "1", ev[0], "--date", day(10), "--note", "doc "+ev[0])
			}
			r.signed("pat", pw, "case", "event", "add", "1", "fix_distributed", "--date", day(10), "--note", "doc fix_distributed", "--validated", "--remediation", "patch")
			d = show()
			if s := d["enforcement_discretion"].(map[string]any)["status"]; s != "met" {
				t.Errorf("ED after all events = %v", s)
			}
			if p := d["part806"].(map[string]any)["status"]; p != "waived" {
				t.Errorf("806 after ED met = %v", p)
			}
			json.Unmarshal([]byte(r.ok("--format", "json", "deadlines")), &deadlines)
			if len(deadlines) != 0 {
				t.Errorf("deadlines after ED met = %v", deadlines)
			}
			if code, _, errs := r.run("", "case", "state", "1", "closed", "--reason", "fix 2.0.1 distributed to all consignees"); code != 2 || !strings.Contains(errs, "closing a case needs a Part 11 signature") {
				t.Fatalf("unsigned closure: exit %d, %q", code, errs)
			}
			r.signed("pat", pw, "case", "state", "1", "closed", "--reason", "fix 2.0.1 distributed to all consignees")
			if show := r.ok("case", "show", "1"); strings.Count(show, "Electronically signed by Pat Q. Psirt (pat)") != 4 || !strings.Contains(show, "case_closure ") {
				t.Errorf("case show lacks the signatures of the determination, the notice, the validated fix and the closure:\n%s", show)
			}
			log := r.ok("--format", "json", "audit", "log", "--object-type", "case", "--object-id", "1")
			for _, a := range []string{"case.open", "case.assess", "case.event", "case.state"} {
				if !strings.Contains(log, a) {
					t.Errorf("audit log lacks %s", a)
				}
			}
			if out := r.ok("audit", "verify"); !strings.HasPrefix(out, "ok:") {
				t.Errorf("verify: %s", out)
			}
		})
	}
}
