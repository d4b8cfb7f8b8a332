package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// fuzzRun is a run that parses but writes nothing: a zero IntelWriter knows no document.
func fuzzRun() *run {
	return &run{opt: vigil.ImportOptions{Source: "auto"}, w: &store.IntelWriter{}, ctx: context.Background(),
		lim: untrusted.Limits{MaxFileSize: 1 << 20, MaxRecordSize: 1 << 20, MaxTotalSize: 8 << 20, MaxEntries: 1000}.WithDefaults()}
}

// checkResult states what every worker result must satisfy whatever the input: nothing kept without a source and a
// digest, every rejection named, and a rejected whole document never kept.
func checkResult(t *testing.T, res *result) {
	t.Helper()
	if res.err != nil || res.skip || res.known {
		return
	}
	for _, rj := range res.rejects {
		if rj.File == "" || rj.Error == "" || res.firstErr == nil {
			t.Fatalf("a rejection without file or reason: %+v", rj)
		}
	}
	if res.doc == nil {
		if len(res.advs) > 0 || res.kev != nil || res.epss != nil {
			t.Fatal("records kept without their document")
		}
		if len(res.rejects) == 0 {
			t.Fatal("a document dropped without a rejection")
		}
		return
	}
	if res.doc.Source == "" || len(res.doc.Digest) != 64 || res.doc.Gzip == nil || res.doc.Rejected != len(res.rejects) {
		t.Fatalf("document %+v", res.doc)
	}
	for _, p := range res.advs {
		if p.Advisory.ID == "" || len(p.Digest) != 64 {
			t.Fatalf("advisory %+v", p.Advisory)
		}
	}
}

func FuzzProcess(f *testing.F) {
	for _, s := range []string{
		`{"id":"GO-2024-0001","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-1"],"affected":[{"package":{"ecosystem":"Go","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]}]}`,
		"id: PYSEC-2021-1\nmodified: 2021-01-01T00:00:00Z\naffected:\n- package:\n    ecosystem: PyPI\n    name: x\n  versions: ['1.0']\n",
		"#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000\ncve,epss,percentile\nCVE-1999-0001,0.00383,0.73075\nCVE-1999-0002,2,0.5\n",
		"cveID,vendorProject,product,vulnerabilityName,dateAdded,shortDescription,requiredAction,dueDate,knownRansomwareCampaignUse,notes,cwes\nCVE-2021-1,v,p,n,2021-11-03,d,a,2021-11-17,Unknown,,CWE-79\n",
		`{"resultsPerPage":1,"startIndex":0,"totalResults":1,"format":"NVD_CVE","version":"2.0","vulnerabilities":[{"cve":{"id":"CVE-2021-1","published":"2021-01-01T00:00:00.000","lastModified":"2021-01-01T00:00:00.000","vulnStatus":"Analyzed","descriptions":[{"lang":"en","value":"x"}]}}]}`,
		`{"document":{"category":"csaf_security_advisory","csaf_version":"2.0","title":"t","publisher":{"category":"vendor","name":"V","namespace":"https://v.example"},"tracking":{"id":"V-1","version":"1","status":"final","initial_release_date":"2024-01-01T00:00:00Z","current_release_date":"2024-01-01T00:00:00Z","revision_history":[{"number":"1","date":"2024-01-01T00:00:00Z","summary":"s"}]}},"vulnerabilities":[{"cve":"CVE-2024-2"}]}`,
		`{"type":"bundle","id":"bundle--1","objects":[{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--1","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"CVE-2024-3","external_references":[{"source_name":"cve","external_id":"CVE-2024-3"}]}]}`,
		`{"feed":{"entry":[]}}`, `[]`, ``, "\x1f\x8b\x08", `{"id":"X","modified":"not a time"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fuzzRun()
		res := r.process(&job{name: "fuzz.json", raw: data, size: int64(len(data))}, &decoder{})
		checkResult(t, res)
	})
}

func FuzzZipArchive(f *testing.F) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range []struct{ name, body string }{
		{"GO-2024-0001.json", `{"id":"GO-2024-0001","modified":"2024-01-01T00:00:00Z"}`},
		{"README.md", "side file"},
		{"PYSEC-2024-1.json", `{"id":"PYSEC-2024-1","modified":"x"}`},
	} {
		w, _ := zw.Create(e.name)
		io.WriteString(w, e.body)
	}
	zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fuzzRun()
		files, err := zipEntries("fuzz.zip", bytes.NewReader(data), int64(len(data)), r.lim)
		if err != nil {
			return
		}
		budget := untrusted.NewBudget(r.lim.MaxTotalSize)
		var dec decoder
		for _, zf := range files {
			var comp []byte
			if zf.UncompressedSize64 <= uint64(r.lim.MaxRecordSize) && zf.CompressedSize64 <= uint64(r.lim.MaxRecordSize) {
				rr, err := zf.OpenRaw()
				if err != nil {
					continue
				}
				comp = make([]byte, zf.CompressedSize64)
				if _, err := io.ReadFull(rr, comp); err != nil {
					continue
				}
			}
			res := r.process(&job{name: "fuzz.zip!" + zf.Name, zf: zf, comp: comp, budget: budget, hint: new(atomicString)}, &dec)
			checkResult(t, res)
		}
	})
}
