package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestVEXScreenAndAPI walks supplier VEX in the browser and through the API on both engines: the page lists the
// fixture's waiting proposal with accept and reject forms (none for a viewer); a real CycloneDX VEX uploaded through
// the form is read as VEX and reported; a decision without a reason is refused on the page and nothing changes; an
// accepted proposal shows who decided and why; the API lists, imports (the same file twice is a conflict) and
// decides, once.
func TestVEXScreenAndAPI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			psirt := e.login("psirt", password("psirt"))
			res, body := psirt.get("/vex")
			if res.StatusCode != 200 || !strings.Contains(body, "CVE-2021-44228") || !strings.Contains(body, "under_investigation") ||
				!strings.Contains(body, fmt.Sprintf(`action="/vex/proposals/%d"`, e.vexProposals[1])) || !strings.Contains(body, `id="vex-upload"`) {
				t.Fatalf("VEX page: %d\n%s", res.StatusCode, clip(body))
			}
			if _, body := e.login("viewer", password("viewer")).get("/vex"); strings.Contains(body, "/vex/proposals/") || strings.Contains(body, `id="vex-upload"`) {
				t.Error("a viewer is offered the upload or decision forms")
			}
			vexFile, err := os.ReadFile("../../../shared/testdata/cyclonedx-bom-examples/VEX/vex.json")
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			mw.WriteField("csrf", psirt.csrf)
			fw, _ := mw.CreateFormFile("file", "jackson.vex.json")
			fw.Write(vexFile)
			mw.Close()
			req, _ := http.NewRequest("POST", e.srv.URL+"/vex", &b)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			if res, body := psirt.do(req); res.StatusCode != 200 || !strings.Contains(body, "Imported jackson.vex.json") ||
				!strings.Contains(body, "cyclonedx VEX: 1 statement(s), 0 proposal(s), 1 matching no open finding") {
				t.Errorf("upload: %d\n%s", res.StatusCode, clip(body))
			}
			target := fmt.Sprintf("/vex/proposals/%d", e.vexProposals[1])
			if res, body := psirt.postForm(target, url.Values{"csrf": {psirt.csrf}, "decision": {"accept"}}); res.StatusCode != 400 || !strings.Contains(body, "reason: required") {
				t.Errorf("decision without reason: %d %s", res.StatusCode, clip(body))
			}
			res, _ = psirt.postForm(target, url.Values{"csrf": {psirt.csrf}, "decision": {"accept"}, "reason": {"Supplier is investigating; tracked in PSIRT-77"}})
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/vex?done=vex-accept") {
				t.Fatalf("accept: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			if _, body := psirt.get("/vex?state=accepted"); !strings.Contains(body, "Supplier is investigating; tracked in PSIRT-77") || !strings.Contains(body, "user:psirt") {
				t.Errorf("accepted list:\n%s", clip(body))
			}

			tok := e.token("psirt")
			res, body = bearer(t, e.srv.URL, tok, "GET", "/api/v1/vex/proposals?state=all", nil)
			var ps []vigil.VEXProposal
			if res.StatusCode != 200 || json.Unmarshal([]byte(body), &ps) != nil || len(ps) != 2 || ps[0].State != vigil.VEXAccepted || ps[1].State != vigil.VEXProposed {
				t.Errorf("API list: %d %s", res.StatusCode, clip(body))
			}
			if res, body := bearer(t, e.srv.URL, tok, "POST", "/api/v1"+target, map[string]any{"accept": false, "reason": "again"}); res.StatusCode != http.StatusConflict {
				t.Errorf("second decision: %d %s", res.StatusCode, clip(body))
			}
			up := func() *http.Response {
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/vex?name=log4j-2.openvex.json", strings.NewReader(vexDoc("second supplier")))
				req.Header.Set("Authorization", "Bearer "+tok)
				res, _ := e.anon().do(req)
				return res
			}
			if res := up(); res.StatusCode != http.StatusCreated {
				t.Errorf("API import: %d", res.StatusCode)
			}
			if res := up(); res.StatusCode != http.StatusConflict {
				t.Errorf("API import of the same file: %d", res.StatusCode)
			}
		})
	}
}
