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

// TestFeedUploadGzipBomb uploads a 1 MB .json.gz OSV record that expands to 1 GiB through the API: it is refused at
// the 32 MiB record limit with an error naming the file as uploaded (not the temporary file it was written to),
// and nothing is stored.
func TestFeedUploadGzipBomb(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			var bomb bytes.Buffer
			if err := testfix.GzipBomb(&bomb, `{"id":"GHSA-bomb-bomb-bomb","modified":"2024-01-01T00:00:00Z","details":"`, 1<<30); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/imports?name=GHSA-bomb-bomb-bomb.json.gz", &bomb)
			req.Header.Set("Authorization", "Bearer "+e.token(vigil.RolePSIRT))
			req.Header.Set("Content-Type", "application/gzip")
			res, body := e.anon().do(req)
			want := `"GHSA-bomb-bomb-bomb.json.gz: more than 32 MiB, the limit for one OSV record"`
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
				t.Errorf("bomb upload: %d %s; want 400 and %s", res.StatusCode, clip(body), want)
			}
			if _, err := e.db.Vuln(sys(), "GHSA-bomb-bomb-bomb"); vigil.ErrorCode(err) != vigil.ENOTFOUND {
				t.Errorf("the bomb's record: %v, want ENOTFOUND", err)
			}
		})
	}
}
