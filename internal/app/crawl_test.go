package app_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// links are the same-site references a page makes a browser follow or fetch.
var links = regexp.MustCompile(`(?:href|src)="(/[^"]*)"`)

// TestEveryLinkResolves signs in to the demo as the admin and follows every link the screens show, from the
// dashboard outwards: a screen added or renamed without its links, a template that fails on the demo's data, or a
// page served without its security headers shows here rather than to a user.
func TestEveryLinkResolves(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			srv, pw := newDemo(t, engine)
			c := client(t)
			if code, _ := login(t, c, srv.URL, "admin", pw); code != http.StatusOK {
				t.Fatalf("login: %d", code)
			}
			const maxPages, maxVariants = 3000, 3 // the demo's screens, with a few query variants of each
			seen := map[string]bool{}
			variants := map[string]int{}
			queue := []string{"/"}
			from := map[string]string{"/": "(start)"}
			for len(queue) > 0 && len(seen) < maxPages {
				p := queue[0]
				queue = queue[1:]
				res, err := c.Get(srv.URL + p)
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				body := string(b)
				ctype := res.Header.Get("Content-Type")
				if res.StatusCode >= 400 {
					t.Errorf("GET %s (linked from %s): %d", p, from[p], res.StatusCode)
					continue
				}
				if !strings.HasPrefix(ctype, "text/html") {
					continue
				}
				for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
					if res.Header.Get(h) == "" {
						t.Errorf("GET %s: no %s header", p, h)
					}
				}
				for _, bad := range []string{"<no value>", "%!", "map[", "0001-01-01"} {
					if strings.Contains(body, bad) {
						t.Errorf("GET %s: the page shows %q (a template or formatting fault)", p, bad)
					}
				}
				for _, m := range links.FindAllStringSubmatch(body, -1) {
					next := html.UnescapeString(m[1])
					if strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/logout") {
						continue
					}
					u, err := url.Parse(next)
					if err != nil {
						t.Errorf("GET %s links to %q: %v", p, next, err)
						continue
					}
					u.Fragment = ""
					key := u.String()
					if seen[key] {
						continue
					}
					if u.RawQuery != "" {
						if variants[u.Path] >= maxVariants {
							continue
						}
						variants[u.Path]++
					}
					seen[key] = true
					from[key] = p
					queue = append(queue, key)
				}
			}
			if len(seen) < 40 {
				t.Errorf("followed %d links: the demo's screens link to more than that", len(seen))
			}
			t.Logf("%s: followed %d links", engine, len(seen))
		})
	}
}
