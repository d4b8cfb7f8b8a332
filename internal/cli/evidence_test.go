package cli_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestEvidencePackage exports a signed case's evidence package and verifies it offline as an inspector would on
// another machine (no database: the store is removed first on SQLite), with the audit key pinned or the
// package's own; a changed, removed or added file then fails the verification (exit 1) naming the file.
func TestEvidencePackage(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			key := filepath.Join(dir, "audit.key")
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.unsigned()
			out := r.ok("--audit-key", key, "audit", "keygen")
			pub := regexp.MustCompile(`public key (\S+)`).FindStringSubmatch(out)[1]
			k := func(args ...string) string { return r.ok(append([]string{"--audit-key", key}, args...)...) }
			k("org", "create", "--name", "Acme", "--time-zone", "UTC")
			k("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--number", "K201234", "--functions", "dose delivery=catastrophic")
			k("version", "create", "2.0", "--device", "Pump", "--units", "30")
			d0 := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
			k("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", "2.0", "--learned", d0, "--reason", "researcher report")
			k("case", "assess", "1", "--date", d0, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery", "--rationale", "remote dose change")
			if code, _, errs := r.run("correct horse battery staple\n", "--audit-key", key, "user", "add", "rita", "--role", "regulatory", "--full-name", "Rita Q. Regulatory"); code != 0 {
				t.Fatal(errs)
			}
			if code, _, errs := r.run("correct horse battery staple\n", "--audit-key", key, "case", "sign", "1", "--meaning", "approval", "--user", "rita"); code != 0 {
				t.Fatal(errs)
			}
			k("isao", "set", "H-ISAC", "--since", "2020-01-01", "--reason", "member")
			k("share", "1", "--isao", "H-ISAC", "--export", filepath.Join(dir, "share.json"))
			k("device", "create", "--name", "Monitor", "--class", "II", "--pathway", "510k") // another record's event: redacted
			// The audit key rotated after the case's records: the segment carries the rotation whole, the package is
			// signed by the new key, and verification follows the chain to it.
			key2 := filepath.Join(dir, "audit-2.key")
			rot := k("--format", "json", "audit", "rotate-key", "--new-key", key2, "--reason", "yearly rotation")
			pub = regexp.MustCompile(`"public_key": "([^"]+)"`).FindStringSubmatch(rot)[1]
			key = key2
			pkg := filepath.Join(dir, "case-1.zip")
			if code, _, errs := r.run("", "evidence", "export", "--case", "1", "-o", pkg); code != 2 || !strings.Contains(errs, "audit key") {
				t.Fatalf("export without the audit key: exit %d %q", code, errs)
			}
			k("evidence", "export", "--case", "1", "-o", pkg)
			if code, _, errs := r.run("", "--audit-key", key, "evidence", "export", "--case", "1", "-o", pkg); code != 1 || !strings.Contains(errs, "never overwritten") {
				t.Fatalf("export over a package: exit %d %q", code, errs)
			}
			names, files := readZip(t, pkg)
			for _, want := range []string{"manifest.json", "manifest.sig", "checkpoint.json", "audit/segment.jsonl", "case/case.json", "case/signatures.txt",
				"records/cases-1.json", "records/assessments-1.json", "records/signatures-1.json", "documents/premarket.pdf", "documents/premarket.json",
				"isao/shares.json", "isao/signals.json", "isao/H-ISAC/evidence.json", "records/isao_shares-1.json"} {
				if !slices.Contains(names, want) {
					t.Errorf("the package has no %s: %v", want, names)
				}
			}
			if !strings.Contains(string(files["case/signatures.txt"]), "Electronically signed by Rita Q. Regulatory (rita)") {
				t.Errorf("signatures.txt: %s", files["case/signatures.txt"])
			}
			if !strings.Contains(string(files["audit/segment.jsonl"]), `"reason":"yearly rotation"`) {
				t.Errorf("the segment redacts the key rotation:\n%s", files["audit/segment.jsonl"])
			}
			if strings.Contains(string(files["audit/segment.jsonl"]), "Monitor") || !strings.Contains(string(files["audit/segment.jsonl"]), `"redacted":true`) {
				t.Errorf("the segment discloses another record's event or redacts none:\n%s", files["audit/segment.jsonl"])
			}
			// The device's package for this year: its documents, the case as a case package has it, the share, the
			// §IX evidence; verified offline, and a case file changed in it is detected.
			devPkg := filepath.Join(dir, "pump.zip")
			year := time.Now().UTC().Format("2006")
			if code, _, errs := r.run("", "--audit-key", key, "evidence", "export", "--device", "Pump", "-o", devPkg); code != 2 || !strings.Contains(errs, "--period") {
				t.Fatalf("a device package without its period: exit %d %q", code, errs)
			}
			k("evidence", "export", "--device", "Pump", "--period", year, "-o", devPkg)
			dnames, dfiles := readZip(t, devPkg)
			for _, want := range []string{"device/period.json", "device/documents/524b.pdf", "device/documents/cmp.json", "cases/1/case/case.json", "cases/1/case/signatures.txt",
				"cases/1/documents/premarket.pdf", "cases/1/isao/H-ISAC/evidence.csv", "isao/shares.json", "isao/evidence-H-ISAC.json", "records/devices-1.json", "records/cases-1.json", "records/isao_shares-1.json"} {
				if !slices.Contains(dnames, want) {
					t.Errorf("the device package has no %s: %v", want, dnames)
				}
			}
			if !strings.Contains(string(dfiles["isao/shares.json"]), `"method": "exported"`) || !strings.Contains(string(dfiles["isao/evidence-H-ISAC.json"]), `"shared_cases": [`) {
				t.Errorf("the ISAO files lack the share: %s", dfiles["isao/shares.json"])
			}
			if strings.Contains(string(dfiles["audit/segment.jsonl"]), "Monitor") {
				t.Errorf("the device package's segment discloses another device's event")
			}
			if code, out, errs := r.run("", "audit", "verify", "--package", devPkg, "--key", pub); code != 0 || !strings.HasPrefix(out, "ok: device 1 period "+year) {
				t.Fatalf("verify the device package: exit %d %q %q", code, out, errs)
			}
			badDev := filepath.Join(dir, "pump-changed.zip")
			writeZip(t, badDev, dnames, dfiles, func(f map[string][]byte) { f["isao/shares.json"] = []byte("[]\n") })
			if code, out, _ := r.run("", "audit", "verify", "--package", badDev, "--key", pub); code != 1 || !strings.Contains(out, "isao/shares.json: its SHA-256 is not the manifest's") {
				t.Errorf("a changed share log: exit %d %q", code, out)
			}
			if engine == "sqlite" {
				os.Remove(strings.TrimPrefix(r.db, "sqlite:")) // offline: verification opens no database
			}
			var rep struct {
				OK             bool
				Files, Records int
			}
			json.Unmarshal([]byte(r.ok("--format", "json", "audit", "verify", "--package", pkg, "--key", pub)), &rep)
			// 7 of the records (and their files), with signing-policy.txt and .json, are the signing policy this test
			// switched off (r.unsigned), which every package states.
			if !rep.OK || rep.Records != 13 || rep.Files != 28 {
				t.Fatalf("verify --package = %+v", rep)
			}
			if code, out, errs := r.run("", "audit", "verify", "--package", pkg); code != 0 || !strings.HasPrefix(out, "ok: case 1;") || !strings.Contains(errs, pub) {
				t.Fatalf("verify with the package's own key: exit %d %q %q", code, out, errs)
			}
			for _, tc := range []struct {
				name string
				edit func(map[string][]byte)
				want string
			}{
				{"changed", func(f map[string][]byte) { f["documents/premarket.json"] = append(f["documents/premarket.json"], ' ') }, "documents/premarket.json: its SHA-256 is not the manifest's"},
				{"removed", func(f map[string][]byte) { delete(f, "records/signatures-1.json") }, "records/signatures-1.json: listed in the manifest but not in the package"},
				{"added", func(f map[string][]byte) { f["documents/extra.pdf"] = []byte("%PDF-1.7") }, "documents/extra.pdf: in the package but not in the manifest"},
			} {
				bad := filepath.Join(dir, tc.name+".zip")
				writeZip(t, bad, names, files, tc.edit)
				if code, out, _ := r.run("", "audit", "verify", "--package", bad, "--key", pub); code != 1 || !strings.Contains(out, tc.want) {
					t.Errorf("a file %s: exit %d %q, want exit 1 naming %q", tc.name, code, out, tc.want)
				}
			}
		})
	}
}

func readZip(t *testing.T, path string) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
		names = append(names, f.Name)
	}
	return names, files
}

func writeZip(t *testing.T, path string, names []string, files map[string][]byte, edit func(map[string][]byte)) {
	t.Helper()
	cp := map[string][]byte{}
	for k, v := range files {
		cp[k] = bytes.Clone(v)
	}
	edit(cp)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names = slices.Clone(names)
	for k := range cp {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	for _, n := range names {
		if b, ok := cp[n]; ok {
			w, _ := zw.Create(n)
			w.Write(b)
		}
	}
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
