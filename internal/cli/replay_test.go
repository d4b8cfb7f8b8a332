package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cli"
	"github.com/vigil-dev/vigil/internal/regulatory/scenario"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// replayFacts is what the replay reads of a scenario's facts (DETERMINATION.md).
type replayFacts struct {
	AsOf   string `json:"as_of"`
	Policy struct {
		WorkingDays       string `json:"working_days"`
		RollDeadlines     *bool  `json:"roll_deadlines"`
		ReassessmentClock string `json:"reassessment_clock"`
	} `json:"policy"`
	Device struct {
		Name        string `json:"name"`
		Class       string `json:"class"`
		Pathway     string `json:"pathway"`
		CyberDevice bool   `json:"cyber_device"`
		ISAO        *struct {
			Member            bool   `json:"member"`
			Name              string `json:"name"`
			CriteriaEvidenced bool   `json:"criteria_evidenced"`
		} `json:"isao"`
	} `json:"device"`
	Vulnerability struct {
		ID                  string  `json:"id"`
		Learned             string  `json:"learned"`
		CVSS                string  `json:"cvss"`
		Exploitability      string  `json:"exploitability"`
		Severity            string  `json:"severity"`
		KEV                 bool    `json:"kev"`
		EPSS                *string `json:"epss"`
		ConfidentialityOnly bool    `json:"confidentiality_only"`
		VEXStatus           string  `json:"vex_status"`
		Risk                string  `json:"risk"`
	} `json:"vulnerability"`
	Events []struct {
		Type               string   `json:"type"`
		Date               string   `json:"date"`
		Recorded           string   `json:"recorded"`
		Elements           []string `json:"elements"`
		Validated          bool     `json:"validated"`
		Remediation        string   `json:"remediation"`
		Risk               string   `json:"risk"`
		Interim            bool     `json:"interim"`
		RemedialAction     bool     `json:"remedial_action"`
		IncludesCorrection bool     `json:"includes_correction"`
	} `json:"events"`
}

// clockedRunner runs the CLI with a settable clock: each record is entered on the day the scenario says it was
// recorded, so entry dates (and late entries) are the scenario's.
type clockedRunner struct {
	t     *testing.T
	db    string
	clock *storetest.Clock
}

func (r clockedRunner) at(day string) {
	d, err := vigil.ParseDate(day)
	if err != nil {
		r.t.Fatalf("day %q: %v", day, err)
	}
	r.clock.T = d.Time().Add(12 * time.Hour)
}

func (r clockedRunner) run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	ctx := vigil.WithClock(context.Background(), r.clock)
	code := cli.Run(ctx, append([]string{"--db", r.db}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// replay enters a scenario through the case workflow, as the issue describes it: the organization and the device
// from facts.device and facts.policy, the case opened with the vulnerability's id and learned date, the first
// assessment dated D0 with the recorded risk or its inputs, every event in order (a reassessment as a dated
// `case assess`), each entered on its recorded day. It returns the output of `case show --as-of --format json`,
// or the first command that failed (exit code and output).
func (r clockedRunner) replay(f replayFacts) (show string, failed []string) {
	step := func(args ...string) bool {
		code, out, errs := r.run(args...)
		if code != 0 {
			failed = append(args, "exit", strconv.Itoa(code), out, errs)
			return false
		}
		return true
	}
	v := f.Vulnerability
	r.at(v.Learned)
	org := []string{"org", "create", "--name", "Replay Medical", "--time-zone", "UTC"}
	if i := f.Device.ISAO; i != nil && i.Member {
		docs := []map[string]any{}
		if i.CriteriaEvidenced {
			for n, text := range []string{"agreement", "policies", "shares", "sop"} {
				docs = append(docs, map[string]any{"item": n + 1, "kind": "note", "text": text})
			}
		}
		b, _ := json.Marshal([]map[string]any{{"name": i.Name, "since": "2019-01-01", "documents": docs}})
		path := filepath.Join(r.t.TempDir(), "isaos.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			r.t.Fatal(err)
		}
		org = append(org, "--isaos", path)
	}
	if p := f.Policy; p.WorkingDays != "" {
		org = append(org, "--working-days", p.WorkingDays)
	}
	if p := f.Policy; p.RollDeadlines != nil && *p.RollDeadlines {
		org = append(org, "--roll-deadlines")
	}
	if p := f.Policy; p.ReassessmentClock != "" {
		org = append(org, "--reassessment-clock", p.ReassessmentClock)
	}
	// The replay compares determinations; the acts' Part 11 signatures are tested elsewhere.
	if !step("signing-policy", "off", "all", "--reason", "scenario replay: determinations, not signatures") {
		return "", failed
	}
	dev := []string{"device", "create", "--name", f.Device.Name, "--class", f.Device.Class, "--pathway", f.Device.Pathway}
	if f.Device.CyberDevice {
		dev = append(dev, "--cyber-device")
	}
	assess := []string{"case", "assess", "1", "--date", v.Learned, "--rationale", "as recorded in the scenario"}
	if v.Risk != "" {
		assess = append(assess, "--risk", v.Risk, "--risk-reason", "the scenario's recorded determination")
	}
	if v.CVSS != "" {
		assess = append(assess, "--cvss", v.CVSS)
	}
	if v.Exploitability != "" {
		assess = append(assess, "--exploitability", v.Exploitability, "--exploitability-reason", "the scenario's")
	}
	if v.Severity != "" {
		assess = append(assess, "--severity", v.Severity, "--severity-reason", "the scenario's")
	}
	if v.ConfidentialityOnly {
		assess = append(assess, "--confidentiality-only")
	}
	if v.VEXStatus != "" {
		assess = append(assess, "--vex", v.VEXStatus)
	}
	if !step(org...) || !step(dev...) ||
		!step("case", "open", "--device", f.Device.Name, "--vuln", v.ID, "--learned", v.Learned, "--reason", "worked scenario") || !step(assess...) {
		return "", failed
	}
	last := f.AsOf
	for _, e := range f.Events {
		day := e.Date
		if e.Recorded != "" {
			day = e.Recorded
		}
		if day > last {
			last = day
		}
		r.at(day)
		if e.Type == "reassessed" {
			a := []string{"case", "assess", "1", "--date", e.Date, "--risk", e.Risk, "--risk-reason", "the scenario's reassessment", "--rationale", "reassessed"}
			if e.Interim {
				a = append(a, "--interim")
			}
			if !step(a...) {
				return "", failed
			}
			continue
		}
		a := []string{"case", "event", "add", "1", e.Type, "--date", e.Date, "--note", "scenario evidence"}
		if e.Elements != nil {
			a = append(a, "--elements", strings.Join(e.Elements, ","))
		}
		if e.Validated {
			a = append(a, "--validated")
		}
		if e.Remediation != "" {
			a = append(a, "--remediation", e.Remediation)
		}
		if e.RemedialAction {
			a = append(a, "--remedial-action")
		}
		if e.IncludesCorrection {
			a = append(a, "--includes-correction")
		}
		if !step(a...) {
			return "", failed
		}
	}
	r.at(last)
	code, out, errs := r.run("--format", "json", "case", "show", "1", "--as-of", f.AsOf)
	if code != 0 {
		return "", []string{"case show", out, errs}
	}
	return out, nil
}

// contractKeys are the determination's keys DETERMINATION.md defines, which a replay must reproduce exactly; the
// additions (rationale, matrix, exploitability, policy, criteria evidence) say how the answer was reached and
// name the records they rest on.
var contractKeys = []string{"risk", "current_risk", "change", "enforcement_discretion", "part806", "premarket_evaluation",
	"pma_periodic_report", "deadlines", "warnings"}

func contract(t *testing.T, det json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(det, &m); err != nil {
		t.Fatalf("determination: %v\n%s", err, det)
	}
	out := map[string]any{}
	for _, k := range contractKeys {
		out[k] = m[k]
	}
	if ed, ok := out["enforcement_discretion"].(map[string]any); ok {
		for _, c := range ed["criteria"].([]any) {
			delete(c.(map[string]any), "evidence")
		}
	}
	return out
}

// TestScenarioReplay replays every worked scenario through the case workflow on the command line and checks that
// `case show --as-of` gives what `vigil determine` gives on the same file, and meets the file's expectation, on
// both engines.
func TestScenarioReplay(t *testing.T) {
	all, err := scenario.Load(testfix.Path(t, "scenarios"))
	if err != nil || len(all) == 0 {
		t.Fatalf("scenarios: %d, %v", len(all), err)
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			for _, sc := range all {
				t.Run(strings.TrimSuffix(sc.File, ".json"), func(t *testing.T) {
					r := clockedRunner{t, storetest.MigratedDSN(t, engine), storetest.NewClock(time.Time{})}
					file := filepath.Join(t.TempDir(), "facts.json")
					if err := os.WriteFile(file, sc.Facts, 0o600); err != nil {
						t.Fatal(err)
					}
					code, want, errs := r.run("determine", file)
					var f replayFacts
					if err := json.Unmarshal(sc.Facts, &f); err != nil {
						t.Fatal(err)
					}
					show, failed := r.replay(f)
					if sc.WantCode() != "" {
						if code == 0 || failed == nil {
							t.Errorf("an invalid scenario: determine exit %d; the workflow must refuse it too (failed: %q)", code, failed)
						}
						return
					}
					if code != 0 {
						t.Fatalf("determine: exit %d %s", code, errs)
					}
					if failed != nil {
						t.Fatalf("replay failed: %q", failed)
					}
					var got struct {
						Determination json.RawMessage `json:"determination"`
						Provisional   bool            `json:"provisional"`
					}
					if err := json.Unmarshal([]byte(show), &got); err != nil || got.Provisional {
						t.Fatalf("case show: %v (provisional %v)\n%s", err, got.Provisional, show)
					}
					if diff := cmp.Diff(contract(t, []byte(want)), contract(t, got.Determination)); diff != "" {
						t.Errorf("the workflow's determination differs from vigil determine's (-determine +workflow):\n%s", diff)
					}
					if d := scenario.Diff(sc.Expect, got.Determination); len(d) > 0 {
						t.Errorf("the workflow's determination misses the scenario's expectation: %v", d)
					}
				})
			}
		})
	}
}
