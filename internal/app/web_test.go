package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// The end-to-end flow of issue 6, through App.Handler as `vigil serve` runs it: sign in, import advisories, upload a
// device version's SBOM, see the new findings, assess one as an uncontrolled risk, record the customer notice and
// see the clocks change.

// flowSBOM names two Go modules that real go-vulndb advisories (in the shared fixtures) affect.
const flowSBOM = `{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
 "metadata": {"component": {"type": "firmware", "name": "Infusio IP-3", "version": "3.2.1"}},
 "components": [
  {"type": "library", "name": "github.com/gin-gonic/gin", "version": "v1.9.0", "purl": "pkg:golang/github.com/gin-gonic/gin@v1.9.0"},
  {"type": "library", "name": "golang.org/x/crypto", "version": "v0.31.0", "purl": "pkg:golang/golang.org/x/crypto@v0.31.0"},
  {"type": "library", "name": "github.com/google/uuid", "version": "v1.6.0", "purl": "pkg:golang/github.com/google/uuid@v1.6.0"}]}`

var flowAdvisories = []string{"GO-2023-1737.json", "GO-2025-3487.json"}

type webFlow struct {
	t     *testing.T
	app   *app.App
	srv   *httptest.Server
	pw    string
	clock *storetest.Clock
}

func newWebFlow(t *testing.T, engine string) *webFlow {
	t.Helper()
	clock := storetest.NewClock(time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC))
	db := storetest.Open(t, engine, clock)
	a := &app.App{Store: db, Clock: clock}
	pw, err := a.SeedDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.Handler(app.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &webFlow{t: t, app: a, srv: srv, pw: pw, clock: clock}
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (f *webFlow) signIn(name, pw string) *browser {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: f.t, base: f.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := b.get("/login")
	res, _ := b.post("/login", url.Values{"csrf": {csrfRe.FindStringSubmatch(body)[1]}, "name": {name}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("sign in: %d", res.StatusCode)
	}
	_, body = b.get("/account")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		f.t.Fatal("no session after signing in")
	}
	b.csrf = m[1]
	return b
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func (b *browser) get(p string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", b.base+p, nil)
	return b.do(req)
}

func (b *browser) post(p string, v url.Values) (*http.Response, string) {
	if b.csrf != "" {
		v.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.base+p, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// upload posts a file as a browser form does (the CSRF token first, then the file).
func (b *browser) upload(p, name string, data []byte) (*http.Response, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+p, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// importAdvisories imports the flow's advisories through the API, with the session.
func (f *webFlow) importAdvisories(b *browser) {
	f.t.Helper()
	for _, name := range flowAdvisories {
		data, err := os.ReadFile(testfix.Path(f.t, "osv-advisories", "go-vulndb", "data", "osv", name))
		if err != nil {
			f.t.Fatal(err)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(data)
		mw.Close()
		req, _ := http.NewRequest("POST", b.base+"/api/v1/imports?source=osv", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("X-CSRF-Token", b.csrf)
		if res, body := b.do(req); res.StatusCode != http.StatusCreated {
			f.t.Fatalf("import %s: %d %s", name, res.StatusCode, body)
		}
	}
}

func (f *webFlow) version(device, version string) int64 {
	f.t.Helper()
	ctx := storetest.Admin()
	d, err := f.app.Store.DeviceByName(ctx, device)
	if err != nil {
		f.t.Fatal(err)
	}
	v, err := f.app.Store.VersionByName(ctx, d.ID, version)
	if err != nil {
		f.t.Fatal(err)
	}
	return v.ID
}

var findingLink = regexp.MustCompile(`<a href="/findings/(\d+)">(\d+)</a></td>\s*<td><a href="/vulns/GO-2023-1737">`)

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestWebFlow(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			f := newWebFlow(t, engine)
			b := f.signIn("admin", f.pw)
			f.importAdvisories(b)
			ver := f.version("Infusio IP-3", "3.2.1")

			res, page := b.upload(fmt.Sprintf("/versions/%d/sbom", ver), "ip3-3.2.1.cdx.json", []byte(flowSBOM))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("upload: %d", res.StatusCode)
			}
			mustContain(t, "upload result", page, "SBOM imported: ip3-3.2.1.cdx.json", "<b>2</b> new findings opened")

			_, page = b.get(fmt.Sprintf("/findings?version=%d", ver))
			mustContain(t, "findings list", page, "GO-2023-1737", "CVE-2023-29401", "GO-2025-3487", "github.com/gin-gonic/gin@v1.9.0")
			m := findingLink.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no link to the gin finding")
			}
			fp := "/findings/" + m[1]
			_, page = b.get(fp)
			mustContain(t, "unassessed finding", page, "not assessed yet: no risk determination", "osv-ecosystem:Go", "1.9.1")

			res, _ = b.post(fp+"/assess", url.Values{"cvss": {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, "function": {"dose delivery"},
				"rationale": {"The pump's REST service runs gin; a crafted request reaches the dosing API."}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("assess: %d", res.StatusCode)
			}
			_, page = b.get(fp)
			mustContain(t, "assessed finding", page, `<span class="badge bad">uncontrolled</span>`, "ED 30-day communication", "ED 60-day fix", "2025-07-02", "2025-08-01")
			if strings.Contains(page, "Part 806 report</td>") {
				t.Errorf("a Part 806 clock before any correction was initiated")
			}

			res, _ = b.post(fp+"/events", url.Values{"type": {"customer_notified"}, "date": {"2025-06-02"}, "element": {"a", "b", "c", "d"},
				"note": {"Customer notice CN-2025-031 sent to all consignees"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("record notice: %d", res.StatusCode)
			}
			_, page = b.get(fp)
			// The notice initiates the correction: the 806 clock (10 working days) appears, conditional on ED.
			mustContain(t, "after the notice", page, "Part 806 report</td>", "2025-06-16", "Customer notice CN-2025-031")

			_, page = b.get("/")
			mustContain(t, "dashboard", page, "GO-2023-1737", "ED 30-day communication")
			_, page = b.get("/deadlines?format=csv")
			mustContain(t, "deadlines export", page, "GO-2023-1737,ed_communication,2025-07-02", "part806,2025-06-16")
			_, page = b.get("/vulns/CVE-2023-29401")
			mustContain(t, "vulnerability page", page, "GO-2023-1737", "Infusio IP-3 3.2.1", "osv-ecosystem:Go")
		})
	}
}

// screenshotDir is where the browser test saves its screenshots: $VIGIL_SCREENSHOTS, else a new temporary folder
// that is kept (they are test artifacts).
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("VIGIL_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "vigil-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func chromiumPath() string {
	for _, p := range []string{os.Getenv("VIGIL_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return ""
}

var _ = filepath.Join
var _ = vigil.RoleAdmin
