package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
)

// The JSON contract of vigil scan as structs: what encoding/json makes of them is the reference writeScanJSON's
// output must equal byte for byte.
type refFinding struct {
	Component     refComponent `json:"component"`
	Vulnerability string       `json:"vulnerability"`
	Aliases       []string     `json:"aliases"`
	State         string       `json:"state"`
	Evidence      refEvidence  `json:"evidence"`
}

type refComponent struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Purl    string `json:"purl"`
	CPE     string `json:"cpe,omitempty"`
}

type refEvidence struct {
	Matcher  string `json:"matcher"`
	Range    string `json:"range"`
	Fixed    string `json:"fixed"`
	Source   string `json:"source,omitempty"`
	Advisory string `json:"advisory,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

func refScanJSON(res *portfolio.ScanResult) string {
	doc := struct {
		Components int          `json:"components"`
		Findings   []refFinding `json:"findings"`
	}{len(res.Document.Components), []refFinding{}}
	for _, f := range res.Findings {
		aliases := f.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		doc.Findings = append(doc.Findings, refFinding{
			Component:     refComponent{f.Component.Name, f.Component.Version, f.Component.Purl, f.Component.CPE},
			Vulnerability: f.Vulnerability, Aliases: aliases, State: string(f.State),
			Evidence: refEvidence{f.Evidence.Matcher, f.Evidence.Range, f.Evidence.Fixed, f.Evidence.Source, f.Evidence.Advisory, f.Evidence.Reason},
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(doc)
	return buf.String()
}

// TestWriteScanJSON writes findings with every optional field set and unset, no, one and several aliases, and
// strings that need escaping (quotes, backslashes, HTML characters, control characters, U+2028, invalid UTF-8,
// non-ASCII), and compares the output with encoding/json's indentation of the contract's structs.
func TestWriteScanJSON(t *testing.T) {
	odd := []string{`say "hi"`, `C:\path`, "<a&b>", "tab\there\nline\x01\x1f", "sep\u2028par\u2029", "bad\xffutf8", "Grüße — 日本", ""}
	var fs []vigil.Finding
	for i := range 64 {
		f := vigil.Finding{
			Component:     vigil.Component{Name: fmt.Sprintf("pkg-%d", i), Version: odd[i%len(odd)], Purl: "pkg:npm/pkg@" + odd[(i+1)%len(odd)]},
			Vulnerability: fmt.Sprintf("GHSA-%04d", i),
			State:         vigil.FindingOpen,
			Evidence:      vigil.Evidence{Matcher: "osv-ecosystem:npm", Range: ">=0 (SEMVER)", Fixed: odd[(i+2)%len(odd)]},
		}
		if i&1 != 0 {
			f.Component.CPE = "cpe:2.3:a:v:" + odd[(i+3)%len(odd)] + ":1:*:*:*:*:*:*:*"
		}
		if i&2 != 0 {
			f.Evidence.Source = "osv"
		}
		if i&4 != 0 {
			f.Evidence.Advisory = odd[(i+4)%len(odd)] + "x"
		}
		if i&8 != 0 {
			f.State, f.Evidence.Reason = vigil.FindingCouldNotEval, "version "+odd[(i+5)%len(odd)]+" cannot be ordered"
		}
		switch i % 3 {
		case 1:
			f.Aliases = []string{"CVE-2024-" + odd[i%len(odd)]}
		case 2:
			f.Aliases = []string{"CVE-2024-1", "PYSEC-2024-2", odd[(i+6)%len(odd)]}
		}
		fs = append(fs, f)
	}
	for _, res := range []*portfolio.ScanResult{
		{Document: &sbom.Document{Components: make([]vigil.Component, 3)}},
		{Document: &sbom.Document{Components: make([]vigil.Component, 64)}, Findings: fs},
	} {
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		if err := writeScanJSON(w, res); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if diff := cmp.Diff(refScanJSON(res), buf.String()); diff != "" {
			t.Errorf("%d findings (-encoding/json +writeScanJSON):\n%s", len(res.Findings), diff)
		}
	}
}
