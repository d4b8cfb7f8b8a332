package regulatory

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestExploitabilitySubScoreNVD checks the sub-score against the exploitabilityScore NVD publishes for every
// v3.0/v3.1 metric in the NVD API 2.0 fixtures, rounding included.
func TestExploitabilitySubScoreNVD(t *testing.T) {
	type metric struct {
		CVSSData struct {
			VectorString string `json:"vectorString"`
		} `json:"cvssData"`
		ExploitabilityScore float64 `json:"exploitabilityScore"`
	}
	var page struct {
		Vulnerabilities []struct {
			CVE struct {
				ID      string `json:"id"`
				Metrics struct {
					V30 []metric `json:"cvssMetricV30"`
					V31 []metric `json:"cvssMetricV31"`
				} `json:"metrics"`
			} `json:"cve"`
		} `json:"vulnerabilities"`
	}
	checked := 0
	for _, file := range [][]string{
		{"nvd-api-2.0", "vunnel", "full-page.json"},
		{"nvd-api-2.0", "vunnel", "single-entry.json"},
		{"nvd-api-2.0", "fkie-cad", "CVE-2019-10964.json"},
	} {
		data, err := os.ReadFile(testfix.Path(t, file...))
		if err != nil {
			t.Fatal(err)
		}
		page.Vulnerabilities = nil
		if err := json.Unmarshal(data, &page); err != nil {
			t.Fatalf("%s: %v", file[len(file)-1], err)
		}
		for _, v := range page.Vulnerabilities {
			for _, m := range append(v.CVE.Metrics.V30, v.CVE.Metrics.V31...) {
				got, ok := ExploitabilitySubScore(m.CVSSData.VectorString)
				if !ok || got != m.ExploitabilityScore {
					t.Errorf("%s %s: sub-score %v (ok %v), NVD says %v", v.CVE.ID, m.CVSSData.VectorString, got, ok, m.ExploitabilityScore)
				}
				checked++
			}
		}
	}
	if checked < 40 {
		t.Fatalf("checked %d NVD metrics; the fixtures hold more than 40", checked)
	}
	t.Logf("checked %d NVD v3 metrics", checked)
}

func TestExploitabilityLevel(t *testing.T) {
	tests := []struct {
		vector string
		want   string
		ok     bool
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ExploitHigh, true},   // 3.9
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", ExploitHigh, true},   // 2.8
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H", ExploitMedium, true}, // 2.3
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N", ExploitMedium, true}, // 1.6
		{"CVSS:3.1/AV:A/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H", ExploitLow, true},    // 1.5
		{"CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", ExploitLow, true},    // 0.9
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "", false},
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", "", false},
		{"CVSS:3.1/AV:N/AC:L", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		sub, ok := ExploitabilitySubScore(tt.vector)
		if ok != tt.ok {
			t.Errorf("ExploitabilitySubScore(%q) ok = %v, want %v", tt.vector, ok, tt.ok)
			continue
		}
		if ok && ExploitabilityLevel(sub) != tt.want {
			t.Errorf("%s: sub-score %v is %s, want %s", tt.vector, sub, ExploitabilityLevel(sub), tt.want)
		}
	}
}

func TestCVSSKind(t *testing.T) {
	tests := []struct {
		vector, kind string
		ok           bool
	}{
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.0", true},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", true},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", true},
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0", true},
		{"(AV:N/AC:L/Au:N/C:P/I:P/A:P)", "2.0", true},
		{"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", false},
		{"CVSS:5.0/AV:N", "", false},
		{"high", "2.0", false},
	}
	for _, tt := range tests {
		kind, ok := cvssKind(tt.vector)
		if kind != tt.kind || ok != tt.ok {
			t.Errorf("cvssKind(%q) = %q, %v; want %q, %v", tt.vector, kind, ok, tt.kind, tt.ok)
		}
	}
}
