package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestServeMatchesWhatACrashLeftUnmatched: an import committed, then the process died before re-matching (here:
// the importer is called without the re-match that follows it everywhere). `serve` re-matches it at start, and
// /readyz answers 200 only once that is done. It used to leave the findings unopened until the next import.
func TestServeMatchesWhatACrashLeftUnmatched(t *testing.T) {
	sbom := testfix.Path(t, "sbom-shelter-spdx", "in-the-lab", "spdx-syft-balenalib_apalis-imx6q-alpine-python-sha256_72b4e6d24e42e7012033e18f231dae3e9c821453c7d8147f52848485f33a10ef.json")
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := app.CLIContext(context.Background())
			dsn := storetest.MigratedDSN(t, engine)
			a, err := app.Open(ctx, dsn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			// The importer on its own store handle: the crash comes between its commit and the re-match.
			db, err := store.Open(ctx, dsn, vigil.SystemClock{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := a.Portfolio.CreateOrg(ctx, &vigil.Organization{Name: "Acme"}); err != nil {
				t.Fatal(err)
			}
			d := &vigil.Device{Name: "Workstation", Class: "II", Pathway: vigil.Pathway510k}
			if err := a.Portfolio.CreateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
			v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
			if err := a.Portfolio.CreateVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
			f, _ := os.Open(sbom)
			_, err = a.Portfolio.ImportSBOM(ctx, v.ID, f, sbom, portfolio.SBOMOptions{})
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			im := &importer.Importer{Store: db}
			if _, err := im.Import(ctx, []string{testfix.Path(t, "osv-corpus", "PyPI", "all.zip")}, vigil.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			if fs, err := a.Cases.Findings(ctx, vigil.FindingFilter{VersionID: v.ID}); err != nil || len(fs) != 0 {
				t.Fatalf("before serve: %d findings, %v; want none (the re-match never ran)", len(fs), err)
			}

			sctx, stop := context.WithCancel(context.Background())
			addr := make(chan string, 1)
			served := make(chan error, 1)
			go func() {
				served <- a.Serve(sctx, app.ServeOptions{Addr: "127.0.0.1:0", Ready: func(s string) { addr <- s }})
			}()
			base := "http://" + <-addr
			var ready struct {
				Ready  bool   `json:"ready"`
				Reason string `json:"reason"`
			}
			for { // until the start-up work is done (503 while it runs; anything else ends the wait)
				res, err := http.Get(base + "/readyz")
				if err != nil {
					t.Fatal(err)
				}
				json.NewDecoder(res.Body).Decode(&ready)
				res.Body.Close()
				if res.StatusCode != http.StatusServiceUnavailable {
					if res.StatusCode != http.StatusOK || !ready.Ready {
						t.Errorf("/readyz = %d %+v, want 200 ready", res.StatusCode, ready)
					}
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			fs, err := a.Cases.Findings(ctx, vigil.FindingFilter{VersionID: v.ID, Vuln: "PYSEC-2023-228"})
			if err != nil || len(fs) != 1 || fs[0].Component.Name != "pip" {
				t.Errorf("after serve started: findings %v, %v; want pip's PYSEC-2023-228 opened", fs, err)
			}
			stop()
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
}
