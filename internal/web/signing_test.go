package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestActSignaturesWeb: with the organization's signature requirements on (the fixture switches them off for the
// screens' other tests), the case page's state form refuses to close a case unsigned or with a wrong password and
// changes nothing, and closes it signed, the timeline showing the closure with its manifestation; the API refuses
// an unsigned assessment naming the signature and records a signed one with its signature; a typed event that is a
// signed act (the case page's event form, the API) is refused unsigned or with a wrong password and signed on the
// timeline; only an admin switches a requirement off, with a reason, through the settings page, and the API lists it.
func TestActSignaturesWeb(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			for _, act := range vigil.SignedActs {
				if _, err := e.app.Signing.SetRequirement(sys(), act, true, "this test is about the signatures"); err != nil {
					t.Fatal(err)
				}
			}
			psirt := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
			casePath := fmt.Sprintf("/cases/%d", e.springCase)
			state := func() vigil.CaseState {
				v, err := e.app.Cases.CaseView(sys(), e.springCase, vigil.Date{})
				if err != nil {
					t.Fatal(err)
				}
				return v.Case.State
			}
			close := url.Values{"csrf": {psirt.csrf}, "state": {"closed"}, "reason": {"Not shipped in any fielded unit."}, "meaning": {"approval"}, "signer": {vigil.RolePSIRT}}
			for _, tc := range []struct{ password, want string }{
				{"", "closing a case needs a Part 11 signature"},
				{"wrong password 123", "wrong user name or password"},
			} {
				close.Set("password", tc.password)
				res, body := psirt.postForm(casePath+"/state", close)
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
					t.Errorf("closing with password %q: %d %s", tc.password, res.StatusCode, clip(body))
				}
				if s := state(); s != vigil.CaseOpen {
					t.Errorf("a refused closure left the case %s", s)
				}
			}
			close.Set("password", password(vigil.RolePSIRT))
			if res, body := psirt.postForm(casePath+"/state", close); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("signed closure: %d %s", res.StatusCode, clip(body))
			}
			if s := state(); s != vigil.CaseClosed {
				t.Errorf("after the signed closure the case is %s", s)
			}
			if _, csv := psirt.get(casePath + "?format=csv"); !strings.Contains(csv, ",signatures\r\n") && !strings.Contains(csv, ",signatures\n") || !strings.Contains(csv, "Electronically signed by Pat psirt Fixture (psirt)") {
				t.Errorf("the timeline's CSV export lacks the closure's signature:\n%s", csv)
			}
			_, body := psirt.get(casePath)
			if !strings.Contains(body, "Case closed (signed act)") || !strings.Contains(body, "Electronically signed by Pat psirt Fixture (psirt)") || !strings.Contains(body, "signs case_closure") {
				t.Errorf("the timeline lacks the signed closure: %s", clip(body[strings.Index(body, `id="timeline"`):]))
			}

			path := fmt.Sprintf("/api/v1/cases/%d/assessments", e.log4jCase)
			in := map[string]any{"cvss": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "functions": []string{"dose delivery"}, "rationale": "Reassessed."}
			res, body := psirt.api("POST", path, in)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "signature: required: recording a determination (assessment)") {
				t.Errorf("unsigned assessment: %d %s", res.StatusCode, body)
			}
			in["signature"] = map[string]any{"meaning": "authorship", "signer": vigil.RolePSIRT, "password": password(vigil.RolePSIRT)}
			res, body = psirt.api("POST", path, in)
			var a vigil.Assessment
			if err := json.Unmarshal([]byte(body), &a); err != nil || res.StatusCode != http.StatusCreated {
				t.Fatalf("signed assessment: %d %s", res.StatusCode, body)
			}
			res, body = psirt.api("GET", fmt.Sprintf("/api/v1/signatures?kind=assessment&id=%d", a.ID), nil)
			if res.StatusCode != 200 || !strings.Contains(body, `"meaning": "authorship"`) && !strings.Contains(body, `"meaning":"authorship"`) {
				t.Errorf("the assessment's signature: %d %s", res.StatusCode, body)
			}

			// A typed event that is a signed act: the case page's event form and the API gate it like the act.
			logPath := fmt.Sprintf("/cases/%d", e.log4jCase)
			events := func() int {
				v, err := e.app.Cases.CaseView(sys(), e.log4jCase, vigil.Date{})
				if err != nil {
					t.Fatal(err)
				}
				return len(v.Events)
			}
			had := events()
			ev := url.Values{"csrf": {psirt.csrf}, "type": {"customer_notified"}, "date": {"2025-06-02"}, "note": {"Customer notice CN-2025-77"},
				"element": {"a", "b", "c", "d"}, "meaning": {"approval"}, "signer": {vigil.RolePSIRT}}
			for _, tc := range []struct{ password, want string }{
				{"", "signature: required: a customer_notified event records releasing a customer notice, which needs a Part 11 signature"},
				{"wrong password 123", "wrong user name or password"},
			} {
				ev.Set("password", tc.password)
				res, body := psirt.postForm(logPath+"/events", ev)
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
					t.Errorf("typed customer_notified with password %q: %d %s", tc.password, res.StatusCode, clip(body))
				}
				if n := events(); n != had {
					t.Errorf("a refused event was recorded (%d events, had %d)", n, had)
				}
			}
			ev.Set("password", password(vigil.RolePSIRT))
			if res, body := psirt.postForm(logPath+"/events", ev); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("signed customer_notified: %d %s", res.StatusCode, clip(body))
			}
			if _, body := psirt.get(logPath); !strings.Contains(body, "Customer notice CN-2025-77") || !strings.Contains(body, "Electronically signed by Pat psirt Fixture (psirt)") || !strings.Contains(body, "signs case_event") {
				t.Errorf("the timeline lacks the signed event: %s", clip(body[strings.Index(body, `id="timeline"`):]))
			}
			evPath := fmt.Sprintf("/api/v1/cases/%d/events", e.log4jCase)
			fix := map[string]any{"type": "fix_distributed", "date": "2025-06-02", "validated": true, "remediation": "patch", "note": "Release 3.2.2, V&V VVR-9"}
			res, body = psirt.api("POST", evPath, fix)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "signature: required: a fix_distributed event records recording a fix's V&V") {
				t.Errorf("unsigned validated fix_distributed: %d %s", res.StatusCode, body)
			}
			fix["signature"] = map[string]any{"meaning": "approval", "signer": vigil.RolePSIRT, "password": "wrong password 123"}
			if res, body = psirt.api("POST", evPath, fix); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "wrong user name or password") {
				t.Errorf("validated fix_distributed with a wrong password: %d %s", res.StatusCode, body)
			}
			fix["signature"] = map[string]any{"meaning": "approval", "signer": vigil.RolePSIRT, "password": password(vigil.RolePSIRT)}
			res, body = psirt.api("POST", evPath, fix)
			var fe vigil.CaseEvent
			if err := json.Unmarshal([]byte(body), &fe); err != nil || res.StatusCode != http.StatusCreated {
				t.Fatalf("signed validated fix_distributed: %d %s", res.StatusCode, body)
			}
			var sigs []vigil.Signature
			res, body = psirt.api("GET", fmt.Sprintf("/api/v1/signatures?kind=case_event&id=%d", fe.ID), nil)
			if err := json.Unmarshal([]byte(body), &sigs); err != nil || len(sigs) != 1 || sigs[0].Signer != vigil.RolePSIRT || sigs[0].Broken {
				t.Errorf("the event's signature: %d %s", res.StatusCode, body)
			}

			admin := e.login(vigil.RoleAdmin, password(vigil.RoleAdmin))
			off := url.Values{"act": {"premarket"}, "required": {"false"}, "reason": {"SOP-RA-4: signed on paper in the DHF"}}
			off.Set("csrf", psirt.csrf)
			if res, _ := psirt.postForm("/settings/signing", off); res.StatusCode != http.StatusForbidden {
				t.Errorf("a PSIRT member switches a requirement off: %d", res.StatusCode)
			}
			off.Set("csrf", admin.csrf)
			off.Set("reason", "")
			if res, body := admin.postForm("/settings/signing", off); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "reason: required") {
				t.Errorf("switched off without a reason: %d %s", res.StatusCode, clip(body))
			}
			off.Set("reason", "SOP-RA-4: signed on paper in the DHF")
			if res, body := admin.postForm("/settings/signing", off); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("switch off: %d %s", res.StatusCode, clip(body))
			}
			if _, body := admin.get("/settings"); !strings.Contains(body, `id="signing-premarket"`) || !strings.Contains(body, "SOP-RA-4: signed on paper in the DHF") {
				t.Errorf("the settings page lacks the switched-off requirement")
			}
			var rs []vigil.SignatureRequirement
			res, body = psirt.api("GET", "/api/v1/signing-policy", nil)
			if err := json.Unmarshal([]byte(body), &rs); err != nil || len(rs) != len(vigil.SignedActs) {
				t.Fatalf("signing policy: %d %s", res.StatusCode, body)
			}
			for _, r := range rs {
				if r.Required != (r.Act != vigil.ActPremarket) || r.Act == vigil.ActPremarket && r.SetBy != "user:admin" {
					t.Errorf("requirement %+v", r)
				}
			}
		})
	}
}

// TestStepUpWithoutSSO walks every role through POST /sign/step-up on a server without single sign-on: a role that
// may sign is told to sign with its password (404, nothing to step up to), a role that may not is refused (403),
// and neither is sent anywhere or given a step-up cookie. (With the in-test provider, TestSSOStepUpSigning and
// TestStepUpRoles in internal/cli walk the roles that succeed.)
func TestStepUpWithoutSSO(t *testing.T) {
	e := newEnv(t, storetest.Engines[0])
	for _, role := range vigil.Roles {
		t.Run(role, func(t *testing.T) {
			c := e.login(role, password(role))
			res, body := c.postForm("/sign/step-up", url.Values{"csrf": {c.csrf}, "stepup_kind": {"assessment"}, "stepup_next": {"/cases/1#sign"}})
			want, text := http.StatusNotFound, "signing through the provider needs single sign-on: sign with your password"
			if !(vigil.Actor{Role: role}).Can(vigil.PermSign) {
				want, text = http.StatusForbidden, "forbidden"
			}
			if res.StatusCode != want || !strings.Contains(strings.ToLower(body), strings.ToLower(text)) {
				t.Errorf("%s: POST /sign/step-up without SSO: %d, want %d naming %q: %s", role, res.StatusCode, want, text, clip(body))
			}
			if loc := res.Header.Get("Location"); loc != "" {
				t.Errorf("%s: sent to %s", role, loc)
			}
			for _, ck := range res.Cookies() {
				if ck.Name == "vigil_stepup" {
					t.Errorf("%s: given a step-up cookie", role)
				}
			}
		})
	}
}
