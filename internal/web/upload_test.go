package web_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestUploadsLeaveNoTempFiles uploads files larger than the 8 MiB a multipart form keeps in memory, through every
// path that parses one (the browser form whose CSRF check parses it, the API with a token, a feed import that
// also writes its own vigil-upload-* folder, a form route that is no upload, and a file over the upload limit),
// and checks that $TMPDIR is empty afterwards. The forms were parsed on request copies, so net/http never removed
// their multipart-* files: each upload left its whole size behind.
func TestUploadsLeaveNoTempFiles(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			browser := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
			tok := e.token(vigil.RolePSIRT)
			pad := strings.Repeat(" ", 9<<20)
			kev, err := os.ReadFile(testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.json"))
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			for _, tt := range []struct {
				name, path   string
				fields       map[string]string
				file         string
				body         string
				cookie       bool
				wantStatuses []int
			}{
				{"browser SBOM form", fmt.Sprintf("/versions/%d/sbom", e.v1), map[string]string{"csrf": browser.csrf}, "bom.cdx.json", sbomDoc + pad, true, []int{200}},
				{"API SBOM upload", fmt.Sprintf("/api/v1/versions/%d/sbom", e.v1), nil, "bom.cdx.json", sbomDoc + pad, false, []int{201}},
				{"API feed import", "/api/v1/imports", nil, "kev.json", string(kev) + pad, false, []int{201}},
				{"a form route that takes no file", fmt.Sprintf("/findings/%d/state", e.spring), map[string]string{"csrf": browser.csrf, "state": "open"}, "x.bin", pad, true, []int{200, 303, 400}},
				{"over the upload limit", fmt.Sprintf("/api/v1/versions/%d/sbom", e.v1), nil, "huge.cdx.json", sbomDoc + strings.Repeat(" ", 65<<20), false, []int{400, 413}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					var b bytes.Buffer
					mw := multipart.NewWriter(&b)
					for k, v := range tt.fields {
						mw.WriteField(k, v)
					}
					fw, _ := mw.CreateFormFile("file", tt.file)
					fw.Write([]byte(tt.body))
					mw.Close()
					req, _ := http.NewRequest("POST", e.srv.URL+tt.path, &b)
					req.Header.Set("Content-Type", mw.FormDataContentType())
					c := browser
					if !tt.cookie {
						c = e.anon()
						req.Header.Set("Authorization", "Bearer "+tok)
					}
					res, body := c.do(req)
					if !containsInt(tt.wantStatuses, res.StatusCode) {
						t.Errorf("status %d, want one of %v: %s", res.StatusCode, tt.wantStatuses, clip(body))
					}
					left, err := os.ReadDir(tmp)
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range left {
						t.Errorf("left in $TMPDIR: %s", f.Name())
						os.RemoveAll(tmp + "/" + f.Name())
					}
				})
			}
		})
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
