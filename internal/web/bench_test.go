package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/store"
)

// BenchmarkScreens renders the busiest screens in-process (no network), on the fixture, signed in with a token:
// what one request costs the server.
func BenchmarkScreens(b *testing.B) {
	e := newEnv(b, store.SQLite)
	tok := e.token(vigil.RoleViewer)
	for _, p := range []string{"/", "/cases", fmt.Sprintf("/cases/%d", e.log4jCase), "/findings", fmt.Sprintf("/findings/%d", e.log4j), "/api/v1/findings", fmt.Sprintf("/api/v1/findings/%d", e.log4j)} {
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

// BenchmarkReportBurst sends a burst of public reports (POST /api/v1/intake, 2,000 requests from 32 clients at
// once, over HTTP) under the default limits (10 per address and 200 overall per hour): from one address, and from
// 2,000 addresses behind a trusted proxy. It reports what was accepted and refused and the rates: refusals cost no
// database work, so the server turns a flood away at the rate it can answer HTTP. Run it with -benchtime 1x (the
// buckets refill only by the hour).
func BenchmarkReportBurst(b *testing.B) {
	for _, spread := range []struct {
		name  string
		addrs int
	}{{"one-address", 1}, {"many-addresses", 2000}} {
		b.Run(spread.name, func(b *testing.B) {
			e := newEnv(b, store.SQLite, func(o *app.ServeOptions) { o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
			const total, workers = 2000, 32
			var accepted, refused, other atomic.Int64
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
			body := `{"product":"Infusio IP-3","title":"Telnet open","description":"Port 23 answers."}`
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				var wg sync.WaitGroup
				next := atomic.Int64{}
				for range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := next.Add(1); i <= total; i = next.Add(1) {
							req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/intake", strings.NewReader(body))
							req.Header.Set("Content-Type", "application/json")
							a := int(i) % spread.addrs
							req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", a/65536, a/256%256, a%256))
							res, err := client.Do(req)
							if err != nil {
								other.Add(1)
								continue
							}
							io.Copy(io.Discard, res.Body)
							res.Body.Close()
							switch res.StatusCode {
							case http.StatusCreated:
								accepted.Add(1)
							case http.StatusTooManyRequests:
								refused.Add(1)
							default:
								other.Add(1)
							}
						}
					}()
				}
				wg.Wait()
			}
			secs := time.Since(start).Seconds()
			if other.Load() != 0 {
				b.Fatalf("%d requests neither accepted nor refused with 429", other.Load())
			}
			b.ReportMetric(float64(accepted.Load()), "accepted")
			b.ReportMetric(float64(refused.Load()), "refused")
			b.ReportMetric(float64(accepted.Load()+refused.Load())/secs, "req/s")
			b.ReportMetric(float64(accepted.Load())/secs, "accepted/s")
			b.ReportMetric(float64(refused.Load())/secs, "refused/s")
		})
	}
}
