package importer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// loopbackOK is the SSRF guard of these tests: the public-address rule, except that the test servers on 127.0.0.1
// may be reached.
func loopbackOK(ip netip.Addr) error {
	if ip.IsLoopback() {
		return nil
	}
	return importer.PublicAddr(ip)
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

func testFetcher(srv *httptest.Server, s *sleeps) *importer.Fetcher {
	u, _ := url.Parse(srv.URL)
	return &importer.Fetcher{Client: importer.NewClient(loopbackOK), Allow: []string{u.Hostname()}, AllowHTTP: true,
		Sleep: s.sleep, NVDDelay: time.Millisecond, Backoff: time.Second}
}

func TestPublicAddr(t *testing.T) {
	for _, tt := range []struct {
		ip string
		ok bool
	}{
		{"127.0.0.1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false}, {"169.254.169.254", false},
		{"100.64.0.1", false}, {"0.0.0.0", false}, {"::1", false}, {"fe80::1", false}, {"fc00::1", false}, {"::ffff:10.0.0.1", false},
		{"224.0.0.1", false}, {"64:ff9b::a00:1", false},
		{"8.8.8.8", true}, {"151.101.1.1", true}, {"2606:4700::1111", true},
	} {
		err := importer.PublicAddr(netip.MustParseAddr(tt.ip))
		if (err == nil) != tt.ok {
			t.Errorf("PublicAddr(%s) = %v, want ok=%v", tt.ip, err, tt.ok)
		}
	}
}

// TestAllowNets: the operator's networks are admitted, with an IPv4 address in its IPv6 form too; everything else
// not public stays refused, the cloud metadata address included, and public addresses pass.
func TestAllowNets(t *testing.T) {
	guard := importer.AllowNets([]netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd00:1::/32")})
	for _, tt := range []struct {
		ip string
		ok bool
	}{
		{"10.20.3.4", true}, {"::ffff:10.20.3.4", true}, {"fd00:1::5", true}, {"8.8.8.8", true},
		{"10.21.0.1", false}, {"127.0.0.1", false}, {"169.254.169.254", false}, {"fd00:2::5", false}, {"192.168.1.1", false},
	} {
		err := guard(netip.MustParseAddr(tt.ip))
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "not in --allow-net")) {
			t.Errorf("AllowNets(...)(%s) = %v, want ok=%v", tt.ip, err, tt.ok)
		}
	}
	if importer.AllowNets(nil)(netip.MustParseAddr("10.20.3.4")) == nil {
		t.Error("AllowNets(nil) admits a private address")
	}
}

func TestFetcherRefusesInternalAddressesAndHosts(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		switch r.URL.Path {
		case "/to-elsewhere":
			http.Redirect(w, r, "https://evil.example.org/x.json", http.StatusFound)
		case "/to-localhost":
			http.Redirect(w, r, "http://localhost:"+r.Host[strings.LastIndexByte(r.Host, ':')+1:]+"/doc.json", http.StatusFound)
		default:
			w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	tests := []struct {
		name string
		f    *importer.Fetcher
		url  string
		want string
	}{
		{"the default guard refuses loopback", &importer.Fetcher{Client: importer.NewClient(nil), Allow: []string{"127.0.0.1"}, AllowHTTP: true, Retries: 1, Sleep: (&sleeps{}).sleep},
			srv.URL + "/doc.json", "not public"},
		{"a name resolving to loopback is refused at dial time", &importer.Fetcher{Client: importer.NewClient(nil), Allow: []string{"localhost"}, AllowHTTP: true, Retries: 1, Sleep: (&sleeps{}).sleep},
			"http://localhost:" + port + "/doc.json", "not public"},
		{"a host outside the allow-list", testFetcher(srv, &sleeps{}), "http://example.org/x.json", "not allow-listed"},
		{"http without AllowHTTP", &importer.Fetcher{Client: importer.NewClient(loopbackOK), Allow: []string{"127.0.0.1"}}, srv.URL + "/doc.json", "only https"},
		{"a redirect to another host", testFetcher(srv, &sleeps{}), srv.URL + "/to-elsewhere", "redirect refused"},
		{"a redirect to an unlisted name", testFetcher(srv, &sleeps{}), srv.URL + "/to-localhost", "redirect refused"},
		{"credentials in the URL", testFetcher(srv, &sleeps{}), strings.Replace(srv.URL, "://", "://u:p@", 1) + "/doc.json", "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Get(ctx, tt.url, nil, importer.Conditional{}, 1<<20)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Get(%s) = %v, want an error containing %q", tt.url, err, tt.want)
			}
		})
	}
	if _, err := testFetcher(srv, &sleeps{}).Get(ctx, srv.URL+"/doc.json", nil, importer.Conditional{}, 1<<20); err != nil {
		t.Errorf("an allowed fetch failed: %v", err)
	}
	big := testFetcher(srv, &sleeps{})
	big.MaxBytes = 1
	if _, err := big.Download(ctx, srv.URL+"/doc.json", importer.Conditional{}); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized download: %v", err)
	}
}

func TestConditionalURLImport(t *testing.T) {
	kev, err := os.ReadFile(testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conds []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conds = append(conds, r.Header.Get("If-None-Match"))
		mu.Unlock()
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 25 Aug 2025 12:00:00 GMT")
		w.Write(kev)
	}))
	defer srv.Close()
	u := srv.URL + "/feeds/known_exploited_vulnerabilities.json"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mu.Lock()
		conds = nil
		mu.Unlock()
		im := &importer.Importer{Store: db, Fetcher: testFetcher(srv, &sleeps{})}
		ctx := storetest.Admin()
		res, err := im.Import(ctx, []string{u}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"kev": {1404, 0, 0, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("first fetch (-want +got):\n%s", diff)
		}
		rows := query(t, db.SQL(), "SELECT url, name FROM intel_documents WHERE source = 'kev'")
		if len(rows) != 1 || rows[0][0] != u || rows[0][1] != u {
			t.Errorf("provenance = %v, want the URL", rows)
		}
		res, err = im.Import(ctx, []string{u}, vigil.ImportOptions{Source: vigil.SourceKEV})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"kev": {0, 0, 0, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("not modified (-want +got):\n%s", diff)
		}
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff([]string{"", `"v1"`}, conds); diff != "" {
			t.Errorf("If-None-Match sent (-want +got):\n%s", diff)
		}
	})
}

// nvdServer serves the 38 CVEs of the full-page fixture as NVD's API would, 20 per page, answering 429 to the
// first request of all; it records each request's query and API key.
func nvdServer(t *testing.T) (*httptest.Server, func() []url.Values) {
	b, err := os.ReadFile(testfix.Path(t, "nvd-api-2.0", "vunnel", "full-page.json"))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []url.Values
	first := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		q := r.URL.Query()
		q.Set("apiKey", r.Header.Get("apiKey"))
		seen = append(seen, q)
		if first {
			first = false
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		start, _ := strconv.Atoi(q.Get("startIndex"))
		end := min(start+20, len(page.Vulnerabilities))
		vs, _ := json.Marshal(page.Vulnerabilities[start:end])
		fmt.Fprintf(w, `{"resultsPerPage":%d,"startIndex":%d,"totalResults":%d,"format":"NVD_CVE","version":"2.0","timestamp":"2024-01-01T00:00:00.000","vulnerabilities":%s}`,
			end-start, start, len(page.Vulnerabilities), vs)
	}))
	return srv, func() []url.Values {
		mu.Lock()
		defer mu.Unlock()
		return append([]url.Values(nil), seen...)
	}
}

func TestNVDPagingWithBackoffAndCursor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv, seen := nvdServer(t)
		defer srv.Close()
		ctx := storetest.Admin()
		sl := &sleeps{}
		f := testFetcher(srv, sl)
		f.NVDKey = "secret-key"
		f.Clock = fixedClock(time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC))
		if err := db.SetFeed(ctx, &vigil.Feed{Name: "nvd", Source: vigil.SourceNVD, URL: srv.URL + "/rest/json/cves/2.0", Every: 2 * time.Hour, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		// The cursor of the last successful sync: 130 days ago, so two windows of at most 120 days.
		if err := db.RecordFeedAttempt(ctx, "nvd", vigil.FeedAttempt{At: time.Now(), Cursor: "2025-01-23T00:00:00Z"}); err != nil {
			t.Fatal(err)
		}
		im := &importer.Importer{Store: db, Fetcher: f}
		feed, _ := db.Feed(ctx, "nvd")
		res, err := im.Sync(ctx, feed)
		if err != nil {
			t.Fatal(err)
		}
		// The same 38 CVEs come in each window (this server ignores dates): added once, then unchanged.
		if diff := cmp.Diff(map[string][5]int{"nvd": {38, 0, 38, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("summary (-want +got):\n%s", diff)
		}
		var got []string
		for _, q := range seen() {
			got = append(got, q.Get("lastModStartDate")+" "+q.Get("lastModEndDate")+" "+q.Get("startIndex")+" "+q.Get("resultsPerPage")+" "+q.Get("apiKey"))
		}
		want := []string{
			"2025-01-23T00:00:00.000Z 2025-05-23T00:00:00.000Z 0 2000 secret-key", // 429
			"2025-01-23T00:00:00.000Z 2025-05-23T00:00:00.000Z 0 2000 secret-key",
			"2025-01-23T00:00:00.000Z 2025-05-23T00:00:00.000Z 20 2000 secret-key",
			"2025-05-23T00:00:00.000Z 2025-06-02T00:00:00.000Z 0 2000 secret-key",
			"2025-05-23T00:00:00.000Z 2025-06-02T00:00:00.000Z 20 2000 secret-key",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		if res.Cursor != "2025-06-02T00:00:00Z" {
			t.Errorf("new cursor = %q", res.Cursor)
		}
		if len(sl.d) == 0 || sl.d[0] != 3*time.Second {
			t.Errorf("sleeps = %v, want the 429's Retry-After first", sl.d)
		}
		// The key never reaches the stored provenance.
		if n := count(t, db, "SELECT COUNT(*) FROM intel_documents WHERE url LIKE '%secret%' OR name LIKE '%secret%'"); n != 0 {
			t.Error("the API key was stored")
		}
	})
}

func TestROLIEFeedImportsListedAdvisories(t *testing.T) {
	docs := map[string]string{
		"/white/2019/icsma-19-178-01.json": testfix.Path(t, "cisa-csaf", "OT", "white", "2019", "icsma-19-178-01.json"),
		"/white/2024/icsma-24-200-01.json": testfix.Path(t, "cisa-csaf", "OT", "white", "2024", "icsma-24-200-01.json"),
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := docs[r.URL.Path]; ok {
			http.ServeFile(w, r, p)
			return
		}
		if r.URL.Path == "/white/feed-tlp-white.json" {
			fmt.Fprintf(w, `{"feed":{"id":"test-feed","title":"t","link":[{"rel":"self","href":"%[1]s/white/feed-tlp-white.json"}],"entry":[
				{"id":"ICSMA-24-200-01","updated":"2024-07-18T06:00:00Z","content":{"src":"%[1]s/white/2024/icsma-24-200-01.json","type":"application/json"}},
				{"id":"ICSMA-19-178-01","updated":"2019-06-27T06:00:00Z","content":{"src":"/white/2019/icsma-19-178-01.json","type":"application/json"}}]}}`, srv.URL)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		im := &importer.Importer{Store: db, Fetcher: testFetcher(srv, &sleeps{})}
		res, err := im.Import(ctx, []string{srv.URL + "/white/feed-tlp-white.json"}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := sums(res)["csaf"]
		if s[0] == 0 || s[4] != 0 {
			t.Errorf("csaf summary %v", s)
		}
		if n := count(t, db, "SELECT COUNT(DISTINCT doc_id) FROM intel_documents WHERE source = 'csaf'"); n != 2 {
			t.Errorf("documents = %d, want both listed advisories", n)
		}
		if res.Cursor != "2024-07-18T06:00:00Z" {
			t.Errorf("cursor = %q", res.Cursor)
		}
	})
}

// TestHangingFeedHoldsNoWriteLock: while an import waits on a feed host that does not answer, the store takes other
// writes (a new user, another import). The URL is fetched before the import's transaction begins; it used to be
// fetched inside it, and on SQLite every other write then failed with "database is locked".
func TestHangingFeedHoldsNoWriteLock(t *testing.T) {
	kev, err := os.ReadFile(testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		arrived, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(arrived) })
			select { // the host hangs until the other writes are done
			case <-release:
			case <-r.Context().Done():
				return
			}
			w.Write(kev)
		}))
		defer srv.Close()
		ctx := storetest.Admin()
		f := testFetcher(srv, &sleeps{})
		f.TempDir = t.TempDir()
		im := &importer.Importer{Store: db, Fetcher: f}
		done := make(chan error, 1)
		go func() {
			_, err := im.Import(ctx, []string{srv.URL + "/feeds/known_exploited_vulnerabilities.json"}, vigil.ImportOptions{})
			done <- err
		}()
		<-arrived
		others := make(chan error, 1)
		go func() {
			if err := db.CreateUser(ctx, &vigil.User{Name: "probe", Role: vigil.RoleViewer}, "correct horse battery staple"); err != nil {
				others <- fmt.Errorf("creating a user: %w", err)
				return
			}
			_, err := imp(db).Import(ctx, []string{testfix.Path(t, "epss", "vunnel", "example-1.csv")}, vigil.ImportOptions{})
			if err != nil {
				err = fmt.Errorf("another import: %w", err)
			}
			others <- err
		}()
		select {
		case err := <-others:
			if err != nil {
				t.Errorf("a write while a feed host hangs: %v", err)
			}
		case <-time.After(time.Minute): // a guard against a deadlock, not a measure of speed
			t.Error("other writes are still blocked behind the hanging download")
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("the import, once the host answered: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM intel_documents WHERE source = 'kev'"); n != 1 {
			t.Errorf("KEV documents = %d, want 1", n)
		}
		if left, _ := os.ReadDir(f.TempDir); len(left) != 0 {
			t.Errorf("the download was left behind: %v", left)
		}
	})
}

// TestStagedDownloadsBoundedAndRemoved: the pages an NVD sync keeps on disk before its transaction count against
// MaxStaged, and every temporary file is removed whether the run commits or fails.
func TestStagedDownloadsBoundedAndRemoved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tt := range []struct {
			name      string
			maxStaged int64
			want      string // "" for success
		}{
			{"over the bound", 1, "exceed the limit of 1 bytes"},
			{"within the bound", 0, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				srv, _ := nvdServer(t)
				defer srv.Close()
				f := testFetcher(srv, &sleeps{})
				f.TempDir, f.MaxStaged = t.TempDir(), tt.maxStaged
				im := &importer.Importer{Store: db, Fetcher: f}
				_, err := im.Import(storetest.Admin(), []string{srv.URL + "/rest/json/cves/2.0"}, vigil.ImportOptions{})
				if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
					t.Fatalf("Import = %v, want %q", err, tt.want)
				}
				if left, _ := os.ReadDir(f.TempDir); len(left) != 0 {
					t.Errorf("temporary files left behind: %v", left)
				}
			})
		}
	})
}
