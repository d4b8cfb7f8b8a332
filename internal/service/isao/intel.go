package isao

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/stix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Intelligence from an ISAO: its TAXII collection polled (objects added after the last poll, page by page) or a
// STIX file it sent. Indicators, vulnerabilities, notes and reports become signals; the store links each to the
// cases it touches (a CVE it names, one of our devices or components), and an assessment can cite it (§IX item 4).
// The objects are untrusted: the bundle parser bounds sizes, nesting and counts and rejects bad ids by object, and
// a signal's text keeps no control characters (no terminal escapes) and is only ever shown escaped.

// Intake is what one poll or file brought.
type Intake struct {
	ISAO     string   `json:"isao,omitempty"`
	Source   string   `json:"source"`
	Objects  int      `json:"objects"`  // STIX objects read
	Signals  int      `json:"signals"`  // indicators, vulnerabilities, notes and reports among them
	Changed  int      `json:"changed"`  // signals new or newer than the one held
	Linked   []int64  `json:"linked"`   // the cases the changed signals touch
	Rejected []string `json:"rejected"` // objects refused, each naming the object and why
	// Cursor is the date the server added the last object read: the next poll asks for what was added after it.
	Cursor string `json:"cursor,omitempty"`
}

// maxPages bounds one poll (at the server's page size, typically 100 to 1,000 objects a page).
const maxPages = 1000

// ImportSTIX reads a STIX 2.1 bundle an ISAO sent (name: its membership, "" when it came from elsewhere) and keeps
// its intelligence as signals. Needs PermImport.
func (s *Service) ImportSTIX(ctx context.Context, name, file string, r io.Reader) (*Intake, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return nil, err
	}
	var mid int64
	if name != "" {
		m, err := s.Membership(ctx, name, "")
		if err != nil {
			return nil, err
		}
		mid, name = m.ID, m.Name
	}
	b, err := stix.Parse(file, r, untrusted.Limits{})
	if err != nil {
		return nil, err
	}
	in := &Intake{ISAO: name, Source: file, Rejected: orNone(b.Rejected)}
	for _, n := range b.Counts {
		in.Objects += n
	}
	in.Objects += len(b.Rejected)
	return in, s.keep(ctx, in, signals(b, mid, file))
}

// Poll reads what the membership's TAXII collection added after cursor (a TAXII timestamp, "" for everything),
// page by page, and keeps it as signals. The result's Cursor is where the next poll starts. Needs PermImport.
func (s *Service) Poll(ctx context.Context, name, cursor string) (*Intake, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return nil, err
	}
	m, err := s.Membership(ctx, name, "")
	if err != nil {
		return nil, err
	}
	c, root, err := s.client(ctx, m)
	if err != nil {
		return nil, err
	}
	source := strings.TrimSuffix(root, "/") + "/collections/" + m.TAXII.Collection + "/"
	in := &Intake{ISAO: m.Name, Source: source, Cursor: cursor, Rejected: []string{}}
	var objs []json.RawMessage // every page's: an object may reference one of another page
	next := ""
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, vigil.Errorf(vigil.EUNAVAILABLE, "taxii %s: more than %d pages in one poll: the server's next does not end", source, maxPages)
		}
		p, err := c.Objects(ctx, root, m.TAXII.Collection, cursor, next, 0)
		if err != nil {
			return nil, err
		}
		in.Objects += len(p.Objects)
		objs = append(objs, p.Objects...)
		if p.AddedLast != "" {
			in.Cursor = p.AddedLast
		}
		if !p.More || p.Next == "" {
			break
		}
		next = p.Next
	}
	if len(objs) == 0 {
		return in, s.keep(ctx, in, nil)
	}
	// The pages read are one bundle's objects: the bundle parser's bounds and per-object checks apply to them.
	raw, err := json.Marshal(map[string]any{"type": "bundle", "id": stix.ID("bundle", source+"@"+cursor), "objects": objs})
	if err != nil {
		return nil, err
	}
	b, err := stix.Parse(source, bytes.NewReader(raw), untrusted.Limits{})
	if err != nil {
		return nil, err
	}
	in.Rejected = append(in.Rejected, b.Rejected...)
	return in, s.keep(ctx, in, signals(b, m.ID, source))
}

func (s *Service) keep(ctx context.Context, in *Intake, sigs []*vigil.ISAOSignal) error {
	in.Signals = len(sigs)
	in.Linked = []int64{}
	n, err := s.Store.SaveISAOSignals(ctx, sigs)
	if err != nil {
		return err
	}
	in.Changed = n
	for _, sg := range sigs {
		for _, c := range sg.Cases {
			if !slices.Contains(in.Linked, c) {
				in.Linked = append(in.Linked, c)
			}
		}
	}
	slices.Sort(in.Linked)
	return nil
}

func orNone(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// signals turns a parsed bundle's indicators, vulnerabilities, notes and reports into signals.
func signals(b *stix.Bundle, mid int64, source string) []*vigil.ISAOSignal {
	var out []*vigil.ISAOSignal
	add := func(id, typ, name, desc string, modified time.Time, cves []string) {
		if modified.IsZero() {
			modified = time.Unix(0, 0).UTC() // no version: any later version replaces it
		}
		out = append(out, &vigil.ISAOSignal{MembershipID: mid, Source: inert(source, vigil.MaxName), STIXID: id, Type: typ, Name: inert(name, vigil.MaxName),
			Description: inert(desc, vigil.MaxText), Modified: modified, CVEs: cveIDs(cves)})
	}
	for _, a := range b.Advisories {
		id := a.ID
		if i := slices.IndexFunc(a.Aliases, func(x string) bool { return strings.HasPrefix(x, "vulnerability--") }); i >= 0 {
			id = a.Aliases[i]
		}
		add(id, "vulnerability", cmpOr(a.Title, a.ID), a.Summary, a.Modified, append([]string{a.ID}, a.Aliases...))
	}
	for _, x := range b.Indicators {
		add(x.ID, "indicator", cmpOr(x.Name, x.Pattern), strings.TrimSpace(x.Description+"\n"+x.Pattern), x.Modified, nil)
	}
	for _, r := range b.Reports {
		add(r.ID, "report", r.Name, r.Description, r.Modified, r.Vulnerabilities)
	}
	for _, n := range b.Notes {
		add(n.ID, "note", cmpOr(n.Abstract, "note"), n.Content, n.Modified, n.Vulnerabilities)
	}
	// CVE ids named in the text count as well: ISAO bulletins often name them only there.
	for _, sg := range out {
		for _, w := range strings.FieldsFunc(sg.Name+" "+sg.Description, func(r rune) bool { return !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) }) {
			if isCVE(w) && !slices.Contains(sg.CVEs, strings.ToUpper(w)) {
				sg.CVEs = append(sg.CVEs, strings.ToUpper(w))
			}
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

func cveIDs(ids []string) []string {
	var out []string
	for _, id := range ids {
		if isCVE(id) && !slices.Contains(out, strings.ToUpper(id)) {
			out = append(out, strings.ToUpper(id))
		}
	}
	return out
}

// isCVE reports whether s is CVE-YYYY-NNNN(N...).
func isCVE(s string) bool {
	parts := strings.Split(strings.ToUpper(s), "-")
	if len(parts) != 3 || parts[0] != "CVE" || len(parts[1]) != 4 || len(parts[2]) < 4 || len(parts[2]) > 19 {
		return false
	}
	for _, r := range parts[1] + parts[2] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// inert makes untrusted text safe to keep and show: valid UTF-8, no control characters but newline and tab (no
// terminal escapes), at most max bytes. HTML in it stays text: every screen escapes it.
func inert(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return -1
		}
		return r
	}, s)
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Signals lists intelligence received, newest first: linked to a case (0: all), of a membership ("": all). Needs
// PermRead.
func (s *Service) Signals(ctx context.Context, name string, caseID int64) ([]*vigil.ISAOSignal, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	f := vigil.ISAOSignalFilter{CaseID: caseID}
	if name != "" {
		m, err := s.Membership(ctx, name, "")
		if err != nil {
			return nil, err
		}
		f.MembershipID = m.ID
	}
	return s.Store.ISAOSignals(ctx, f)
}

// Cite records that an assessment considered these signals: the trace from ISAO intelligence to the risk
// assessment it prompted (§IX item 4). Needs PermAssess.
func (s *Service) Cite(ctx context.Context, assessmentID int64, signalIDs []int64, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.CiteISAOSignals(ctx, assessmentID, signalIDs, reason)
}

// PollFeed polls a feed of source taxii: the membership whose TAXII URL the feed names, from the feed's cursor (the
// scheduler's and `vigil feeds sync`'s way in). It returns the new cursor and the run's summary: signals new or
// changed are counted as added, the rest as unchanged, refused objects as rejected.
func (s *Service) PollFeed(ctx context.Context, f *vigil.Feed) (string, vigil.IntelSummary, error) {
	sum := vigil.IntelSummary{Source: vigil.SourceTAXII, Rejected: []vigil.RejectedRecord{}}
	ms, err := s.Memberships(ctx)
	if err != nil {
		return "", sum, err
	}
	i := slices.IndexFunc(ms, func(m vigil.ISAOMembership) bool {
		return m.TAXII.URL != "" && strings.TrimSuffix(m.TAXII.URL, "/") == strings.TrimSuffix(f.URL, "/")
	})
	if i < 0 {
		return "", sum, vigil.Errorf(vigil.EINVALID, "feed %s: no ISAO membership has the TAXII server %s (vigil isao set NAME --taxii %s --collection ID)", f.Name, f.URL, f.URL)
	}
	in, err := s.Poll(ctx, ms[i].Name, f.Cursor)
	if err != nil {
		return "", sum, err
	}
	sum.Added, sum.Unchanged = in.Changed, in.Signals-in.Changed
	for _, r := range in.Rejected {
		sum.Rejected = append(sum.Rejected, vigil.RejectedRecord{File: in.Source, Error: r})
	}
	return in.Cursor, sum, nil
}
