package taxii_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/taxii"
	"github.com/vigil-dev/vigil/internal/testfix/taxiiserver"
)

// The examples of the OASIS TAXII 2.1 specification (sections 4.1.1, 4.2.1, 5.1.1, 5.3.1 and 5.6.1), verbatim but
// for the elided lists: the client's types must read them, and the test server's answers carry the same members.
var specExamples = map[string]string{
	"discovery": `{"title": "Some TAXII Server", "description": "This TAXII Server contains a listing of", "contact": "string containing contact information",
		"default": "https://example.com/api2/", "api_roots": ["https://example.com/api1/", "https://example.com/api2/", "https://example.net/trustgroup1/"]}`,
	"api root": `{"title": "Malware Research Group", "description": "A trust group setup for malware researchers",
		"versions": ["application/taxii+json;version=2.1"], "max_content_length": 104857600}`,
	"collections": `{"collections": [{"id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116", "title": "High Value Indicator Collection",
		"description": "This data collection contains high value IOCs", "can_read": true, "can_write": false, "media_types": ["application/stix+json;version=2.1"]}]}`,
	"status": `{"id": "2d086da7-4bdc-4f91-900e-d77486753710", "status": "pending", "request_timestamp": "2016-11-02T12:34:34.123456Z", "total_count": 4,
		"success_count": 1, "successes": [{"id": "indicator--c410e480-e42b-47d1-9476-85307c12bcbf", "version": "2018-05-27T12:02:41.312Z"}],
		"failure_count": 1, "failures": [{"id": "malware--664fa29d-bf65-4f28-a667-bdb76f29ec98", "version": "2018-05-28T14:03:42.543Z", "message": "Unable to process object"}],
		"pending_count": 2, "pendings": [{"id": "indicator--252c7c11-daf2-42bd-843b-be65edca9f61", "version": "2018-05-18T20:16:21.148Z"}]}`,
	"manifest": `{"more": true, "objects": [{"id": "indicator--29aba82c-5393-42a8-9edb-6a2cb1df070b", "date_added": "2016-11-01T03:04:05Z",
		"version": "2016-11-01T03:04:05Z", "media_type": "application/stix+json;version=2.1"}]}`,
}

func keys(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func indicator(n int, modified string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000","created":"2026-01-01T00:00:00.000Z",
		"modified":%q,"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, n, modified, n))
}

func setup(t *testing.T) (*taxiiserver.Server, string, *taxii.Client) {
	srv := taxiiserver.New("acme", "s3cret", map[string]string{"c1": "Medical device vulnerabilities"})
	srv.PageSize = 2
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return srv, ts.URL, &taxii.Client{HTTP: ts.Client(), User: "acme", Password: "s3cret"}
}

// TestSpecExamples: the client reads every example of the specification, and the test server answers each
// resource with the example's members (no member the specification does not define).
func TestSpecExamples(t *testing.T) {
	var d taxii.Discovery
	var r taxii.APIRoot
	var cs struct{ Collections []taxii.Collection }
	var st taxii.Status
	var mf struct {
		More    bool
		Objects []struct{ ID, DateAdded, Version, MediaType string }
	}
	for name, out := range map[string]any{"discovery": &d, "api root": &r, "collections": &cs, "status": &st, "manifest": &mf} {
		if err := json.Unmarshal([]byte(specExamples[name]), out); err != nil {
			t.Errorf("%s example: %v", name, err)
		}
	}
	if d.Default != "https://example.com/api2/" || len(d.APIRoots) != 3 || r.MaxContentLength != 104857600 || !taxii.IsMediaType(r.Versions[0]) ||
		cs.Collections[0].CanWrite || !cs.Collections[0].CanRead || st.PendingCount != 2 || st.Failures[0].Message != "Unable to process object" || !mf.More {
		t.Errorf("examples read wrong: %+v %+v %+v %+v %+v", d, r, cs, st, mf)
	}

	_, base, _ := setup(t)
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Accept", taxii.MediaType)
		req.SetBasicAuth("acme", "s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if !taxii.IsMediaType(resp.Header.Get("Content-Type")) {
			t.Errorf("%s: Content-Type %q", path, resp.Header.Get("Content-Type"))
		}
		var raw json.RawMessage
		json.NewDecoder(resp.Body).Decode(&raw)
		return raw
	}
	c := &taxii.Client{User: "acme", Password: "s3cret"}
	if _, err := c.AddObjects(context.Background(), base+"/api1/", "c1", []json.RawMessage{indicator(1, "2026-01-01T00:00:00.000Z")}); err != nil {
		t.Fatal(err)
	}
	for path, example := range map[string]string{"/taxii2/": "discovery", "/api1/": "api root", "/api1/collections/": "collections", "/api1/collections/c1/manifest/": "manifest"} {
		got, want := keys(t, get(path)), keys(t, []byte(specExamples[example]))
		for _, k := range got {
			if !slices.Contains(want, k) {
				t.Errorf("%s: member %q is not in the specification's %s example %v", path, k, example, want)
			}
		}
	}
	var coll struct{ Collections []json.RawMessage }
	json.Unmarshal(get("/api1/collections/"), &coll)
	var manifest struct{ Objects []json.RawMessage }
	json.Unmarshal(get("/api1/collections/c1/manifest/"), &manifest)
	var example struct {
		Collections []json.RawMessage
		Objects     []json.RawMessage
	}
	json.Unmarshal([]byte(specExamples["collections"]), &example)
	if g, w := keys(t, coll.Collections[0]), keys(t, example.Collections[0]); !slices.Equal(g, w) {
		t.Errorf("collection members %v, the specification's %v", g, w)
	}
	json.Unmarshal([]byte(specExamples["manifest"]), &example)
	if g, w := keys(t, manifest.Objects[0]), keys(t, example.Objects[0]); !slices.Equal(g, w) {
		t.Errorf("manifest record members %v, the specification's %v", g, w)
	}
}

// TestClientAgainstServer: discovery to API root, collections, adding objects (one refused) and reading the status
// back, reading with paging and added_after, and the errors for a wrong password, a missing collection and the
// wrong media types.
func TestClientAgainstServer(t *testing.T) {
	ctx := context.Background()
	srv, base, c := setup(t)
	root, err := c.ResolveRoot(ctx, base+"/taxii2/")
	if err != nil || root != base+"/api1/" {
		t.Fatalf("root = %q, %v", root, err)
	}
	if again, err := c.ResolveRoot(ctx, root); err != nil || again != root {
		t.Errorf("an API root resolves to itself: %q, %v", again, err)
	}
	info, err := c.APIRoot(ctx, root)
	if err != nil || !slices.ContainsFunc(info.Versions, taxii.IsMediaType) {
		t.Errorf("api root = %+v, %v", info, err)
	}
	cols, err := c.Collections(ctx, root)
	if err != nil || len(cols) != 1 || cols[0].ID != "c1" || !cols[0].CanWrite {
		t.Errorf("collections = %+v, %v", cols, err)
	}
	bad := json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000000"}`)
	objs := []json.RawMessage{indicator(1, "2026-01-01T00:00:00.000Z"), indicator(2, "2026-01-01T00:00:00.000Z"), indicator(3, "2026-01-01T00:00:00.000Z"), bad}
	st, err := c.AddObjects(ctx, root, "c1", objs)
	if err != nil || st.Status != "complete" || st.TotalCount != 4 || st.SuccessCount != 3 || st.FailureCount != 1 || !strings.Contains(st.ErrorText(), "malware--") {
		t.Fatalf("status = %+v, %v", st, err)
	}
	again, err := c.Status(ctx, root, st.ID)
	if err != nil || again.ID != st.ID || again.SuccessCount != 3 {
		t.Errorf("status read back = %+v, %v", again, err)
	}
	if w, err := c.WaitStatus(ctx, root, st, 3, nil); err != nil || w != st {
		t.Errorf("a complete status is not polled: %+v, %v", w, err)
	}
	// Paging: two per page.
	var got []string
	var last string
	next := ""
	for range 5 {
		p, err := c.Objects(ctx, root, "c1", "", next, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Objects {
			var h struct{ ID string }
			json.Unmarshal(o, &h)
			got = append(got, h.ID)
		}
		last = p.AddedLast
		if !p.More {
			break
		}
		next = p.Next
	}
	if len(got) != 3 || last == "" {
		t.Fatalf("paged read: %v (last added %q)", got, last)
	}
	// added_after: only what came later, a new version of an object included.
	if _, err := c.AddObjects(ctx, root, "c1", []json.RawMessage{indicator(4, "2026-01-02T00:00:00.000Z"), indicator(1, "2026-01-03T00:00:00.000Z")}); err != nil {
		t.Fatal(err)
	}
	p, err := c.Objects(ctx, root, "c1", last, "", 10)
	if err != nil || len(p.Objects) != 2 || p.More {
		t.Fatalf("after %s: %+v, %v", last, p, err)
	}
	if n := len(srv.Objects("c1")); n != 5 {
		t.Errorf("the server holds %d versions, want 5", n)
	}
	for name, tc := range map[string]struct {
		c    *taxii.Client
		call func(c *taxii.Client) error
		code string
	}{
		"wrong password": {&taxii.Client{User: "acme", Password: "guess"}, func(c *taxii.Client) error { _, err := c.Collections(ctx, root); return err }, vigil.EFORBIDDEN},
		"no collection":  {c, func(c *taxii.Client) error { _, err := c.Objects(ctx, root, "nope", "", "", 0); return err }, vigil.ENOTFOUND},
		"bad added_after": {c, func(c *taxii.Client) error {
			_, err := c.Objects(ctx, root, "c1", "yesterday", "", 0)
			return err
		}, vigil.EINVALID},
		"nothing listens": {c, func(c *taxii.Client) error { _, err := c.Discover(ctx, "http://127.0.0.1:1/taxii2/"); return err }, vigil.EUNAVAILABLE},
	} {
		if err := tc.call(tc.c); vigil.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	for name, h := range map[string][2]string{"Accept without TAXII": {"application/json", ""}, "body of another type": {taxii.MediaType, "application/json"}} {
		method := "GET"
		if h[1] != "" {
			method = "POST"
		}
		req, _ := http.NewRequest(method, root+"collections/c1/objects/", strings.NewReader(`{"objects":[]}`))
		req.Header.Set("Accept", h[0])
		if h[1] != "" {
			req.Header.Set("Content-Type", h[1])
		}
		req.SetBasicAuth("acme", "s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[string]int{"Accept without TAXII": 406, "body of another type": 415}[name]; resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", name, resp.StatusCode, want)
		}
	}
}
