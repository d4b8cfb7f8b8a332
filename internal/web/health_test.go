package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
)

// TestHealthzAndReadyz: /healthz reports the store's real state (it answered 200 while every write failed), and
// /readyz whether the server can serve now; neither shows an unexpected error's detail.
func TestHealthzAndReadyz(t *testing.T) {
	full := vigil.Errorf(vigil.EUNAVAILABLE, "the database's disk is full: free space on the server, then try again")
	for _, tt := range []struct {
		name                  string
		read, write, starting error
		healthCode, readyCode int
		healthBody, readyBody string
	}{
		{"healthy", nil, nil, nil, 200, 200,
			`{"database":{"read":"ok","write":"ok"},"status":"ok"}`, `{"ready":true}`},
		{"disk full: reads work, writes fail", nil, full, nil, 503, 503,
			`{"database":{"read":"ok","write":"the database's disk is full: free space on the server, then try again"},"status":"degraded"}`,
			`{"ready":false,"reason":"the database's disk is full: free space on the server, then try again"}`},
		{"an unexpected failure is not shown", errors.New("SELECT 1: driver: secret detail"), errors.New("x"), nil, 503, 503,
			`{"database":{"read":"failed (see the server log)","write":"failed (see the server log)"},"status":"unavailable"}`,
			`{"ready":false,"reason":"failed (see the server log)"}`},
		{"starting", nil, nil, vigil.Errorf(vigil.EUNAVAILABLE, "starting: re-matching"), 200, 503,
			`{"database":{"read":"ok","write":"ok"},"status":"ok"}`, `{"ready":false,"reason":"starting: re-matching"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Services{
				Health:   func(context.Context) (error, error) { return tt.read, tt.write },
				Starting: func() error { return tt.starting },
			}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				path string
				code int
				body string
			}{{"/healthz", tt.healthCode, tt.healthBody}, {"/readyz", tt.readyCode, tt.readyBody}} {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, c.path, nil))
				if w.Code != c.code {
					t.Errorf("%s: status %d, want %d", c.path, w.Code, c.code)
				}
				if diff := cmp.Diff(c.body, compactJSON(t, w.Body.Bytes())); diff != "" {
					t.Errorf("%s body (-want +got):\n%s", c.path, diff)
				}
			}
		})
	}
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return buf.String()
}
