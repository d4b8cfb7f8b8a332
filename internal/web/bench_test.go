package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
)

// BenchmarkScreens renders the busiest screens in-process (no network), on the fixture, signed in with a token:
// what one request costs the server.
func BenchmarkScreens(b *testing.B) {
	e := newEnv(b, store.SQLite)
	tok := e.token(vigil.RoleViewer)
	for _, p := range []string{"/", "/findings", fmt.Sprintf("/findings/%d", e.log4j), "/api/v1/findings", fmt.Sprintf("/api/v1/findings/%d", e.log4j)} {
		b.Run(p, func(b *testing.B) {
			req := httptest.NewRequest("GET", p, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			for b.Loop() {
				rec := httptest.NewRecorder()
				e.web.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", p, rec.Code)
				}
			}
		})
	}
}
