// Package stix reads STIX 2.1 bundles, the format ISAOs (H-ISAC and others) share threat intelligence in, and
// keeps what a device manufacturer acts on: each vulnerability object becomes a vigil.Advisory (by CVE when the
// object names one), indicators and reports are summarised, and the bundle itself is counted by object type with
// the identity that produced it. Bundles are untrusted: reads, nesting, string lengths and object counts are
// bounded, and an object that cannot be read is rejected by index and field while the rest of the bundle is kept.
//
// The typed objects come from github.com/TcM1911/stix2; its own bundle reader (stix2.FromJSON) is not used
// because it panics on an object whose "type" is not a string and carries one object's properties into the next,
// so this package splits and checks the bundle itself and hands single objects to the library's types.
package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/TcM1911/stix2"
	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// DefaultLimits returns what Parse accepts when a limit is left zero: room for large ISAO exports (64 MiB,
// 200,000 objects), none for a memory bomb (64 levels, 1 MiB strings).
func DefaultLimits() untrusted.Limits {
	return untrusted.Limits{MaxRecordSize: 64 << 20, MaxString: 1 << 20, MaxRecords: 200_000}.WithDefaults()
}

// Bundle is what Vigil keeps of one STIX bundle.
type Bundle struct {
	Name string `json:"name"` // what the caller called it
	ID   string `json:"id"`   // bundle--...
	// Counts holds the number of accepted objects by STIX type.
	Counts map[string]int `json:"counts"`
	// Creator is the identity most objects name as created_by_ref (nil when none does or it is not in the bundle).
	Creator    *Identity        `json:"creator,omitempty"`
	Identities []Identity       `json:"identities,omitempty"`
	Advisories []vigil.Advisory `json:"advisories,omitempty"`
	Indicators []Indicator      `json:"indicators,omitempty"`
	Reports    []Report         `json:"reports,omitempty"`
	Notes      []Note           `json:"notes,omitempty"`
	// Rejected lists the objects skipped, each as "objects[i]: field: reason".
	Rejected []string `json:"rejected,omitempty"`
}

// Identity is a STIX identity: the ISAO, a vendor, a researcher.
type Identity struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Class   string   `json:"class,omitempty"` // individual, group, system, organization, class, unknown
	Sectors []string `json:"sectors,omitempty"`
}

// Indicator is a STIX indicator: a detection pattern.
type Indicator struct {
	ID          string    `json:"id"`
	Name        string    `json:"name,omitempty"`
	Description string    `json:"description,omitempty"`
	Types       []string  `json:"types,omitempty"`
	Pattern     string    `json:"pattern"`
	PatternType string    `json:"pattern_type"`
	ValidFrom   time.Time `json:"valid_from,omitzero"`
	ValidUntil  time.Time `json:"valid_until,omitzero"`
	Modified    time.Time `json:"modified,omitzero"`
}

// Report is a STIX report; Vulnerabilities are the advisory ids (CVE or STIX id) among its object_refs.
type Report struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Description     string    `json:"description,omitempty"`
	Types           []string  `json:"types,omitempty"`
	Published       time.Time `json:"published,omitzero"`
	ObjectRefs      []string  `json:"object_refs,omitempty"`
	Vulnerabilities []string  `json:"vulnerabilities,omitempty"`
	Modified        time.Time `json:"modified,omitzero"`
}

// Note is a STIX note: an analyst's words on the objects it references; Vulnerabilities are the advisory ids among
// them.
type Note struct {
	ID              string    `json:"id"`
	Abstract        string    `json:"abstract,omitempty"`
	Content         string    `json:"content"`
	ObjectRefs      []string  `json:"object_refs,omitempty"`
	Vulnerabilities []string  `json:"vulnerabilities,omitempty"`
	Modified        time.Time `json:"modified,omitzero"`
}

// Parse reads one STIX 2.1 bundle. name identifies it in errors; a zero field of lim means DefaultLimits' value.
// The error (EINVALID) is for input that is not a bundle at all; a bad object is listed in Bundle.Rejected instead.
func Parse(name string, r io.Reader, lim untrusted.Limits) (*Bundle, error) {
	lim, label := lim.Or(DefaultLimits()), "stix "+name
	b, err := untrusted.ReadAll(label, r, lim.MaxRecordSize)
	if err != nil {
		return nil, err
	}
	if err := untrusted.CheckJSON(label, b, lim); err != nil {
		return nil, err
	}
	var env struct {
		Type    json.RawMessage   `json:"type"`
		ID      json.RawMessage   `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, untrusted.Invalid(label, "", "not a STIX bundle: %s", untrusted.DescribeJSON(b, err))
	}
	var typ, id string
	if json.Unmarshal(env.Type, &typ) != nil || typ != "bundle" {
		return nil, untrusted.Invalid(label, "", "type: want \"bundle\", got %s", untrusted.Clip(string(env.Type)))
	}
	if json.Unmarshal(env.ID, &id) != nil || !strings.HasPrefix(id, "bundle--") {
		return nil, untrusted.Invalid(label, "", "id: want \"bundle--<uuid>\", got %s", untrusted.Clip(string(env.ID)))
	}
	if len(env.Objects) > lim.MaxRecords {
		return nil, untrusted.Invalid(label, "", "objects: %d entries, more than %d", len(env.Objects), lim.MaxRecords)
	}
	p := parser{bundle: &Bundle{Name: name, ID: id, Counts: map[string]int{}}, createdBy: map[string]int{}, vulnIDs: map[string]string{}}
	for i, raw := range env.Objects {
		if err := p.object(raw); err != nil {
			p.bundle.Rejected = append(p.bundle.Rejected, fmt.Sprintf("objects[%d]: %v", i, err))
		}
	}
	p.finish()
	return p.bundle, nil
}

type parser struct {
	bundle    *Bundle
	createdBy map[string]int    // identity id → objects naming it
	firstSeen []string          // creator ids in order of first mention, for deterministic ties
	vulnIDs   map[string]string // vulnerability STIX id → advisory id
}

// header is the part of every object checked before the object is handed to a typed decoder.
type header struct {
	Type         string `json:"type"`
	ID           string `json:"id"`
	CreatedByRef string `json:"created_by_ref"`
}

func (p *parser) object(raw json.RawMessage) error {
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return errors.New(untrusted.DescribeJSON(raw, err))
	}
	switch {
	case h.Type == "":
		return errors.New("type: missing")
	case !strings.HasPrefix(h.ID, h.Type+"--"):
		return fmt.Errorf("id: %q is not a %s identifier", untrusted.Clip(h.ID), untrusted.Clip(h.Type))
	}
	var err error
	switch h.Type {
	case "vulnerability":
		err = p.vulnerability(raw)
	case "indicator":
		err = p.indicator(raw)
	case "report":
		err = p.report(raw)
	case "identity":
		err = p.identity(raw)
	case "note":
		err = p.note(raw)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", h.Type, untrusted.Clip(h.ID), err)
	}
	p.bundle.Counts[h.Type]++
	if h.CreatedByRef != "" {
		if p.createdBy[h.CreatedByRef] == 0 {
			p.firstSeen = append(p.firstSeen, h.CreatedByRef)
		}
		p.createdBy[h.CreatedByRef]++
	}
	return nil
}

func (p *parser) vulnerability(raw json.RawMessage) error {
	var v stix2.Vulnerability
	if err := json.Unmarshal(raw, &v); err != nil {
		return errors.New(untrusted.DescribeJSON(raw, err))
	}
	a := vigil.Advisory{Source: vigil.SourceSTIX, Document: p.bundle.ID, Title: v.Name, Summary: v.Description}
	var cves []string
	seen := map[string]bool{} // sets, not slice scans: a hostile object may repeat a reference a million times
	for _, r := range v.ExternalReferences {
		if r == nil {
			continue
		}
		switch strings.ToLower(r.Name) {
		case "cve":
			if r.ExternalID != "" && !seen["cve:"+r.ExternalID] {
				seen["cve:"+r.ExternalID] = true
				cves = append(cves, r.ExternalID)
			}
		case "cwe":
			if r.ExternalID != "" && !seen["cwe:"+r.ExternalID] {
				seen["cwe:"+r.ExternalID] = true
				a.CWEs = append(a.CWEs, r.ExternalID)
			}
		}
		if r.URL != "" {
			a.References = append(a.References, vigil.Reference{Type: r.Name, URL: r.URL})
		}
	}
	// Some producers name the CVE only in the object's name.
	if len(cves) == 0 && strings.HasPrefix(strings.ToUpper(v.Name), "CVE-") && !strings.ContainsAny(v.Name, " \t") {
		cves = append(cves, strings.ToUpper(v.Name))
	}
	if len(cves) > 0 {
		a.ID = cves[0]
		a.Aliases = append(cves[1:len(cves):len(cves)], string(v.ID))
	} else {
		a.ID = string(v.ID)
	}
	if v.Created != nil {
		a.Published = v.Created.UTC()
	}
	if v.Modified != nil {
		a.Modified = v.Modified.UTC()
	}
	if v.Revoked {
		// A revoked object is withdrawn by its producer; the modification time is when.
		a.Withdrawn = a.Modified
		if a.Withdrawn.IsZero() {
			a.Withdrawn = a.Published
		}
	}
	p.vulnIDs[string(v.ID)] = a.ID
	p.bundle.Advisories = append(p.bundle.Advisories, a)
	return nil
}

func (p *parser) indicator(raw json.RawMessage) error {
	var v stix2.Indicator
	if err := json.Unmarshal(raw, &v); err != nil {
		return errors.New(untrusted.DescribeJSON(raw, err))
	}
	if v.Pattern == "" {
		return errors.New("pattern: missing")
	}
	in := Indicator{ID: string(v.ID), Name: v.Name, Description: v.Description, Types: v.Types, Pattern: v.Pattern, PatternType: v.PatternType}
	if v.ValidFrom != nil {
		in.ValidFrom = v.ValidFrom.UTC()
	}
	if v.ValidUntil != nil {
		in.ValidUntil = v.ValidUntil.UTC()
	}
	if v.Modified != nil {
		in.Modified = v.Modified.UTC()
	}
	p.bundle.Indicators = append(p.bundle.Indicators, in)
	return nil
}

func (p *parser) report(raw json.RawMessage) error {
	var v stix2.Report
	if err := json.Unmarshal(raw, &v); err != nil {
		return errors.New(untrusted.DescribeJSON(raw, err))
	}
	r := Report{ID: string(v.ID), Name: v.Name, Description: v.Description, Types: v.Types}
	if v.Published != nil {
		r.Published = v.Published.UTC()
	}
	if v.Modified != nil {
		r.Modified = v.Modified.UTC()
	}
	for _, ref := range v.Objects {
		r.ObjectRefs = append(r.ObjectRefs, string(ref))
	}
	p.bundle.Reports = append(p.bundle.Reports, r)
	return nil
}

func (p *parser) note(raw json.RawMessage) error {
	var v stix2.Note
	if err := json.Unmarshal(raw, &v); err != nil {
		return errors.New(untrusted.DescribeJSON(raw, err))
	}
	if v.Content == "" {
		return errors.New("content: missing")
	}
	n := Note{ID: string(v.ID), Abstract: v.Abstract, Content: v.Content}
	if v.Modified != nil {
		n.Modified = v.Modified.UTC()
	}
	for _, ref := range v.Objects {
		n.ObjectRefs = append(n.ObjectRefs, string(ref))
	}
	p.bundle.Notes = append(p.bundle.Notes, n)
	return nil
}

func (p *parser) identity(raw json.RawMessage) error {
	var v stix2.Identity
	if err := json.Unmarshal(raw, &v); err != nil {
		return errors.New(untrusted.DescribeJSON(raw, err))
	}
	p.bundle.Identities = append(p.bundle.Identities, Identity{ID: string(v.ID), Name: v.Name, Class: v.Class, Sectors: v.Sectors})
	return nil
}

// finish resolves what needs the whole bundle: report and note → vulnerability links (they may precede the
// objects they reference) and the creator.
func (p *parser) finish() {
	vulns := func(refs []string) []string {
		var out []string
		seen := map[string]bool{}
		for _, ref := range refs {
			if id, ok := p.vulnIDs[ref]; ok && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		return out
	}
	for i := range p.bundle.Reports {
		p.bundle.Reports[i].Vulnerabilities = vulns(p.bundle.Reports[i].ObjectRefs)
	}
	for i := range p.bundle.Notes {
		p.bundle.Notes[i].Vulnerabilities = vulns(p.bundle.Notes[i].ObjectRefs)
	}
	best := ""
	for _, id := range p.firstSeen {
		if p.createdBy[id] > p.createdBy[best] {
			best = id
		}
	}
	for i := range p.bundle.Identities {
		if p.bundle.Identities[i].ID == best {
			c := p.bundle.Identities[i]
			p.bundle.Creator = &c
		}
	}
	sort.SliceStable(p.bundle.Advisories, func(i, j int) bool { return p.bundle.Advisories[i].ID < p.bundle.Advisories[j].ID })
}
