package isao

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-dev/vigil"
)

// ParticipationEvidence is the objective evidence of active ISAO participation (G2016 §IX) for one membership over a period:
// each item with the documents in force at the period's end, the shares made (cases, dates, how), and the
// intelligence received with what it led to (the cases it touched, the assessments that cite it). The regulatory
// documents and the evidence package take it as it is; CSV gives the same rows to a spreadsheet.
type ParticipationEvidence struct {
	Membership vigil.ISAOMembership `json:"membership"`
	From       vigil.Date           `json:"from"`
	To         vigil.Date           `json:"to"`
	// Active says the membership covered every day of the period.
	Active bool               `json:"active"`
	Items  [4]EvidenceItem    `json:"items"`
	Shares []*vigil.ISAOShare `json:"shares"`
	// SharedCases are the cases shared in the period.
	SharedCases []int64             `json:"shared_cases"`
	Signals     []*vigil.ISAOSignal `json:"signals"`
	// Touched counts the signals received in the period that touched a case, Cited those an assessment cites.
	Touched int `json:"touched_cases"`
	Cited   int `json:"cited_by_assessments"`
}

// EvidenceItem is one §IX item: what it asks, the documents in force at the period's end, and whether it is
// evidenced.
type EvidenceItem struct {
	N         int                  `json:"n"`
	Asks      string               `json:"asks"`
	Documents []vigil.ISAODocument `json:"documents"`
	Evidenced bool                 `json:"evidenced"`
	// Records says what Vigil's own records add to the item: the shares for item 3, the cited signals for item 4.
	Records string `json:"records,omitempty"`
}

// Evidence gathers the evidence of a membership over [from, to], days in the organization's time zone (zero from:
// the membership's start, or the period's end when it has none; zero to: today). Needs PermRead.
func (s *Service) Evidence(ctx context.Context, name, device string, from, to vigil.Date) (*ParticipationEvidence, error) {
	m, err := s.Membership(ctx, name, device)
	if err != nil {
		return nil, err
	}
	if to.IsZero() {
		to = s.Today(ctx)
	}
	if from.IsZero() {
		if from = m.Since; from.IsZero() {
			from = to
		}
	}
	if to.Before(from) {
		return nil, vigil.Errorf(vigil.EINVALID, "to: %s is before from (%s)", to, from)
	}
	ev := &ParticipationEvidence{Membership: *m, From: from, To: to, Active: m.Active(from) && m.Active(to), SharedCases: []int64{}}
	if ev.Shares, err = s.Store.ISAOShares(ctx, vigil.ISAOShareFilter{MembershipID: m.ID, From: from, To: to}); err != nil {
		return nil, err
	}
	if ev.Shares == nil {
		ev.Shares = []*vigil.ISAOShare{}
	}
	for _, sh := range ev.Shares {
		if !slices.Contains(ev.SharedCases, sh.CaseID) {
			ev.SharedCases = append(ev.SharedCases, sh.CaseID)
		}
	}
	slices.Sort(ev.SharedCases)
	loc := s.Cases.Zone(ctx)
	if ev.Signals, err = s.Store.ISAOSignals(ctx, vigil.ISAOSignalFilter{MembershipID: m.ID, From: from.In(loc), To: to.AddDays(1).In(loc)}); err != nil {
		return nil, err
	}
	if ev.Signals == nil {
		ev.Signals = []*vigil.ISAOSignal{}
	}
	for _, sg := range ev.Signals {
		if len(sg.Cases) > 0 {
			ev.Touched++
		}
		if len(sg.Assessments) > 0 {
			ev.Cited++
		}
	}
	for i := range ev.Items {
		it := EvidenceItem{N: i + 1, Asks: vigil.ISAOItems[i], Documents: []vigil.ISAODocument{}}
		for _, d := range m.Documents {
			if d.Item == i+1 && d.Counts(to) {
				it.Documents = append(it.Documents, d)
			}
		}
		it.Evidenced = len(it.Documents) > 0
		switch i + 1 {
		case 3:
			it.Records = strconv.Itoa(len(ev.Shares)) + " shares of " + strconv.Itoa(len(ev.SharedCases)) + " cases in the period"
		case 4:
			it.Records = strconv.Itoa(len(ev.Signals)) + " signals received, " + strconv.Itoa(ev.Touched) + " touching a case, " + strconv.Itoa(ev.Cited) + " cited by assessments"
		}
		ev.Items[i] = it
	}
	return ev, nil
}

// WriteCSV writes the evidence as rows a spreadsheet reads: section, item, date, what, reference, SHA-256.
func (ev *ParticipationEvidence) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(cells ...string) { cw.Write(cells) }
	row("section", "item", "date", "what", "reference", "sha256")
	m := ev.Membership
	row("membership", "", m.Since.String(), m.Name+" ("+strings.ToUpper(m.TLP)+")", "active for the whole period: "+strconv.FormatBool(ev.Active), "")
	for _, it := range ev.Items {
		if len(it.Documents) == 0 {
			row("§IX", strconv.Itoa(it.N), "", it.Asks, "NOT EVIDENCED", "")
		}
		for _, d := range it.Documents {
			row("§IX", strconv.Itoa(it.N), dayText(d.Date), it.Asks, d.Kind+": "+d.Title, d.SHA256)
		}
		if it.Records != "" {
			row("§IX", strconv.Itoa(it.N), "", it.Asks, it.Records, "")
		}
	}
	for _, sh := range ev.Shares {
		ref := sh.Method
		if sh.StatusID != "" {
			ref += " status " + sh.StatusID
		}
		row("share", "3", sh.Date.String(), "case "+strconv.FormatInt(sh.CaseID, 10)+": "+sh.Vulnerability+" in "+sh.Device, ref+", event E"+strconv.FormatInt(sh.EventID, 10)+", "+sh.BundleID, sh.SHA256)
	}
	for _, sg := range ev.Signals {
		row("signal", "4", sg.Received.Format("2006-01-02"), sg.Type+": "+sg.Name, sg.STIXID+"; cases "+ids(sg.Cases)+"; assessments "+ids(sg.Assessments), "")
	}
	cw.Flush()
	return cw.Error()
}

func dayText(d vigil.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func ids(xs []int64) string {
	if len(xs) == 0 {
		return "none"
	}
	var s []string
	for _, x := range xs {
		s = append(s, strconv.FormatInt(x, 10))
	}
	return strings.Join(s, " ")
}

// PackageFile is one file the ISAO participation puts into an evidence package.
type PackageFile struct {
	Name    string
	Content []byte
}

// CasePackage is a case's ISAO evidence for its evidence package (internal/service/evidence): the files, in order,
// and the audited records (table → ids) whose states they carry, for the package's segment of the audit trail.
type CasePackage struct {
	Files   []PackageFile
	Records map[string][]int64
}

// CaseEvidence gathers what a case's evidence package shows of ISAO participation, under isao/: the case's sharing
// log entries (shares.json), the intelligence touching it with the assessments that cite it (signals.json), and for
// each active membership covering its device the §IX evidence from the day the vulnerability was learned to today
// (NAME/evidence.json, NAME/evidence.csv) with the documents in force (NAME/documents/ID-FILE, as attached; their
// SHA-256 is in the evidence). Needs PermRead.
func (s *Service) CaseEvidence(ctx context.Context, caseID int64) (*CasePackage, error) {
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	p := &CasePackage{Records: map[string][]int64{}}
	add := func(name string, b []byte) { p.Files = append(p.Files, PackageFile{Name: "isao/" + name, Content: b}) }
	addJSON := func(name string, x any) error {
		b, err := json.MarshalIndent(x, "", "  ")
		if err != nil {
			return err
		}
		add(name, append(b, '\n'))
		return nil
	}
	shares, err := s.Store.ISAOShares(ctx, vigil.ISAOShareFilter{CaseID: v.Case.ID})
	if err != nil {
		return nil, err
	}
	if shares == nil {
		shares = []*vigil.ISAOShare{}
	}
	for _, sh := range shares {
		p.Records["isao_shares"] = append(p.Records["isao_shares"], sh.ID)
	}
	if err := addJSON("shares.json", shares); err != nil {
		return nil, err
	}
	sigs, err := s.Store.ISAOSignals(ctx, vigil.ISAOSignalFilter{CaseID: v.Case.ID})
	if err != nil {
		return nil, err
	}
	if sigs == nil {
		sigs = []*vigil.ISAOSignal{}
	}
	if err := addJSON("signals.json", sigs); err != nil {
		return nil, err
	}
	ms, err := s.Memberships(ctx)
	if err != nil {
		return nil, err
	}
	to := s.Today(ctx)
	from := v.Case.Learned
	if to.Before(from) {
		from = to
	}
	for _, m := range vigil.ISAOsFor(ms, v.Device.ID) {
		if !m.Active(to) && !m.Active(from) {
			continue
		}
		ev, err := s.Evidence(ctx, m.Name, deviceArg(&m), from, to)
		if err != nil {
			return nil, err
		}
		dir := slug(label(&m)) + "/"
		if err := addJSON(dir+"evidence.json", ev); err != nil {
			return nil, err
		}
		var csvOut bytes.Buffer
		if err := ev.WriteCSV(&csvOut); err != nil {
			return nil, err
		}
		add(dir+"evidence.csv", csvOut.Bytes())
		p.Records["isao_memberships"] = append(p.Records["isao_memberships"], m.ID)
		for _, it := range ev.Items {
			for _, d := range it.Documents {
				doc, err := s.Store.ISAODocument(ctx, d.ID)
				if err != nil {
					return nil, err
				}
				name := d.FileName
				if name == "" {
					name = "note.txt"
				}
				add(fmt.Sprintf("%sdocuments/%d-%s", dir, d.ID, slug(name)), doc.Content)
				p.Records["isao_documents"] = append(p.Records["isao_documents"], d.ID)
			}
		}
	}
	return p, nil
}

// slug makes a name safe as one path element of a package: letters, digits, dot, dash and underscore kept, the rest
// a dash.
func slug(s string) string {
	out := strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_') {
			return r
		}
		return '-'
	}, s)
	out = strings.Trim(out, ".-")
	if out == "" {
		return "unnamed"
	}
	return out
}
