package web

import (
	"net/http"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/risk"
)

// rubricQuestion is a rubric question laid out for the form: Root questions show at once, the others when an
// earlier answer reveals them (Reveals, per option value), which static/vigil.js does in the browser and
// pruneRubric repeats on the server, so that only answers on the path the answers take are submitted.
type rubricQuestion struct {
	risk.Question
	Root     bool
	Section  string
	Reveals  map[string]string // option value → space-separated ids of the questions it reveals
	Category string
}

// rubricReveals returns, per question, which questions each answer reveals.
func rubricReveals() (qs []risk.Question, reveals map[string]map[string][]string, roots []string) {
	qs = risk.Rubric()
	ids := map[string]bool{}
	for _, q := range qs {
		ids[q.ID] = true
	}
	reveals = map[string]map[string][]string{}
	for _, q := range qs {
		reveals[q.ID] = map[string][]string{}
		for _, o := range q.Options {
			if o.Next != "" {
				reveals[q.ID][o.Value] = []string{o.Next}
			}
		}
		if strings.HasSuffix(q.ID, ".applies") {
			cat := strings.TrimSuffix(q.ID, ".applies")
			var next []string
			for _, m := range []string{"C", "I", "A"} {
				// Safety categories ask first whether patient harm can follow (the rubric rates that High).
				if ids[cat+"."+m+".harm"] {
					next = append(next, cat+"."+m+".harm")
				} else {
					next = append(next, cat+"."+m)
				}
			}
			reveals[q.ID]["yes"] = next
			roots = append(roots, q.ID)
		}
	}
	roots = append([]string{"AV.1", "AC.1", "PR.1", "UI.1", "S.1"}, roots...)
	return qs, reveals, roots
}

func rubricForm() []rubricQuestion {
	qs, reveals, roots := rubricReveals()
	isRoot := map[string]bool{}
	for _, r := range roots {
		isRoot[r] = true
	}
	cats := map[string]string{}
	for _, c := range risk.Categories() {
		cats[c.ID] = c.Name
	}
	metric := map[string]string{"AV": "Attack vector", "AC": "Attack complexity", "PR": "Privileges required", "UI": "User interaction", "S": "Scope"}
	var out []rubricQuestion
	for _, q := range qs {
		rq := rubricQuestion{Question: q, Root: isRoot[q.ID], Reveals: map[string]string{}, Category: q.Category}
		for v, ids := range reveals[q.ID] {
			rq.Reveals[v] = strings.Join(ids, " ")
		}
		if q.Category != "" {
			rq.Section = "Impact: " + cats[q.Category]
		} else {
			rq.Section = metric[q.Metric]
		}
		out = append(out, rq)
	}
	return out
}

// pruneRubric keeps the answers on the path the answers take. A browser without JavaScript submits every radio
// group a person touched, including ones a later change of mind made irrelevant; the rubric refuses answers to
// questions it did not ask, so they are dropped here exactly as the script would have hidden them.
func pruneRubric(a risk.RubricAnswers) risk.RubricAnswers {
	_, reveals, roots := rubricReveals()
	out := risk.RubricAnswers{}
	queue := append([]string(nil), roots...)
	seen := map[string]bool{}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		ans, ok := a[id]
		if !ok {
			continue
		}
		out[id] = ans
		queue = append(queue, reveals[id][strings.ToLower(strings.TrimSpace(ans))]...)
	}
	return out
}

// cvssOut is a scored vector with the exploitability level the assessment would derive from it.
type cvssOut struct {
	risk.CVSS
	ExploitabilityLevel string `json:"exploitability_level,omitempty"`
}

func scoreVector(v string) (cvssOut, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return cvssOut{}, vigil.Errorf(vigil.EINVALID, "vector: required")
	}
	if len(v) > 512 {
		return cvssOut{}, vigil.Errorf(vigil.EINVALID, "vector: longer than 512 characters")
	}
	c, err := risk.ParseCVSS(v)
	if err != nil {
		return cvssOut{}, err
	}
	out := cvssOut{CVSS: c}
	if c.Exploitability != nil && strings.HasPrefix(c.Vector, "CVSS:3") {
		out.ExploitabilityLevel = string(risk.LevelFromSubscore(*c.Exploitability))
	}
	return out, nil
}

func (s *Server) apiCVSS(w http.ResponseWriter, r *http.Request) error {
	out, err := scoreVector(r.URL.Query().Get("vector"))
	return reply(w, http.StatusOK, out, err)
}

// cvssFragment renders the calculator's result for htmx: the score, or why the vector is not valid.
func (s *Server) cvssFragment(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query().Get("vector")
	if v == "" {
		v = r.URL.Query().Get("cvss") // the assessment form's field, sent as is by htmx
	}
	if strings.TrimSpace(v) == "" {
		return s.renderFragment(w, r, "finding", "cvss-result", map[string]any{"Error": "Enter a vector or pick the metrics."})
	}
	out, err := scoreVector(v)
	data := map[string]any{"CVSS": out, "Error": ""}
	if err != nil {
		if vigil.ErrorCode(err) != vigil.EINVALID {
			return err
		}
		data["Error"] = vigil.ErrorMessage(err)
	}
	return s.renderFragment(w, r, "finding", "cvss-result", data)
}

// rubricOut is the questionnaire as the API serves it.
type rubricOut struct {
	Version    string          `json:"version"`
	Categories []risk.Category `json:"categories"`
	Questions  []risk.Question `json:"questions"`
}

func (s *Server) apiRubric(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, rubricOut{Version: risk.RubricVersion, Categories: risk.Categories(), Questions: risk.Rubric()})
	return nil
}

// determinationDoc is the Determination API's output document.
type determinationDoc = regulatory.Determination

// apiDetermine is the Determination API: the same pure function the CLI runs and every finding's page shows.
func (s *Server) apiDetermine(w http.ResponseWriter, r *http.Request) error {
	d, err := regulatory.DetermineJSON(http.MaxBytesReader(w, r.Body, regulatory.MaxFactsBytes+1), s.today(r.Context()))
	return reply(w, http.StatusOK, d, err)
}
