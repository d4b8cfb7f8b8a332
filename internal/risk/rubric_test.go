package risk

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
)

// noCategories answers "no" to every category's gate question.
func noCategories() RubricAnswers {
	a := RubricAnswers{}
	for _, c := range Categories() {
		a[c.ID+".applies"] = "no"
	}
	return a
}

// with returns base merged with more.
func with(base RubricAnswers, more RubricAnswers) RubricAnswers {
	out := maps.Clone(base)
	maps.Copy(out, more)
	return out
}

// blePump is an insulin pump reached over BLE without authentication: therapy can be altered and stopped.
var blePump = with(noCategories(), RubricAnswers{
	"AV.1": "no", "AV.2": "yes", "AC.1": "no", "PR.1": "no", "UI.1": "no", "S.1": "no",
	"phi.applies": "yes", "phi.C": "limited", "phi.I": "none", "phi.A": "none",
	"therapy.applies": "yes", "therapy.C": "none", "therapy.I.harm": "yes", "therapy.A.harm": "yes",
})

func TestRubricVector(t *testing.T) {
	tests := []struct {
		name     string
		answers  RubricAnswers
		want     string
		wantCode string
		inMsg    string
	}{
		{"BLE insulin pump: harm makes I and A high", blePump,
			"CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:L/I:H/A:H", "", ""},
		{"answers are case- and space-insensitive", with(blePump, RubricAnswers{"AV.1": " No", "AV.2": "YES"}),
			"CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:L/I:H/A:H", "", ""},
		{"patient monitor on the hospital network, limited integrity without harm",
			with(noCategories(), RubricAnswers{
				"AV.1": "yes", "AC.1": "yes", "PR.1": "yes", "PR.2": "no", "UI.1": "yes", "S.1": "yes",
				"diagnosis.applies": "yes", "diagnosis.C": "limited", "diagnosis.I.harm": "no", "diagnosis.I": "limited",
				"diagnosis.A.harm": "no", "diagnosis.A": "limited",
			}),
			"CVSS:3.0/AV:N/AC:H/PR:L/UI:R/S:C/C:L/I:L/A:L", "", ""},
		{"service port with admin rights and nothing to lose",
			with(noCategories(), RubricAnswers{"AV.1": "no", "AV.2": "no", "AV.3": "yes", "AC.1": "no", "PR.1": "yes", "PR.2": "yes", "UI.1": "no", "S.1": "no"}),
			"CVSS:3.0/AV:P/AC:L/PR:H/UI:N/S:U/C:N/I:N/A:N", "", ""},
		{"local session, secrets and workflow: the maximum over categories",
			with(noCategories(), RubricAnswers{"AV.1": "no", "AV.2": "no", "AV.3": "no", "AC.1": "no", "PR.1": "yes", "PR.2": "no", "UI.1": "no", "S.1": "no",
				"secrets.applies": "yes", "secrets.C": "total", "secrets.I": "limited", "secrets.A": "none",
				"workflow.applies": "yes", "workflow.C": "limited", "workflow.I": "none", "workflow.A": "total"}),
			"CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:H", "", ""},
		{"therapy without harm is rated on its extent",
			with(noCategories(), RubricAnswers{"AV.1": "yes", "AC.1": "no", "PR.1": "no", "UI.1": "no", "S.1": "no",
				"therapy.applies": "yes", "therapy.C": "none", "therapy.I.harm": "no", "therapy.I": "none", "therapy.A.harm": "no", "therapy.A": "limited"}),
			"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", "", ""},

		{"missing base answer", func() RubricAnswers { a := maps.Clone(blePump); delete(a, "AC.1"); return a }(),
			"", vigil.EINVALID, "answers.AC.1: required"},
		{"missing follow-up", func() RubricAnswers { a := maps.Clone(blePump); a["PR.1"] = "yes"; return a }(),
			"", vigil.EINVALID, "answers.PR.2: required"},
		{"missing category gate", func() RubricAnswers { a := maps.Clone(blePump); delete(a, "other.applies"); return a }(),
			"", vigil.EINVALID, "answers.other.applies: required"},
		{"missing extent after no harm", with(blePump, RubricAnswers{"therapy.I.harm": "no"}),
			"", vigil.EINVALID, "answers.therapy.I: required"},
		{"answer not an option", with(blePump, RubricAnswers{"UI.1": "maybe"}),
			"", vigil.EINVALID, `answers.UI.1: "maybe" is not one of yes, no`},
		{"impact answer not an option", with(blePump, RubricAnswers{"phi.C": "high"}),
			"", vigil.EINVALID, "answers.phi.C"},
		{"answer off the path", with(blePump, RubricAnswers{"AV.3": "no"}),
			"", vigil.EINVALID, "answers.AV.3: not asked"},
		{"extent given though harm decided", with(blePump, RubricAnswers{"therapy.I": "limited"}),
			"", vigil.EINVALID, "answers.therapy.I: not asked"},
		{"impact given for a category that does not apply", with(blePump, RubricAnswers{"secrets.C": "total"}),
			"", vigil.EINVALID, "answers.secrets.C: not asked"},
		{"harm question of a non-safety category", with(blePump, RubricAnswers{"phi.I.harm": "yes"}),
			"", vigil.EINVALID, "answers.phi.I.harm: no such question"},
		{"unknown question", with(blePump, RubricAnswers{"AV.9": "yes"}),
			"", vigil.EINVALID, "answers.AV.9: no such question"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reasons, err := tt.answers.Vector()
			if vigil.ErrorCode(err) != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", vigil.ErrorCode(err), tt.wantCode, err)
			}
			if err != nil {
				if !strings.Contains(vigil.ErrorMessage(err), tt.inMsg) {
					t.Errorf("message %q does not say %q", vigil.ErrorMessage(err), tt.inMsg)
				}
				return
			}
			if got != tt.want {
				t.Errorf("vector %s, want %s", got, tt.want)
			}
			// Every answer given is explained, once, with its question's text.
			explained := map[string]bool{}
			for _, r := range reasons {
				if r.QuestionID == "" || r.Question == "" {
					t.Errorf("reason without question: %+v", r)
				}
				if _, ok := tt.answers[r.QuestionID]; ok {
					if explained[r.QuestionID] {
						t.Errorf("%s explained twice", r.QuestionID)
					}
					explained[r.QuestionID] = true
				}
			}
			if len(explained) != len(tt.answers) {
				t.Errorf("%d of %d answers explained", len(explained), len(tt.answers))
			}
		})
	}
}

// TestRubricReasons pins the explanation of one vector: the path of questions and what each step set.
func TestRubricReasons(t *testing.T) {
	_, reasons, err := blePump.Vector()
	if err != nil {
		t.Fatal(err)
	}
	type step struct{ ID, Answer, Sets string }
	var got []step
	for _, r := range reasons {
		got = append(got, step{r.QuestionID, r.Answer, r.Sets})
	}
	want := []step{
		{"AV.1", "no", ""}, {"AV.2", "yes", "AV:A"}, {"AC.1", "no", "AC:L"}, {"PR.1", "no", "PR:N"},
		{"UI.1", "no", "UI:N"}, {"S.1", "no", "S:U"},
		{"phi.applies", "yes", ""}, {"phi.C", "limited", "C:L"}, {"phi.I", "none", "I:N"}, {"phi.A", "none", "A:N"},
		{"diagnosis.applies", "no", ""},
		{"therapy.applies", "yes", ""}, {"therapy.C", "none", "C:N"}, {"therapy.I.harm", "yes", "I:H"}, {"therapy.A.harm", "yes", "A:H"},
		{"workflow.applies", "no", ""}, {"secrets.applies", "no", ""}, {"other.applies", "no", ""},
		{"C.max", "", "C:L"}, {"I.max", "", "I:H"}, {"A.max", "", "A:H"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	last := reasons[len(reasons)-2]
	if !strings.Contains(last.Question, "therapy H") || !strings.Contains(last.Question, "diagnosis N (not applicable)") {
		t.Errorf("I.max does not say where H came from: %q", last.Question)
	}
}

func TestRubricAssess(t *testing.T) {
	got, err := blePump.Assess()
	if err != nil {
		t.Fatal(err)
	}
	if got.Rubric != RubricVersion || got.Vector != "CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:L/I:H/A:H" ||
		got.BaseScore != 8.3 || got.Severity != "HIGH" || got.Exploitability != 2.8 {
		t.Errorf("assessment %+v", got)
	}
	if !maps.Equal(got.Answers, blePump) {
		t.Errorf("answers not kept: %v", got.Answers)
	}
	// The assessed vector feeds the exploitability level.
	l, _, err := Exploitability(ExploitInput{CVSS: got.Vector})
	if err != nil || l != vigil.ExploitabilityHigh {
		t.Errorf("exploitability %q, %v; want high", l, err)
	}
}

// TestRubricStructure checks the questionnaire is a sound decision flow: unique ids, every Next exists, every
// metric question ends in a value of its metric, and every category asks C, I and A (with the harm rule for
// diagnosis and therapy).
func TestRubricStructure(t *testing.T) {
	qs := Rubric()
	byID := map[string]Question{}
	for _, q := range qs {
		if _, dup := byID[q.ID]; dup {
			t.Errorf("duplicate id %s", q.ID)
		}
		byID[q.ID] = q
	}
	values := map[string][]string{"AV": {"N", "A", "L", "P"}, "AC": {"L", "H"}, "PR": {"N", "L", "H"}, "UI": {"N", "R"},
		"S": {"U", "C"}, "C": {"N", "L", "H"}, "I": {"N", "L", "H"}, "A": {"N", "L", "H"}}
	reach := map[string]map[string]bool{}
	for _, q := range qs {
		if q.Text == "" || len(q.Options) < 2 {
			t.Errorf("%s: no text or fewer than two options", q.ID)
		}
		for _, o := range q.Options {
			switch {
			case o.Next != "":
				if n, ok := byID[o.Next]; !ok || n.Metric != q.Metric {
					t.Errorf("%s/%s: next %q missing or of another metric", q.ID, o.Value, o.Next)
				}
			case o.Sets != "":
				if !contains(values[q.Metric], o.Sets) {
					t.Errorf("%s/%s: sets %s:%s", q.ID, o.Value, q.Metric, o.Sets)
				}
				if reach[q.Metric] == nil {
					reach[q.Metric] = map[string]bool{}
				}
				reach[q.Metric][o.Sets] = true
			case q.Metric != "":
				t.Errorf("%s/%s: neither sets nor leads anywhere", q.ID, o.Value)
			}
		}
	}
	for m, vs := range values {
		for _, v := range vs {
			if !reach[m][v] {
				t.Errorf("no answer gives %s:%s", m, v)
			}
		}
	}
	for _, c := range Categories() {
		for _, id := range []string{".applies", ".C", ".I", ".A"} {
			if _, ok := byID[c.ID+id]; !ok {
				t.Errorf("category %s has no %s", c.ID, id)
			}
		}
		_, harmI := byID[c.ID+".I.harm"]
		_, harmA := byID[c.ID+".A.harm"]
		want := c.ID == CategoryDiagnosis || c.ID == CategoryTherapy
		if harmI != want || harmA != want || c.Safety != want {
			t.Errorf("category %s: harm questions %v/%v, safety %v; want %v", c.ID, harmI, harmA, c.Safety, want)
		}
	}
}
