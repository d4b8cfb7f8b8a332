package risk

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// RubricVersion names the questionnaire, recorded with every vector it produces. It encodes the structure of
// MITRE's "Rubric for Applying CVSS to Medical Devices" (qualified by FDA as a Medical Device Development Tool in
// 2020): a decision flow per CVSS v3.0 base metric, with the impact questions asked per category of data or
// function and the highest answer taken. The wording is Vigil's; the rubric's own text is not reproduced.
const RubricVersion = "vigil-rubric-1 (after MITRE Rubric for Applying CVSS to Medical Devices, 2020)"

// Rubric categories: the C/I/A questions are asked once for each.
const (
	CategoryPHI       = "phi"
	CategoryDiagnosis = "diagnosis"
	CategoryTherapy   = "therapy"
	CategoryWorkflow  = "workflow"
	CategorySecrets   = "secrets"
	CategoryOther     = "other"
)

// Category is one category of data or function the impact questions are asked for.
type Category struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Safety is true for diagnosis/monitoring and therapy delivery, where an integrity or availability impact
	// that can lead to patient harm rates High whatever its extent.
	Safety bool `json:"safety"`
}

// Categories lists the rubric's categories in the order they are asked.
func Categories() []Category {
	return []Category{
		{CategoryPHI, "protected health information (PHI) and other personal data", false},
		{CategoryDiagnosis, "diagnosis and monitoring: measurements, waveforms, images, alarms and results a clinician acts on", true},
		{CategoryTherapy, "therapy delivery: dosing, infusion, stimulation, pacing, radiation, and the settings and commands that act on the patient", true},
		{CategoryWorkflow, "clinical workflow: orders, schedules, worklists, device management that is neither diagnosis nor therapy", false},
		{CategorySecrets, "system secrets: passwords, keys, certificates and tokens that protect this device or other systems", false},
		{CategoryOther, "other data or functions of the device", false},
	}
}

// Question is one question of the rubric. Each answer either sets the metric (Sets) or leads to the next question
// (Next), so the path through the questions explains the vector.
type Question struct {
	ID       string   `json:"id"`
	Metric   string   `json:"metric,omitempty"`   // AV, AC, PR, UI, S, C, I or A; empty for a category's gate question
	Category string   `json:"category,omitempty"` // for the impact questions
	Text     string   `json:"text"`
	Guidance string   `json:"guidance,omitempty"`
	Options  []Option `json:"options"`
}

// Option is one allowed answer.
type Option struct {
	Value string `json:"value"`
	Text  string `json:"text"`
	Sets  string `json:"sets,omitempty"` // the metric value this answer decides
	Next  string `json:"next,omitempty"` // the question this answer leads to
}

// Reason is one step of the explanation of a rubric vector: a question, the answer given, and what it decided.
// The summary steps for C, I and A (QuestionID "C.max" etc.) say which category gave the highest value.
type Reason struct {
	QuestionID string `json:"question_id"`
	Metric     string `json:"metric,omitempty"`
	Category   string `json:"category,omitempty"`
	Question   string `json:"question"`
	Answer     string `json:"answer,omitempty"`
	AnswerText string `json:"answer_text,omitempty"`
	Sets       string `json:"sets,omitempty"` // the metric value decided at this step, e.g. "AV:N"
}

// RubricAnswers maps question ids to answers (option values). It is what an assessor fills in and what is stored
// as the reason behind the vector: only the questions on the path the answers take may be answered, so the stored
// answers are exactly the explanation.
type RubricAnswers map[string]string

// yesNo returns yes/no options with their outcomes.
func yesNo(yesText string, yes Option, noText string, no Option) []Option {
	yes.Value, yes.Text = "yes", yesText
	no.Value, no.Text = "no", noText
	return []Option{yes, no}
}

// impactOptions returns the none/limited/total options of an impact question, in CVSS v3.0's terms.
func impactOptions(metric string) []Option {
	texts := map[string][3]string{
		"C": {
			"nothing in this category can be read",
			"some of it can be read, but the attacker does not control what, or the amount or kind is limited (one patient's record, a partial log)",
			"all of it can be read, or what can be read has a direct, serious impact (every patient's records, credentials or keys that open the device or other systems)",
		},
		"I": {
			"nothing in this category can be modified",
			"some of it can be modified, but the attacker does not control what, or the consequence is limited",
			"any of it can be modified, or a modification has a direct, serious consequence",
		},
		"A": {
			"its availability is not affected",
			"performance is reduced or interrupted, but the function remains partly available",
			"the function can be denied entirely (for as long as the attack lasts, or persistently), or what is lost has a direct, serious consequence",
		},
	}[metric]
	return []Option{
		{Value: "none", Text: texts[0], Sets: "N"},
		{Value: "limited", Text: texts[1], Sets: "L"},
		{Value: "total", Text: texts[2], Sets: "H"},
	}
}

// Rubric returns the questionnaire: the base-metric flows, then per category a gate question and the C, I and A
// questions. A fresh copy each call.
func Rubric() []Question {
	qs := []Question{
		{ID: "AV.1", Metric: "AV",
			Text:     "Can the vulnerability be exploited over a routed network, from beyond the device's own network segment (the hospital network at large, a VPN, a cloud service, the Internet)?",
			Guidance: "Network (N): the vulnerable interface is reachable through routers; the set of possible attackers extends beyond the local segment.",
			Options: yesNo("yes, from beyond the local segment", Option{Sets: "N"},
				"no, the attacker must be nearer than that", Option{Next: "AV.2"})},
		{ID: "AV.2", Metric: "AV",
			Text:     "Can it be exploited from the same local network segment (LAN, VLAN, subnet) or over a short-range link: Bluetooth/BLE, Wi-Fi association, Zigbee, NFC, inductive or RF telemetry (MICS/MedRadio)?",
			Guidance: "Adjacent (A): the rubric treats the same LAN segment and short-range wireless as adjacent, since the attacker must be within range or on the segment.",
			Options: yesNo("yes, from the same segment or within radio range", Option{Sets: "A"},
				"no, it needs access to the device itself", Option{Next: "AV.3"})},
		{ID: "AV.3", Metric: "AV",
			Text:     "Does the attack require the attacker to physically touch or manipulate the device: a USB, serial or service port, JTAG, opening the case, removing its storage?",
			Guidance: "Physical (P) when the attacker must handle the device. Local (L) when a session on the device is enough (its console, user interface or operating system) or when a user is led to open a file or load media on it.",
			Options: yesNo("yes, physical contact with the device", Option{Sets: "P"},
				"no, local access (a session on the device, or a user loading a file) is enough", Option{Sets: "L"})},
		{ID: "AC.1", Metric: "AC",
			Text:     "Does success depend on conditions the attacker cannot control: gathering device- or site-specific knowledge (configuration, keys, sequence numbers), winning a race, or getting into the communication path (man-in-the-middle, e.g. between programmer and implant)?",
			Guidance: "High (H) when the attacker must prepare or wait for such conditions; Low (L) when the attack works repeatably at will.",
			Options: yesNo("yes, conditions beyond the attacker's control", Option{Sets: "H"},
				"no, it works at will and repeatably", Option{Sets: "L"})},
		{ID: "PR.1", Metric: "PR",
			Text:     "Must the attacker already hold credentials or an authorized role on the device or its management interface?",
			Guidance: "Answer no when the interface has no authentication or when the credentials are default, hard-coded, shared across devices or publicly known: None (N).",
			Options: yesNo("yes, real credentials are needed", Option{Next: "PR.2"},
				"no authentication, or only publicly known credentials", Option{Sets: "N"})},
		{ID: "PR.2", Metric: "PR",
			Text: "Do those privileges give significant control over the device: administrator, service technician or manufacturer access to configuration, firmware or all data, rather than an ordinary clinical or patient user's?",
			Options: yesNo("yes, administrative or service privileges", Option{Sets: "H"},
				"no, an ordinary user's privileges", Option{Sets: "L"})},
		{ID: "UI.1", Metric: "UI",
			Text: "Does the attack succeed only if someone other than the attacker acts: a clinician, patient or technician opening a file, pairing, starting a session, plugging in media, following a link?",
			Options: yesNo("yes, someone else must take part", Option{Sets: "R"},
				"no, the attacker alone suffices", Option{Sets: "N"})},
		{ID: "S.1", Metric: "S",
			Text:     "Can the exploit affect devices, systems or components beyond the vulnerable component's own security authority: other devices on the clinical network, a connected implant or pump, the EHR or hospital systems, the host of a software module?",
			Guidance: "Changed (C) when the impact reaches what another authority governs; the C/I/A answers below then cover that impact too.",
			Options: yesNo("yes, it reaches beyond the vulnerable component", Option{Sets: "C"},
				"no, only the vulnerable component", Option{Sets: "U"})},
	}
	for _, c := range Categories() {
		qs = append(qs, Question{ID: c.ID + ".applies", Category: c.ID,
			Text: "Does the device (or what the exploit can reach) hold or perform " + c.Name + "?",
			Options: yesNo("yes: answer the impact questions for this category", Option{},
				"no: no impact in this category (C, I and A are None for it)", Option{})})
		qs = append(qs, Question{ID: c.ID + ".C", Metric: "C", Category: c.ID,
			Text:    "Confidentiality, " + c.Name + ": what can the attacker read?",
			Options: impactOptions("C")})
		for _, m := range []struct{ metric, verb, harm string }{
			{"I", "modify", "a wrong diagnosis, a missed or false alarm, or wrong, withheld or excess therapy"},
			{"A", "deny", "a delayed or missed diagnosis or alarm, or interrupted or withheld therapy"},
		} {
			name := map[string]string{"I": "Integrity", "A": "Availability"}[m.metric]
			if c.Safety {
				qs = append(qs, Question{ID: c.ID + "." + m.metric + ".harm", Metric: m.metric, Category: c.ID,
					Text:     name + ", " + c.Name + ": can the attacker " + m.verb + " it in a way that could lead to patient harm (" + m.harm + ")?",
					Guidance: "The rubric rates integrity and availability of diagnosis and therapy High whenever patient harm can follow, however limited the technical impact.",
					Options: yesNo("yes, patient harm can follow", Option{Sets: "H"},
						"no, not in a way that could harm a patient", Option{Next: c.ID + "." + m.metric})})
			}
			q := Question{ID: c.ID + "." + m.metric, Metric: m.metric, Category: c.ID,
				Text:    name + ", " + c.Name + ": what can the attacker " + m.verb + "?",
				Options: impactOptions(m.metric)}
			if m.metric == "A" {
				q.Text = name + ", " + c.Name + ": how far can the attacker deny it?"
			}
			qs = append(qs, q)
		}
	}
	return qs
}

// impactStart returns the first question of a category's flow for metric.
func impactStart(c Category, metric string) string {
	if c.Safety && metric != "C" {
		return c.ID + "." + metric + ".harm"
	}
	return c.ID + "." + metric
}

// impactRank orders N < L < H.
var impactRank = map[string]int{"N": 0, "L": 1, "H": 2}

// Vector walks the answers through the rubric and returns the CVSS v3.0 base vector with its explanation, one
// Reason per question answered plus one per impact metric saying which category set it. Errors are EINVALID and
// name the question: a required answer missing, an answer not among the options, or an answer to a question the
// other answers do not lead to (or that does not exist).
func (r RubricAnswers) Vector() (string, []Reason, error) {
	qs := Rubric()
	byID := make(map[string]Question, len(qs))
	for _, q := range qs {
		byID[q.ID] = q
	}
	asked := make(map[string]bool, len(qs))
	var reasons []Reason
	// walk follows the answers from start to the option that ends the flow.
	walk := func(start string) (Option, error) {
		for id := start; ; {
			q := byID[id]
			ans, ok := r[id]
			if !ok {
				return Option{}, vigil.Errorf(vigil.EINVALID, "rubric answers.%s: required (%s)", id, q.Text)
			}
			i := slices.IndexFunc(q.Options, func(o Option) bool { return o.Value == strings.ToLower(strings.TrimSpace(ans)) })
			if i < 0 {
				values := make([]string, len(q.Options))
				for j, o := range q.Options {
					values[j] = o.Value
				}
				return Option{}, vigil.Errorf(vigil.EINVALID, "rubric answers.%s: %q is not one of %s", id, clip(ans), strings.Join(values, ", "))
			}
			o := q.Options[i]
			asked[id] = true
			rs := Reason{QuestionID: id, Metric: q.Metric, Category: q.Category, Question: q.Text, Answer: o.Value, AnswerText: o.Text}
			if o.Sets != "" {
				rs.Sets = q.Metric + ":" + o.Sets
			}
			reasons = append(reasons, rs)
			if o.Next == "" {
				return o, nil
			}
			id = o.Next
		}
	}

	base := map[string]string{}
	for _, m := range []string{"AV", "AC", "PR", "UI", "S"} {
		o, err := walk(m + ".1")
		if err != nil {
			return "", nil, err
		}
		base[m] = o.Sets
	}
	impact := map[string]string{"C": "N", "I": "N", "A": "N"}
	from := map[string][]string{}
	for _, c := range Categories() {
		applies, err := walk(c.ID + ".applies")
		if err != nil {
			return "", nil, err
		}
		if applies.Value == "no" {
			for _, m := range []string{"C", "I", "A"} {
				from[m] = append(from[m], c.ID+" N (not applicable)")
			}
			continue
		}
		for _, m := range []string{"C", "I", "A"} {
			o, err := walk(impactStart(c, m))
			if err != nil {
				return "", nil, err
			}
			v := o.Sets
			from[m] = append(from[m], c.ID+" "+v)
			if impactRank[v] > impactRank[impact[m]] {
				impact[m] = v
			}
		}
	}
	for _, m := range []string{"C", "I", "A"} {
		name := map[string]string{"C": "Confidentiality", "I": "Integrity", "A": "Availability"}[m]
		reasons = append(reasons, Reason{QuestionID: m + ".max", Metric: m,
			Question: fmt.Sprintf("%s impact: the highest over the categories (%s)", name, strings.Join(from[m], ", ")),
			Sets:     m + ":" + impact[m]})
	}

	var extra []string
	for id := range r {
		if !asked[id] {
			extra = append(extra, id)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		id := extra[0]
		if _, ok := byID[id]; !ok {
			return "", nil, vigil.Errorf(vigil.EINVALID, "rubric answers.%s: no such question", clip(id))
		}
		return "", nil, vigil.Errorf(vigil.EINVALID, "rubric answers.%s: not asked (the other answers do not lead to it); remove it so the stored answers explain the vector", id)
	}

	vector := fmt.Sprintf("CVSS:3.0/AV:%s/AC:%s/PR:%s/UI:%s/S:%s/C:%s/I:%s/A:%s",
		base["AV"], base["AC"], base["PR"], base["UI"], base["S"], impact["C"], impact["I"], impact["A"])
	if _, err := ParseCVSS(vector); err != nil {
		return "", nil, fmt.Errorf("rubric built an invalid vector %s: %w", vector, err) // a bug: EINTERNAL
	}
	return vector, reasons, nil
}

// RubricAssessment is a rubric result as stored with a finding: the questionnaire version, the answers, the
// vector and its scores, and the explanation.
type RubricAssessment struct {
	Rubric         string        `json:"rubric"`
	Answers        RubricAnswers `json:"answers"`
	Vector         string        `json:"vector"`
	BaseScore      float64       `json:"base_score"`
	Severity       string        `json:"severity"`
	Exploitability float64       `json:"exploitability"`
	Reasons        []Reason      `json:"reasons"`
}

// Assess runs Vector and scores the result.
func (r RubricAnswers) Assess() (RubricAssessment, error) {
	v, reasons, err := r.Vector()
	if err != nil {
		return RubricAssessment{}, err
	}
	c, err := ParseCVSS(v)
	if err != nil {
		return RubricAssessment{}, fmt.Errorf("rubric vector %s: %w", v, err)
	}
	answers := make(RubricAnswers, len(r))
	for k, a := range r {
		answers[k] = strings.ToLower(strings.TrimSpace(a))
	}
	return RubricAssessment{Rubric: RubricVersion, Answers: answers, Vector: v, BaseScore: c.BaseScore,
		Severity: c.Severity, Exploitability: *c.Exploitability, Reasons: reasons}, nil
}
