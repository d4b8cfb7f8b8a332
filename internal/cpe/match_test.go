package cpe_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// nvdConfig is NVD API 2.0's configuration JSON. The root types carry Vigil's own JSON names, so the test
// decodes NVD's and converts.
type nvdConfig struct {
	Operator string `json:"operator"`
	Negate   bool   `json:"negate"`
	Nodes    []struct {
		Operator string `json:"operator"`
		Negate   bool   `json:"negate"`
		CPEMatch []struct {
			Vulnerable            bool   `json:"vulnerable"`
			Criteria              string `json:"criteria"`
			VersionStartIncluding string `json:"versionStartIncluding"`
			VersionStartExcluding string `json:"versionStartExcluding"`
			VersionEndIncluding   string `json:"versionEndIncluding"`
			VersionEndExcluding   string `json:"versionEndExcluding"`
		} `json:"cpeMatch"`
	} `json:"nodes"`
}

type nvdCVE struct {
	ID             string      `json:"id"`
	Configurations []nvdConfig `json:"configurations"`
}

func (c nvdConfig) convert() vigil.CPEConfig {
	out := vigil.CPEConfig{Operator: c.Operator, Negate: c.Negate}
	for _, n := range c.Nodes {
		node := vigil.CPENode{Operator: n.Operator, Negate: n.Negate}
		for _, m := range n.CPEMatch {
			node.Matches = append(node.Matches, vigil.CPEMatch{
				Vulnerable: m.Vulnerable, Criteria: m.Criteria,
				VersionStartIncluding: m.VersionStartIncluding, VersionStartExcluding: m.VersionStartExcluding,
				VersionEndIncluding: m.VersionEndIncluding, VersionEndExcluding: m.VersionEndExcluding,
			})
		}
		out.Nodes = append(out.Nodes, node)
	}
	return out
}

// loadCVE reads a bare NVD cve object (fkie-cad) or every cve of an API response page (vunnel).
func loadCVEs(t *testing.T, elem ...string) map[string][]vigil.CPEConfig {
	t.Helper()
	b, err := os.ReadFile(testfix.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Vulnerabilities []struct {
			CVE nvdCVE `json:"cve"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	cves := []nvdCVE{}
	for _, v := range page.Vulnerabilities {
		cves = append(cves, v.CVE)
	}
	if len(cves) == 0 {
		var one nvdCVE
		if err := json.Unmarshal(b, &one); err != nil {
			t.Fatal(err)
		}
		cves = append(cves, one)
	}
	out := map[string][]vigil.CPEConfig{}
	for _, c := range cves {
		for _, cfg := range c.Configurations {
			out[c.ID] = append(out[c.ID], cfg.convert())
		}
	}
	return out
}

// anyConfig evaluates every configuration of a CVE and reports whether one matched, with its evidence.
func anyConfig(t *testing.T, cfgs []vigil.CPEConfig, have []cpe.Item) (bool, []string, error) {
	t.Helper()
	var firstErr error
	for _, cfg := range cfgs {
		ok, ev, err := cpe.Evaluate(cfg, have)
		if ok {
			return true, ev, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return false, nil, firstErr
}

// TestEvaluateMedtronic uses CVE-2019-10964 (Medtronic MiniMed insulin pumps, ICSMA-19-178-01): 19 configurations,
// each "firmware AND the pump it runs on".
func TestEvaluateMedtronic(t *testing.T) {
	cfgs := loadCVEs(t, "nvd-api-2.0", "fkie-cad", "CVE-2019-10964.json")["CVE-2019-10964"]
	if len(cfgs) != 19 {
		t.Fatalf("%d configurations, want 19", len(cfgs))
	}
	const (
		fw523  = "cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:*:*:*:*:*:*:*:*"
		hw523  = "cpe:2.3:h:medtronic:minimed_paradigm_523:-:*:*:*:*:*:*:*"
		fw508  = "cpe:2.3:o:medtronic:minimed_508_firmware:*:*:*:*:*:*:*:*"
		hw508  = "cpe:2.3:h:medtronic:minimed_508:-:*:*:*:*:*:*:*"
		hw554c = "cpe:2.3:h:medtronic:minimed_paradigm_veo_554cm:*:*:*:*:*:*:*:*"
		fw554c = "cpe:2.3:o:medtronic:minimed_paradigm_veo_554cm_firmware:*:*:*:*:*:*:*:*"
	)
	tests := []struct {
		name     string
		have     []cpe.Item
		want     bool
		wantErr  bool
		evidence []string
	}{
		{
			name: "firmware 2.4a on its pump",
			have: []cpe.Item{{CPE: fw523, Version: "2.4a", Ref: "pump firmware"}, {CPE: hw523, Ref: "pump"}},
			want: true,
			evidence: []string{
				"pump firmware matched " + fw523 + " <=2.4a (vulnerable, version 2.4a)",
				"pump matched " + hw523 + " (platform)",
			},
		},
		{
			name: "older firmware, version in the CPE",
			have: []cpe.Item{{CPE: "cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:2.1:*:*:*:*:*:*:*"},
				{CPE: hw523}},
			want: true,
			evidence: []string{
				"cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:2.1:*:*:*:*:*:*:* matched " + fw523 +
					" <=2.4a (vulnerable, version 2.1)",
				hw523 + " matched " + hw523 + " (platform)",
			},
		},
		{name: "fixed firmware 2.4b", have: []cpe.Item{{CPE: fw523, Version: "2.4b"}, {CPE: hw523}}, want: false},
		{name: "firmware 2.5", have: []cpe.Item{{CPE: fw523, Version: "2.5"}, {CPE: hw523}}, want: false},
		{name: "firmware without its pump", have: []cpe.Item{{CPE: fw523, Version: "2.4a"}}, want: false},
		{name: "pump without the firmware", have: []cpe.Item{{CPE: hw523}}, want: false},
		{name: "firmware of one pump on another", have: []cpe.Item{{CPE: fw523, Version: "2.0"}, {CPE: hw508}},
			want: false},
		{name: "any version of 508 firmware", have: []cpe.Item{{CPE: fw508, Version: "9.9"}, {CPE: hw508}},
			want: true},
		{name: "508 firmware of unknown version: the criterion has no bounds",
			have: []cpe.Item{{CPE: fw508}, {CPE: hw508}}, want: true},
		{name: "523 firmware of unknown version cannot be judged",
			have: []cpe.Item{{CPE: fw523}, {CPE: hw523}}, want: false, wantErr: true},
		{name: "the hardware criterion has a bound too: in it",
			have: []cpe.Item{{CPE: fw554c, Version: "2.7a"}, {CPE: hw554c, Version: "2.7"}}, want: true},
		{name: "the hardware criterion has a bound too: past it",
			have: []cpe.Item{{CPE: fw554c, Version: "2.7a"}, {CPE: hw554c, Version: "2.8"}}, want: false},
		{name: "hardware without a version against a bounded criterion",
			have: []cpe.Item{{CPE: fw554c, Version: "2.7a"}, {CPE: hw554c}}, want: false, wantErr: true},
		{name: "upper-case vendor and URI form",
			have: []cpe.Item{{CPE: "cpe:/o:Medtronic:MiniMed_Paradigm_523_Firmware:2.4A"}, {CPE: "cpe:/h:medtronic:minimed_paradigm_523"}},
			want: true},
		{name: "unrelated components", have: []cpe.Item{{CPE: "cpe:2.3:a:openssl:openssl:1.0.2u"}, {Version: "1.0"}},
			want: false},
		{name: "no components", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ev, err := anyConfig(t, cfgs, tt.have)
			if got != tt.want {
				t.Errorf("matched = %v, want %v (evidence %q, err %v)", got, tt.want, ev, err)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if vigil.ErrorCode(err) != vigil.EINVALID || !errors.Is(err, cpe.ErrNoVersion) {
					t.Errorf("err = %v (%s), want EINVALID wrapping ErrNoVersion", err, vigil.ErrorCode(err))
				}
				if !strings.Contains(err.Error(), "nodes[") || !strings.Contains(err.Error(), "cpe_match[0]") {
					t.Errorf("err %q does not name the criterion's path", err)
				}
			}
			if tt.evidence != nil {
				if diff := cmp.Diff(tt.evidence, ev); diff != "" {
					t.Errorf("evidence (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestEvaluateFullPage drives every criterion of a real 38-CVE NVD response page (and a one-CVE page) with components built from the
// criterion itself: a version on each side of each bound must fall in or out.
func TestEvaluateFullPage(t *testing.T) {
	cves := loadCVEs(t, "nvd-api-2.0", "vunnel", "full-page.json")
	single := loadCVEs(t, "nvd-api-2.0", "vunnel", "single-entry.json")
	if len(single["CVE-2022-1576"]) == 0 {
		t.Fatal("single-entry.json: no configurations for CVE-2022-1576")
	}
	for id, cfgs := range single {
		cves[id] = cfgs
	}
	checked := 0
	for id, cfgs := range cves {
		for ci, cfg := range cfgs {
			for ni, n := range cfg.Nodes {
				for mi, m := range n.Matches {
					cr, err := cpe.Parse(m.Criteria)
					if err != nil {
						t.Fatalf("%s configurations[%d].nodes[%d].cpe_match[%d]: %v", id, ci, ni, mi, err)
					}
					comp := cr
					comp.Version = cpe.Any
					type probe struct {
						version string
						want    bool
					}
					var probes []probe
					if v := m.VersionEndExcluding; v != "" {
						probes = append(probes, probe{v, false}, probe{v + "-rc1", m.VersionStartIncluding != v+"-rc1"})
					}
					if v := m.VersionEndIncluding; v != "" {
						probes = append(probes, probe{v, true}, probe{v + ".1", false})
					}
					if v := m.VersionStartIncluding; v != "" {
						probes = append(probes, probe{v, true}, probe{v + "-beta", false})
					}
					if v := m.VersionStartExcluding; v != "" {
						probes = append(probes, probe{v, false}, probe{v + ".1", true})
					}
					if v := cpe.Unquote(cr.Version); v != "" && len(probes) == 0 {
						probes = append(probes, probe{v, true}, probe{v + ".1", false})
					}
					for _, p := range probes {
						got, err := cpe.MatchCriterion(m, comp, p.version)
						if err != nil {
							t.Fatalf("%s %s: %v", id, m.Criteria, err)
						}
						if got != p.want {
							t.Errorf("%s: %s version %s: matched = %v, want %v", id, m.Criteria, p.version, got, p.want)
						}
						checked++
					}
				}
			}
			// The whole configuration holds when every criterion's component is present.
			var have []cpe.Item
			for _, n := range cfg.Nodes {
				for _, m := range n.Matches {
					v := "" // a version inside the bounds
					switch {
					case m.VersionStartIncluding != "":
						v = m.VersionStartIncluding
					case m.VersionEndIncluding != "":
						v = m.VersionEndIncluding
					case m.VersionStartExcluding != "":
						v = m.VersionStartExcluding + ".1"
					case m.VersionEndExcluding != "":
						v = "0"
					}
					have = append(have, cpe.Item{CPE: m.Criteria, Version: v})
				}
			}
			ok, ev, err := cpe.Evaluate(cfg, have)
			if err != nil || !ok || len(ev) == 0 {
				t.Errorf("%s configurations[%d] with every criterion present: matched %v, %d evidence, err %v",
					id, ci, ok, len(ev), err)
			}
		}
	}
	if len(cves) < 20 || checked < 50 {
		t.Fatalf("only %d CVEs with configurations and %d probes: fixture not read?", len(cves), checked)
	}
	t.Logf("%d CVEs, %d probes", len(cves), checked)
}

func TestMatchCriterion(t *testing.T) {
	parse := func(s string) cpe.CPE {
		c, err := cpe.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name     string
		m        vigil.CPEMatch
		comp     string
		version  string
		want     bool
		wantCode string
	}{
		{"exact version", vigil.CPEMatch{Criteria: "cpe:2.3:a:openssl:openssl:1.0.2u:*:*:*:*:*:*:*"},
			"cpe:2.3:a:openssl:openssl:*", "1.0.2u", true, ""},
		{"exact version, other", vigil.CPEMatch{Criteria: "cpe:2.3:a:openssl:openssl:1.0.2u:*:*:*:*:*:*:*"},
			"cpe:2.3:a:openssl:openssl:*", "1.0.2t", false, ""},
		{"equal by value", vigil.CPEMatch{Criteria: "cpe:2.3:a:zlib:zlib:1.2:*:*:*:*:*:*:*"},
			"cpe:2.3:a:zlib:zlib:1.2.0", "", true, ""},
		{"end excluding", vigil.CPEMatch{Criteria: "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
			VersionStartIncluding: "1.0.2", VersionEndExcluding: "1.0.2u"},
			"cpe:2.3:a:openssl:openssl:1.0.2t", "", true, ""},
		{"end excluding, at the bound", vigil.CPEMatch{Criteria: "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
			VersionStartIncluding: "1.0.2", VersionEndExcluding: "1.0.2u"},
			"cpe:2.3:a:openssl:openssl:1.0.2u", "", false, ""},
		{"start excluding", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p:*:*:*:*:*:*:*:*", VersionStartExcluding: "2.0"},
			"cpe:2.3:a:v:p", "2.0.0", false, ""},
		{"start excluding, after", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p:*:*:*:*:*:*:*:*", VersionStartExcluding: "2.0"},
			"cpe:2.3:a:v:p", "2.0.1-beta", true, ""},
		{"version string wins over the CPE's", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p:*:*:*:*:*:*:*:*",
			VersionEndExcluding: "2.0"}, "cpe:2.3:a:v:p:1.0", "3.0", false, ""},
		{"vendor differs", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p:*:*:*:*:*:*:*:*"}, "cpe:2.3:a:w:p", "1", false, ""},
		{"part differs", vigil.CPEMatch{Criteria: "cpe:2.3:h:v:p:*:*:*:*:*:*:*:*"}, "cpe:2.3:o:v:p", "1", false, ""},
		{"any part on the criterion", vigil.CPEMatch{Criteria: "cpe:2.3:*:v:p:*:*:*:*:*:*:*:*"}, "cpe:2.3:o:v:p", "1", true, ""},
		{"any vendor on the component matches nothing", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p:*:*:*:*:*:*:*:*"},
			"cpe:2.3:a:*:p", "1", false, ""},
		{"wildcard product", vigil.CPEMatch{Criteria: "cpe:2.3:o:medtronic:*_firmware:*:*:*:*:*:*:*:*"},
			"cpe:2.3:o:medtronic:minimed_508_firmware", "1", true, ""},
		{"wildcard product, no match", vigil.CPEMatch{Criteria: "cpe:2.3:o:medtronic:*_firmware:*:*:*:*:*:*:*:*"},
			"cpe:2.3:o:medtronic:minimed_508", "1", false, ""},
		{"? wildcards", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p??:*:*:*:*:*:*:*:*"}, "cpe:2.3:a:v:p10", "1", true, ""},
		{"? wildcards count", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p??:*:*:*:*:*:*:*:*"}, "cpe:2.3:a:v:p1", "1", false, ""},
		{"wildcard version", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p:1.2*:*:*:*:*:*:*:*"}, "cpe:2.3:a:v:p", "1.2.7", true, ""},
		{"wildcard version, no match", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p:1.2*:*:*:*:*:*:*:*"}, "cpe:2.3:a:v:p", "1.3", false, ""},
		{"NA version matches any version", vigil.CPEMatch{Criteria: "cpe:2.3:o:apple:macos:-:*:*:*:*:*:*:*"},
			"cpe:2.3:o:apple:macos:13.1", "", true, ""},
		{"target_sw conflicts", vigil.CPEMatch{Criteria: "cpe:2.3:a:automattic:activitypub:*:*:*:*:*:wordpress:*:*"},
			"cpe:2.3:a:automattic:activitypub:*:*:*:*:*:drupal:*:*", "0.9", false, ""},
		{"target_sw unknown on the component", vigil.CPEMatch{Criteria: "cpe:2.3:a:automattic:activitypub:*:*:*:*:*:wordpress:*:*",
			VersionEndExcluding: "1.0.0"}, "cpe:2.3:a:automattic:activitypub", "0.9", true, ""},
		{"update NA against a patch", vigil.CPEMatch{Criteria: "cpe:2.3:a:netapp:clustered_data_ontap:9.8:-:*:*:*:*:*:*"},
			"cpe:2.3:a:netapp:clustered_data_ontap:9.8:p7", "", false, ""},
		{"quoted criterion", vigil.CPEMatch{Criteria: `cpe:2.3:a:v:p\:x:1\.0:*:*:*:*:*:*:*`},
			`cpe:2.3:a:v:p\:x`, "1.0", true, ""},
		{"no version to compare", vigil.CPEMatch{Criteria: "cpe:2.3:a:v:p:*:*:*:*:*:*:*:*", VersionEndExcluding: "2"},
			"cpe:2.3:a:v:p:-", "", false, vigil.EINVALID},
		{"malformed criterion", vigil.CPEMatch{Criteria: "cpe:2.3:a:v"}, "cpe:2.3:a:v:p", "1", false, vigil.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cpe.MatchCriterion(tt.m, parse(tt.comp), tt.version)
			if vigil.ErrorCode(err) != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", vigil.ErrorCode(err), tt.wantCode, err)
			}
			if got != tt.want {
				t.Errorf("MatchCriterion = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEvaluateLogic covers operators, negation and three-valued results on small configurations.
func TestEvaluateLogic(t *testing.T) {
	m := func(crit string, vulnerable bool) vigil.CPEMatch {
		return vigil.CPEMatch{Criteria: crit, Vulnerable: vulnerable}
	}
	app := m("cpe:2.3:a:v:app:*:*:*:*:*:*:*:*", true)
	os := m("cpe:2.3:o:v:rtos:*:*:*:*:*:*:*:*", false)
	bounded := vigil.CPEMatch{Criteria: "cpe:2.3:a:v:lib:*:*:*:*:*:*:*:*", Vulnerable: true, VersionEndExcluding: "2"}
	bad := m("cpe:2.3:a:broken", true)
	node := func(op string, neg bool, ms ...vigil.CPEMatch) vigil.CPENode {
		return vigil.CPENode{Operator: op, Negate: neg, Matches: ms}
	}
	have := []cpe.Item{{CPE: "cpe:2.3:a:v:app:1.0", Ref: "app"}, {CPE: "cpe:2.3:o:v:rtos:4.2", Ref: "rtos"},
		{CPE: "cpe:2.3:a:v:lib:*", Ref: "lib (no version)"}}
	tests := []struct {
		name     string
		cfg      vigil.CPEConfig
		want     bool
		wantCode string
		wantHits int
	}{
		{"single OR node", vigil.CPEConfig{Nodes: []vigil.CPENode{node("OR", false, app)}}, true, "", 1},
		{"AND node", vigil.CPEConfig{Nodes: []vigil.CPENode{node("AND", false, app, os)}}, true, "", 2},
		{"AND of nodes", vigil.CPEConfig{Operator: "AND", Nodes: []vigil.CPENode{node("OR", false, app), node("OR", false, os)}},
			true, "", 2},
		{"lower-case operators", vigil.CPEConfig{Operator: "and", Nodes: []vigil.CPENode{node("or", false, app), node("or", false, os)}},
			true, "", 2},
		{"negated node", vigil.CPEConfig{Operator: "AND", Nodes: []vigil.CPENode{node("OR", false, app), node("OR", true, os)}},
			false, "", 0},
		{"negated absent platform", vigil.CPEConfig{Operator: "AND", Nodes: []vigil.CPENode{node("OR", false, app),
			node("OR", true, m("cpe:2.3:o:v:linux:*:*:*:*:*:*:*:*", false))}}, true, "", 1},
		{"negated configuration", vigil.CPEConfig{Negate: true, Nodes: []vigil.CPENode{node("OR", false, app)}}, false, "", 0},
		{"unknown alone", vigil.CPEConfig{Nodes: []vigil.CPENode{node("OR", false, bounded)}}, false, vigil.EINVALID, 0},
		{"unknown OR match", vigil.CPEConfig{Nodes: []vigil.CPENode{node("OR", false, bounded, app)}}, true, "", 1},
		{"unknown AND miss", vigil.CPEConfig{Nodes: []vigil.CPENode{node("AND", false, bounded,
			m("cpe:2.3:a:v:absent:*:*:*:*:*:*:*:*", true))}}, false, "", 0},
		{"unknown AND match", vigil.CPEConfig{Nodes: []vigil.CPENode{node("AND", false, bounded, app)}}, false, vigil.EINVALID, 0},
		{"negated unknown stays unknown", vigil.CPEConfig{Nodes: []vigil.CPENode{node("OR", true, bounded)}}, false, vigil.EINVALID, 0},
		{"malformed criterion OR match", vigil.CPEConfig{Nodes: []vigil.CPENode{node("OR", false, bad, app)}}, true, "", 1},
		{"malformed criterion alone", vigil.CPEConfig{Nodes: []vigil.CPENode{node("OR", false, bad)}}, false, vigil.EINVALID, 0},
		{"bad operator", vigil.CPEConfig{Operator: "XOR", Nodes: []vigil.CPENode{node("OR", false, app)}}, false, vigil.EINVALID, 0},
		{"bad node operator", vigil.CPEConfig{Nodes: []vigil.CPENode{node("NAND", false, app)}}, false, vigil.EINVALID, 0},
		{"empty configuration", vigil.CPEConfig{}, false, "", 0},
		{"empty node", vigil.CPEConfig{Nodes: []vigil.CPENode{node("AND", false)}}, false, "", 0},
	}
	set, err := cpe.NewSet(have)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, hits, err := set.Evaluate(tt.cfg)
			if vigil.ErrorCode(err) != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", vigil.ErrorCode(err), tt.wantCode, err)
			}
			if got != tt.want || len(hits) != tt.wantHits {
				t.Errorf("Evaluate = %v with %d hits %v, want %v with %d", got, len(hits), hits, tt.want, tt.wantHits)
			}
			ok, ev, err2 := cpe.Evaluate(tt.cfg, have)
			if ok != got || len(ev) != len(hits) || vigil.ErrorCode(err2) != tt.wantCode {
				t.Errorf("Evaluate and Set.Evaluate disagree: %v %d %v", ok, len(ev), err2)
			}
		})
	}
	t.Run("hits say which component is vulnerable", func(t *testing.T) {
		_, hits, err := set.Evaluate(vigil.CPEConfig{Nodes: []vigil.CPENode{node("AND", false, app, os)}})
		if err != nil {
			t.Fatal(err)
		}
		want := []cpe.Hit{
			{Item: 0, Criterion: app.Criteria, Vulnerable: true, Version: "1.0"},
			{Item: 1, Criterion: os.Criteria, Vulnerable: false, Version: "4.2"},
		}
		if diff := cmp.Diff(want, hits); diff != "" {
			t.Errorf("hits (-want +got):\n%s", diff)
		}
	})
}

func TestNewSetErrors(t *testing.T) {
	_, err := cpe.NewSet([]cpe.Item{{CPE: "cpe:2.3:a:v:p"}, {CPE: "cpe:2.3:x:v:p"}})
	if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "have[1].cpe") {
		t.Errorf("err = %v, want EINVALID naming have[1].cpe", err)
	}
	_, _, err = cpe.Evaluate(vigil.CPEConfig{}, []cpe.Item{{CPE: "nonsense"}})
	if vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("Evaluate with a bad item: err = %v, want EINVALID", err)
	}
}
