package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestCaseSign signs a case's determination from the command line as a regulatory user would: the password is
// asked again, a wrong one or a missing printed name refuses the signature, the manifestation (printed name,
// date and time with zone, meaning) is shown with the assessment on `case show`, the signing is in the audit
// trail, and verify passes with the signature reconciled.
func TestCaseSign(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			const pw = "correct horse battery staple"
			r.ok("org", "create", "--name", "Acme", "--time-zone", "America/Chicago")
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--functions", "dose delivery=catastrophic")
			r.ok("version", "create", "2.0", "--device", "Pump", "--units", "30")
			d0 := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
			r.ok("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", "2.0", "--learned", d0, "--reason", "researcher report")
			if code, _, errs := r.run(pw+"\n", "case", "sign", "1", "--meaning", "approval", "--user", "rita"); code != 2 || !strings.Contains(errs, "no assessment") {
				t.Fatalf("sign before an assessment: exit %d, %q", code, errs)
			}
			r.ok("signing-policy", "off", "determination", "--reason", "this test signs the determination after the fact")
			r.ok("case", "assess", "1", "--date", d0, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery", "--rationale", "remote dose change")
			if code, _, errs := r.run(pw+"\n", "user", "add", "rita", "--role", "regulatory"); code != 0 {
				t.Fatalf("user add: %d %s", code, errs)
			}
			if code, _, errs := r.run(pw+"\n", "user", "add", "val", "--role", "viewer", "--full-name", "Val Viewer"); code != 0 {
				t.Fatalf("user add: %d %s", code, errs)
			}
			for _, tc := range []struct {
				stdin string
				args  []string
				code  int
				want  string
			}{
				{pw + "\n", []string{"case", "sign", "1", "--user", "rita"}, 2, "--meaning and --user"},
				{pw + "\n", []string{"case", "sign", "1", "--meaning", "witnessed", "--user", "rita"}, 2, "meaning"},
				{"", []string{"case", "sign", "1", "--meaning", "approval", "--user", "rita"}, 2, "password"},
				{pw + "\n", []string{"case", "sign", "1", "--meaning", "approval", "--user", "rita"}, 2, "no printed name"},
				{"wrong password\n", []string{"case", "sign", "1", "--meaning", "approval", "--user", "rita"}, 1, "wrong user name or password"},
				{pw + "\n", []string{"case", "sign", "1", "--meaning", "approval", "--user", "val"}, 1, "may not"},
				{pw + "\n", []string{"sign", "device", "1", "--meaning", "approval", "--user", "rita"}, 2, "cannot be signed"},
			} {
				code, out, errs := r.run(tc.stdin, tc.args...)
				if code != tc.code || !strings.Contains(out+errs, tc.want) {
					t.Errorf("vigil %v: exit %d, %q %q; want exit %d naming %q", tc.args, code, out, errs, tc.code, tc.want)
				}
			}
			r.ok("user", "full-name", "rita", "Rita Q. Regulatory")
			code, out, errs := r.run(pw+"\n", "case", "sign", "1", "--meaning", "approval", "--user", "rita")
			if code != 0 || !strings.Contains(out, "Electronically signed by Rita Q. Regulatory (rita) on ") || !strings.Contains(out, " for approval; signs assessment 1") ||
				!(strings.Contains(out, " CST (-06:00)") || strings.Contains(out, " CDT (-05:00)")) {
				t.Fatalf("case sign: exit %d\n%s%s", code, out, errs)
			}
			if code, _, errs := r.run(pw+"\n", "case", "sign", "1", "--meaning", "approval", "--user", "rita"); code != 1 || !strings.Contains(errs, "already signed") {
				t.Fatalf("signing the same state twice: exit %d, %q", code, errs)
			}
			if show := r.ok("case", "show", "1"); !strings.Contains(show, "Electronically signed by Rita Q. Regulatory (rita)") {
				t.Fatalf("case show lacks the manifestation:\n%s", show)
			}
			var sigs []struct {
				Signer, Meaning, Method string
				Broken                  bool
			}
			json.Unmarshal([]byte(r.ok("--format", "json", "signatures", "assessment", "1")), &sigs)
			if len(sigs) != 1 || sigs[0].Signer != "rita" || sigs[0].Meaning != "approval" || sigs[0].Method != "password" || sigs[0].Broken {
				t.Fatalf("signatures = %+v", sigs)
			}
			if log := r.ok("audit", "log", "--action", "signature."); !strings.Contains(log, "user:rita") || !strings.Contains(log, "signature.sign") {
				t.Fatalf("audit log of the signing:\n%s", log)
			}
			if out := r.ok("audit", "verify"); !strings.HasPrefix(out, "ok: ") {
				t.Fatalf("verify: %s", out)
			}
		})
	}
}
