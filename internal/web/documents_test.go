package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
)

// TestDocumentLinksAndRoutes: the case page and the device page link their regulatory documents, and the routes
// serve them: HTML under a policy that allows its one inline style by hash (and sandboxes it), PDF and Markdown
// as downloads, JSON on the API; a document that does not apply is a conflict naming the one that does.
func TestDocumentLinksAndRoutes(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	_, body := c.get(fmt.Sprintf("/cases/%d", e.log4jCase))
	if want := fmt.Sprintf(`href="/cases/%d/documents/premarket?format=pdf"`, e.log4jCase); !strings.Contains(body, want) {
		t.Errorf("the case page lacks %s", want)
	}
	_, body = c.get(fmt.Sprintf("/devices/%d", e.device))
	for _, want := range []string{fmt.Sprintf(`href="/devices/%d/documents/524b?format=html"`, e.device), fmt.Sprintf(`href="/devices/%d/documents/cmp?format=md"`, e.device)} {
		if !strings.Contains(body, want) {
			t.Errorf("the device page lacks %s", want)
		}
	}
	res, body := c.get(fmt.Sprintf("/devices/%d/documents/cmp", e.device))
	if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 200 || !strings.Contains(csp, "style-src 'sha256-") || !strings.Contains(csp, "sandbox") ||
		!strings.Contains(body, "<h1>Cybersecurity Management Plan") {
		t.Errorf("cmp html: %d, CSP %q, %.200s", res.StatusCode, csp, body)
	}
	res, body = c.get(fmt.Sprintf("/cases/%d/documents/premarket?format=pdf", e.log4jCase))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF-") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "premarket.pdf") {
		t.Errorf("premarket pdf: %d %v %.8q", res.StatusCode, res.Header, body)
	}
	res, body = c.api("GET", fmt.Sprintf("/api/v1/devices/%d/documents/524b", e.device), nil)
	if res.StatusCode != 200 || !strings.Contains(body, `"kind": "524b"`) && !strings.Contains(body, `"kind":"524b"`) {
		t.Errorf("524b json: %d %.300s", res.StatusCode, body)
	}
	res, body = c.api("GET", fmt.Sprintf("/api/v1/cases/%d/documents/806.20", e.log4jCase), nil)
	if res.StatusCode != 409 || !strings.Contains(body, "vigil report 806 --case") {
		t.Errorf("806.20 of a reportable correction: %d %s", res.StatusCode, body)
	}
	res, _ = c.api("GET", fmt.Sprintf("/api/v1/cases/%d/documents/816", e.log4jCase), nil)
	if res.StatusCode != 400 {
		t.Errorf("an unknown kind: %d, want 400", res.StatusCode)
	}
}
