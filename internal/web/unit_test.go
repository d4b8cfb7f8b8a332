package web

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/risk"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestHTTPURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://nvd.nist.gov/vuln/detail/CVE-2021-44228": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
		"  http://example.com/x  ":                        "http://example.com/x",
		"javascript:alert(1)":                             "",
		" JaVaScRiPt:alert(1)":                            "",
		"data:text/html,<script>":                         "",
		"mailto:psirt@example.com":                        "",
		"//evil.example/x":                                "",
		"/relative/path":                                  "",
		"https://":                                        "",
		"ftp://example.com/file":                          "",
		"":                                                "",
	} {
		if got := httpURL(in); got != want {
			t.Errorf("httpURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSVSafe(t *testing.T) {
	got := csvSafe([]string{"=1+1", "+SUM(A1)", "-2", "-cmd", "@SUM(1)", "\tx", "plain", "", "3.5", "CVE-2021-44228"})
	want := []string{"'=1+1", "'+SUM(A1)", "-2", "'-cmd", "'@SUM(1)", "'\tx", "plain", "", "3.5", "CVE-2021-44228"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("csvSafe (-want +got):\n%s", diff)
	}
}

func gzBytes(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func zipBytes(names ...string) []byte {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, n := range names {
		w, _ := zw.Create(n)
		if !strings.HasSuffix(n, "/") {
			w.Write([]byte(`{"bomFormat":"CycloneDX"}`))
		}
	}
	zw.Close()
	return out.Bytes()
}

func TestUnwrap(t *testing.T) {
	lim := uploadLimits{MaxBytes: 1 << 20, MaxDecompressed: 1 << 16, MaxEntries: 5}
	doc := []byte(`{"bomFormat":"CycloneDX"}`)
	for _, tt := range []struct {
		name, file string
		in         []byte
		wantName   string
		wantErr    string
	}{
		{"plain", "bom.json", doc, "bom.json", ""},
		{"gzip", "bom.json.gz", gzBytes(doc), "bom.json", ""},
		{"gzip without the suffix", "upload", gzBytes(doc), "upload (gunzipped)", ""},
		{"gzip bomb", "bomb.gz", gzBytes(bytes.Repeat([]byte{'a'}, 1<<17)), "", "bomb.gz: expands to more than"},
		{"truncated gzip", "cut.gz", gzBytes(doc)[:12], "", "cut.gz: "},
		{"zip of one file", "b.zip", zipBytes("dir/", "dir/bom.json", "__MACOSX/._bom.json", "dir/._bom.json"), "b.zip!bom.json", ""},
		{"zip of two files", "two.zip", zipBytes("a.json", "b.json"), "", "holds 2 files"},
		{"zip of nothing", "none.zip", zipBytes("dir/"), "", "holds 0 files"},
		{"zip with too many entries", "many.zip", zipBytes("1/", "2/", "3/", "4/", "5/", "a.json"), "", "6 entries, more than the 5 allowed"},
		{"corrupt zip", "bad.zip", []byte("PK\x03\x04 not really"), "", "bad.zip: not a valid zip file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, name, err := unwrap(tt.in, tt.file, lim)
			if tt.wantErr != "" {
				if err == nil || vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want EINVALID with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || name != tt.wantName || !bytes.Equal(out, doc) {
				t.Fatalf("unwrap = %q, %q, %v; want the document as %q", out, name, err, tt.wantName)
			}
		})
	}
}

// FuzzUnwrap feeds arbitrary bytes (seeded with gzip and zip archives) to the upload unwrapper: it must never
// panic, and never return more than the decompressed limit.
func FuzzUnwrap(f *testing.F) {
	f.Add([]byte(`{"bomFormat":"CycloneDX"}`))
	f.Add(gzBytes([]byte(`{"a":1}`)))
	f.Add(zipBytes("a.json"))
	f.Add(zipBytes("a/", "a/b.json", "__MACOSX/x"))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0x1f, 0x8b})
	lim := uploadLimits{MaxBytes: 1 << 20, MaxDecompressed: 1 << 14, MaxEntries: 8}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _, err := unwrap(b, "fuzz", lim)
		if err == nil && int64(len(out)) > max(lim.MaxDecompressed, int64(len(b))) {
			t.Fatalf("returned %d bytes, over the limit", len(out))
		}
		if err != nil && vigil.ErrorCode(err) != vigil.EINVALID {
			t.Fatalf("error %v is not EINVALID", err)
		}
	})
}

func TestDisplayName(t *testing.T) {
	for in, want := range map[string]string{
		"bom.json":                   "bom.json",
		`C:\Users\me\Desktop\b.json`: "b.json",
		"../../etc/passwd":           "passwd",
		"a\x00b\nc.json":             "abc.json",
		"":                           "",
		"/":                          "",
	} {
		if got := displayName(in); got != want {
			t.Errorf("displayName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPruneRubric keeps exactly the answers on the path the answers take, so that what a browser without script
// submits is what the rubric accepts.
func TestPruneRubric(t *testing.T) {
	answers := risk.RubricAnswers{
		"AV.1": "no", "AV.2": "yes", "AV.3": "yes", // AV.3 is not asked once AV.2 says adjacent
		"AC.1": "no", "PR.1": "no", "PR.2": "yes", // PR.2 is not asked without credentials
		"UI.1": "no", "S.1": "no",
		"therapy.applies": "yes", "therapy.C": "none", "therapy.I.harm": "yes", "therapy.I": "total", "therapy.A.harm": "no", "therapy.A": "limited",
		"phi.applies": "no", "phi.C": "total", // not asked: the category does not apply
		"diagnosis.applies": "no", "workflow.applies": "no", "secrets.applies": "no", "other.applies": "no",
	}
	got := pruneRubric(answers)
	for _, gone := range []string{"AV.3", "PR.2", "therapy.I", "phi.C"} {
		if _, ok := got[gone]; ok {
			t.Errorf("%s kept", gone)
		}
	}
	if len(got) != len(answers)-4 {
		t.Errorf("kept %d answers, want %d", len(got), len(answers)-4)
	}
	v, _, err := got.Vector()
	if err != nil || v != "CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:L" {
		t.Errorf("vector %q, %v", v, err)
	}
	// Every root and every reveal names a question of the rubric.
	qs := map[string]bool{}
	for _, q := range risk.Rubric() {
		qs[q.ID] = true
	}
	for _, q := range rubricForm() {
		for _, ids := range q.Reveals {
			for _, id := range strings.Fields(ids) {
				if !qs[id] {
					t.Errorf("%s reveals unknown question %s", q.ID, id)
				}
			}
		}
	}
}

// FuzzPruneRubric: whatever a form submits, the pruned answers never hold a question the rubric did not ask.
func FuzzPruneRubric(f *testing.F) {
	f.Add("no yes yes no no yes no no yes none yes total no limited no total")
	f.Fuzz(func(t *testing.T, s string) {
		qs := risk.Rubric()
		vals := strings.Fields(s)
		a := risk.RubricAnswers{}
		for i, q := range qs {
			if i < len(vals) {
				a[q.ID] = vals[i]
			}
		}
		_, _, err := pruneRubric(a).Vector()
		if err != nil && strings.Contains(err.Error(), "not asked") {
			t.Fatalf("pruned answers still hold an unasked question: %v", err)
		}
	})
}

func TestRedirectKeepsTheAnchor(t *testing.T) {
	for _, tt := range []struct{ target, done, want string }{
		{"/findings/3#clocks", "event", "/findings/3?done=event#clocks"},
		{"/findings?risk=x", "state", "/findings?risk=x&done=state"},
		{"/users", "", "/users"},
	} {
		rec := httptest.NewRecorder()
		redirect(rec, httptest.NewRequest("POST", "/", nil), tt.target, tt.done)
		if got := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || got != tt.want {
			t.Errorf("redirect(%q, %q) = %d %q, want %q", tt.target, tt.done, rec.Code, got, tt.want)
		}
	}
}

func TestJSONErrorsNameTheField(t *testing.T) {
	type in struct {
		Name  string `json:"name"`
		Units int    `json:"units"`
		Plan  struct {
			Due   vigil.Date `json:"due"`
			Steps []struct {
				On vigil.Date `json:"on"`
			} `json:"steps"`
		} `json:"plan"`
		Meaning vigil.SignatureMeaning `json:"meaning"`
	}
	for body, want := range map[string]string{
		`{"nmae": "x"}`:    "nmae: no such field",
		`{"units": "ten"}`: "units: want int, got JSON string",
		`{"name": "2025-13-01", "plan": {"due": "2025-13-01"}}`:                                  `plan.due: invalid date "2025-13-01"`,
		`{"plan": {"due": "2025-06-01", "steps": [{"on": "2025-06-02"}, {"on": "2025-02-30"}]}}`: `plan.steps[1].on: invalid date "2025-02-30"`,
		`{"plan": {"steps": [{"on": "x"}]}, "name": "x"}`:                                        `plan.steps[0].on: invalid date "x"`,
		`{"meaning": "approve"}`: `meaning: "approve"`,
		`{"name": `:              "body: ",
		``:                       "body: empty",
		`{"name": "a"} {"x": 1}`: "body: more than one JSON value",
	} {
		rec := httptest.NewRecorder()
		var v in
		err := decodeJSON(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)), &v)
		if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(vigil.ErrorMessage(err), want) {
			t.Errorf("%s: %v, want EINVALID with %q", body, err, want)
		}
	}
}

func TestStatusTable(t *testing.T) {
	for code, want := range map[string]int{vigil.EINVALID: 400, vigil.EUNAUTHORIZED: 401, vigil.EFORBIDDEN: 403, vigil.ENOTFOUND: 404,
		vigil.ECONFLICT: 409, vigil.EINTERNAL: 500} {
		if got := StatusOf(vigil.Errorf(code, "x")); got != want {
			t.Errorf("%s → %d, want %d", code, got, want)
		}
	}
	if got := StatusOf(fmt.Errorf("wrapped: %w", vigil.Errorf(vigil.ENOTFOUND, "x"))); got != 404 {
		t.Errorf("wrapped ENOTFOUND → %d", got)
	}
	if got := StatusOf(errMethod); got != 405 {
		t.Errorf("method → %d", got)
	}
}

func TestCalendar(t *testing.T) {
	today := vigil.NewDate(2025, 6, 18)
	ds := []cases.Deadline{
		{CaseID: 1, Clock: "part806", Due: vigil.NewDate(2025, 6, 2), Overdue: true},
		{CaseID: 2, Clock: "ed_communication", Due: vigil.NewDate(2025, 6, 30)},
		{CaseID: 3, Clock: "ed_fix", Due: vigil.NewDate(2025, 8, 1)},
		{CaseID: 4, Clock: "mdr", Due: vigil.NewDate(2025, 9, 1)},
	}
	months, later := calendar(today, ds, 3)
	if len(months) != 3 || months[0].Title != "June 2025" || months[2].Title != "August 2025" {
		t.Fatalf("months: %+v", months)
	}
	first := months[0].Weeks[0][0]
	if first.Date.String() != "2025-05-26" || first.InMonth {
		t.Errorf("June 2025 starts on %s (in month %v), want Monday 2025-05-26", first.Date, first.InMonth)
	}
	placed := map[string][]int64{}
	for _, m := range months {
		for _, w := range m.Weeks {
			if len(w) != 7 {
				t.Fatalf("a week of %d days", len(w))
			}
			for _, d := range w {
				if d.Today && d.Date.String() != "2025-06-18" {
					t.Errorf("today marked on %s", d.Date)
				}
				for _, x := range d.Deadlines {
					if d.InMonth {
						placed[d.Date.String()] = append(placed[d.Date.String()], x.CaseID)
					}
				}
			}
		}
	}
	if diff := cmp.Diff(map[string][]int64{"2025-06-30": {2}, "2025-08-01": {3}}, placed); diff != "" {
		t.Errorf("placement (-want +got):\n%s", diff)
	}
	if len(later) != 1 || later[0].CaseID != 4 {
		t.Errorf("later: %+v", later)
	}
}

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int]int{0: 4, 3: 4, 5: 8, 7: 8, 9: 20, 67: 80, 99: 100, 101: 200, 999: 1000, 100000: 100000, 100001: 200000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestChartsGolden renders the dashboard's charts for fixed data and compares the SVG with the golden file.
func TestChartsGolden(t *testing.T) {
	s, err := New(Services{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	bars := newBarChart("Open findings by device", []Count{{Label: "Infusio IP-3", N: 120, Extra: 7, ID: 1}, {Label: "VitalView PM-7", N: 45, ID: 2},
		{Label: "A device name far too long to fit the label column", N: 3, ID: 3}}, func(Count) string { return "bar-device" },
		func(c Count) string { return fmt.Sprintf("/findings?device=%d", c.ID) })
	var pts []Point
	for i := 0; i < 10; i++ {
		pts = append(pts, Point{Date: vigil.NewDate(2025, 3, 3).AddDays(7 * i), N: 40 + i*i*3})
	}
	line := newLineChart("Open findings over time", pts)
	hist := newHistogram("Identification to patch", []Metric{{Days: 12}, {Days: 29}, {Days: 45}, {Days: 200}}, []int{30, 60, 90, 180})
	var out bytes.Buffer
	for _, c := range []struct {
		name string
		data any
	}{{"bars", bars}, {"line", line}, {"bars", hist.Chart}} {
		if err := s.tmpl["dashboard"].ExecuteTemplate(&out, c.name, c.data); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Fprintf(&out, "<!-- median %s over %d -->\n", hist.Median, hist.N)
	golden := filepath.Join("testdata", "charts.golden.html")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("charts differ from %s (-want +got):\n%s", golden, diff)
	}
	if hist.Median != "37 days" {
		t.Errorf("median %q", hist.Median)
	}
}

// TestOpenAPIGolden keeps the generated API document under review: a change to a route or a type shows as a diff.
func TestOpenAPIGolden(t *testing.T) {
	s, err := New(Services{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(s.OpenAPI(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "openapi.golden.json")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("OpenAPI document differs from %s (-want +got):\n%s", golden, diff)
	}
}

func TestStaticFiles(t *testing.T) {
	s, err := New(Services{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/static/vigil.css": 200, "/static/htmx.min.js": 200, "/static/vigil.js": 200, "/static/": 404, "/static/nope.js": 404} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: security headers missing", path)
		}
	}
}

// TestClientAddr reads X-Forwarded-For only from trusted proxies, right to left, stopping at the first address that
// is not a trusted proxy (what lies to its left the client wrote).
func TestClientAddr(t *testing.T) {
	s := &Server{opt: Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}}
	for _, tt := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy", "203.0.113.9:5555", nil, "203.0.113.9"},
		{"an untrusted peer's header is ignored", "203.0.113.9:5555", []string{"198.51.100.1"}, "203.0.113.9"},
		{"one trusted proxy", "10.0.0.2:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"the client's own hops are ignored", "10.0.0.2:443", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", "10.0.0.2:443", []string{"198.51.100.1, 10.1.1.1"}, "198.51.100.1"},
		{"two header lines", "10.0.0.2:443", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"IPv6 proxy and client", "[fd00::1]:443", []string{"2001:db8::7"}, "2001:db8::7"},
		{"an IPv4-mapped client", "10.0.0.2:443", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"a malformed hop stops at the last proxy", "10.0.0.2:443", []string{"198.51.100.1, bogus"}, "10.0.0.2"},
		{"no header from a proxy", "10.0.0.2:443", nil, "10.0.0.2"},
		{"only proxies in the chain", "10.0.0.2:443", []string{"10.3.3.3"}, "10.3.3.3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientAddr(r); got != tt.want {
				t.Errorf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUploadSlots fills the upload slots and checks that one more upload (or any multipart body) is answered 429
// with Retry-After (and the EBUSY code) before its body is read, that other requests are not held back, and that
// a freed slot admits the next upload.
func TestUploadSlots(t *testing.T) {
	s, err := New(Services{}, Options{MaxUploads: 2})
	if err != nil {
		t.Fatal(err)
	}
	s.uploads <- struct{}{}
	s.uploads <- struct{}{}
	send := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(`{"bomFormat":"CycloneDX"}`)))
		return w
	}
	for _, path := range []string{"/api/v1/versions/7/sbom", "/api/v1/imports", "/versions/7/sbom"} {
		w := send("POST", path)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "10" {
			t.Errorf("POST %s with every slot taken: %d, Retry-After %q; want 429 and 10", path, w.Code, w.Header().Get("Retry-After"))
		}
		if strings.HasPrefix(path, "/api/") && !strings.Contains(w.Body.String(), `"code": "EBUSY"`) {
			t.Errorf("POST %s: body %s, want the EBUSY code", path, w.Body.String())
		}
	}
	multipart := httptest.NewRequest("POST", "/findings/7/state", strings.NewReader("--x--\r\n"))
	multipart.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, multipart)
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("a multipart body to a form route with every slot taken: %d, want 429 (its CSRF check would spool it)", w.Code)
	}
	for _, rq := range [][2]string{{"GET", "/healthz"}, {"GET", "/versions/7/sbom"}, {"POST", "/api/v1/devices"}} {
		if w := send(rq[0], rq[1]); w.Code == http.StatusTooManyRequests {
			t.Errorf("%s %s is no upload but was turned away", rq[0], rq[1])
		}
	}
	<-s.uploads
	if w := send("POST", "/api/v1/imports"); w.Code == http.StatusTooManyRequests {
		t.Error("a freed slot did not admit the next upload")
	}
	if len(s.uploads) != 1 {
		t.Errorf("%d slots held after the requests ended, want the 1 the test holds", len(s.uploads))
	}
}

// TestParseBudget checks the parse memory budget: parses weigh their input times the amplification, one that
// would overdraw the budget waits (here: its client has gone, so it gives up with the context's error), a smaller
// one fits beside, and one larger than the whole budget runs once it is alone.
func TestParseBudget(t *testing.T) {
	s, err := New(Services{}, Options{ParseMemory: 100})
	if err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	first, err := s.reserveParse(context.Background(), 2, 32) // 64 of 100
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.reserveParse(gone, 2, 32); !errors.Is(err, context.Canceled) {
		t.Errorf("a second 64 beside 64 of 100: %v, want to wait (context.Canceled here)", err)
	}
	small, err := s.reserveParse(gone, 1, 32)
	if err != nil {
		t.Errorf("32 beside 64 of 100: %v, want room", err)
	} else {
		small()
	}
	if _, err := s.reserveParse(gone, 1000, 32); !errors.Is(err, context.Canceled) {
		t.Errorf("a parse larger than the budget beside another: %v, want to wait", err)
	}
	first()
	huge, err := s.reserveParse(gone, 1000, 32)
	if err != nil {
		t.Errorf("a parse larger than the budget, alone: %v, want it admitted", err)
	} else {
		huge()
	}
}

// TestSourcesPageRuns renders the latest import runs from the intel service's own record of them: one row per
// source of a run, the run's id, time and actor on its first row only, and the rejected records counted.
func TestSourcesPageRuns(t *testing.T) {
	s, err := New(Services{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run := &vigil.IntelRun{ID: 42, StartedAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), Actor: "user:alice", Summaries: []vigil.IntelSummary{
		{Source: vigil.SourceOSV, Added: 7, Updated: 2, Unchanged: 11, Withdrawn: 1,
			Rejected: []vigil.RejectedRecord{{File: "a.json", Error: "bad"}, {File: "b.json", Error: "bad"}}},
		{Source: vigil.SourceKEV, Unchanged: 3},
	}}
	var out strings.Builder
	data := sourcesData{Available: true, Sources: []Source{{Name: "osv"}}, Runs: []*vigil.IntelRun{run}}
	if err := s.tmpl["sources"].ExecuteTemplate(&out, "content", page{Data: data}); err != nil {
		t.Fatal(err)
	}
	html := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"<td>42</td>", "<td>user:alice</td>",
		"<td>osv</td><td>7</td><td>2</td><td>11</td><td>1</td><td><span class=\"badge bad\">2</span></td>",
		"<td></td><td></td><td></td> <td>kev</td><td>0</td><td>0</td><td>3</td><td>0</td><td>0</td>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("sources page lacks %q:\n%s", want, html)
		}
	}
}
