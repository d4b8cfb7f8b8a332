package cyclonedx

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-dev/vigil"
)

// VEXOptions describes the VEX document around the findings. Every field is optional.
type VEXOptions struct {
	// SpecVersion is "1.5" or "1.6" (the default): the first CycloneDX versions with VEX analysis in the BOM.
	SpecVersion string
	// SerialNumber, "urn:uuid:…", identifies the document; omitted when empty.
	SerialNumber string
	// Timestamp is metadata.timestamp; omitted when zero. Pass the clock's time: the writer never reads the clock.
	Timestamp time.Time
	// Subject is metadata.component: the device version the findings are about.
	Subject *vigil.Component
	// ToolVersion is the Vigil version named in metadata.tools.
	ToolVersion string
	// Manufacturer is metadata.manufacturer (WriteStatements): who states the analysis.
	Manufacturer string
	// Assessed, when set, gives the manufacturer's statement about a finding's vulnerability (nil: none), which
	// replaces the analysis derived from the match (WriteVEX).
	Assessed func(f vigil.Finding) *Statement
}

// hexDigest is the CycloneDX hash content pattern; other digests are left out rather than produce an invalid BOM.
var hexDigest = regexp.MustCompile(`^([a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128})$`)

var cdxHashAlgs = map[string]bool{"MD5": true, "SHA-1": true, "SHA-256": true, "SHA-384": true, "SHA-512": true,
	"SHA3-256": true, "SHA3-384": true, "SHA3-512": true, "BLAKE2b-256": true, "BLAKE2b-384": true,
	"BLAKE2b-512": true, "BLAKE3": true}

var cdxTypes = map[string]bool{"application": true, "framework": true, "library": true, "container": true,
	"platform": true, "operating-system": true, "device": true, "device-driver": true, "firmware": true,
	"file": true, "machine-learning-model": true, "data": true, "cryptographic-asset": true}

// WriteVEX writes a CycloneDX JSON VEX document: the components, and one vulnerability per finding (one per
// component and vulnerability id, as the matcher reports them) with an affects reference to its component and an
// analysis state derived from the finding: open → in_triage (matched, not yet assessed), could_not_evaluate →
// in_triage with the reason, resolved → resolved. The output is deterministic for the same input, so it can be
// diffed and golden-tested. Findings whose component is not in comps add that component.
func WriteVEX(w io.Writer, comps []vigil.Component, findings []vigil.Finding, opt VEXOptions) error {
	spec := cdx.SpecVersion1_6
	switch opt.SpecVersion {
	case "", "1.6":
	case "1.5":
		spec = cdx.SpecVersion1_5
	default:
		return vigil.Errorf(vigil.EINVALID, "VEX spec version %q: want 1.5 or 1.6", opt.SpecVersion)
	}
	bom := cdx.NewBOM()
	bom.SerialNumber = opt.SerialNumber
	bom.Version = 1
	tool := cdx.Component{Type: cdx.ComponentTypeApplication, Name: "vigil", Version: opt.ToolVersion}
	bom.Metadata = &cdx.Metadata{Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{tool}}}
	if !opt.Timestamp.IsZero() {
		bom.Metadata.Timestamp = opt.Timestamp.UTC().Format(time.RFC3339)
	}
	if opt.Subject != nil {
		s := toCDX(*opt.Subject, "")
		if s.Type == cdx.ComponentTypeLibrary && opt.Subject.Type == "" {
			s.Type = cdx.ComponentTypeDevice
		}
		bom.Metadata.Component = &s
	}

	refs := newRefTable()
	var out []cdx.Component
	add := func(c vigil.Component) string {
		if ref, ok := refs.lookup(c); ok {
			return ref
		}
		ref := refs.assign(c)
		out = append(out, toCDX(c, ref))
		return ref
	}
	for _, c := range comps {
		add(c)
	}
	fs := append([]vigil.Finding(nil), findings...)
	// Sort for a stable document: by vulnerability id, then component.
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Vulnerability != fs[j].Vulnerability {
			return fs[i].Vulnerability < fs[j].Vulnerability
		}
		return identity(fs[i].Component) < identity(fs[j].Component)
	})
	var vulns []cdx.Vulnerability
	for _, f := range fs {
		if strings.TrimSpace(f.Vulnerability) == "" {
			return vigil.Errorf(vigil.EINVALID, "VEX: a finding for %s has no vulnerability id", f.Component.Name)
		}
		ref := add(f.Component)
		v := vexVulnerability(f, ref)
		if opt.Assessed != nil {
			if st := opt.Assessed(f); st != nil {
				assess(&v, *st)
			}
		}
		vulns = append(vulns, v)
	}
	if out != nil {
		bom.Components = &out
	}
	if vulns != nil {
		bom.Vulnerabilities = &vulns
	}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, spec); err != nil {
		return fmt.Errorf("write VEX: %w", err)
	}
	return nil
}

func vexVulnerability(f vigil.Finding, ref string) cdx.Vulnerability {
	v := cdx.Vulnerability{ID: f.Vulnerability}
	if src := sourceOf(f.Vulnerability, f.Evidence.Source); src != nil {
		v.Source = src
	}
	if len(f.Aliases) > 0 {
		aliases := append([]string(nil), f.Aliases...)
		sort.Strings(aliases)
		var rs []cdx.VulnerabilityReference
		for _, a := range aliases {
			if a == f.Vulnerability {
				continue
			}
			rs = append(rs, cdx.VulnerabilityReference{ID: a, Source: sourceOf(a, "")})
		}
		if rs != nil {
			v.References = &rs
		}
	}
	state, status := cdx.IASInTriage, cdx.VulnerabilityStatusAffected
	detail := fmt.Sprintf("Matched by %s on %s.", orUnknown(f.Evidence.Matcher), orUnknown(f.Evidence.Range))
	switch f.State {
	case vigil.FindingResolved:
		state, status = cdx.IASResolved, cdx.VulnerabilityStatusNotAffected
		detail = "No longer matches: " + detail
	case vigil.FindingCouldNotEval:
		status = cdx.VulnerabilityStatusUnknown
		detail = "Could not be evaluated"
		if f.Evidence.Reason != "" {
			detail += ": " + f.Evidence.Reason
		}
		detail += ". " + fmt.Sprintf("Candidate match by %s on %s.", orUnknown(f.Evidence.Matcher), orUnknown(f.Evidence.Range))
	}
	v.Analysis = &cdx.VulnerabilityAnalysis{State: state, Detail: detail}
	if f.Evidence.Fixed != "" && f.State != vigil.FindingResolved {
		v.Recommendation = fmt.Sprintf("Upgrade %s to %s or later.", f.Component.Name, f.Evidence.Fixed)
	}
	affected := cdx.AffectedVersions{Version: f.Component.Version, Status: status}
	if affected.Version == "" {
		affected.Range = "vers:generic/*"
	}
	v.Affects = &[]cdx.Affects{{Ref: ref, Range: &[]cdx.AffectedVersions{affected}}}
	props := []cdx.Property{}
	addProp := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: name, Value: value})
		}
	}
	addProp("vigil:finding:state", string(f.State))
	addProp("vigil:evidence:matcher", f.Evidence.Matcher)
	addProp("vigil:evidence:range", f.Evidence.Range)
	addProp("vigil:evidence:fixed", f.Evidence.Fixed)
	addProp("vigil:evidence:advisory", f.Evidence.Advisory)
	if len(props) > 0 {
		v.Properties = &props
	}
	return v
}

// assess replaces a finding's match-derived analysis with the manufacturer's statement, keeping the match
// evidence in the detail.
func assess(v *cdx.Vulnerability, st Statement) {
	an, status := st.analysis()
	if v.Analysis != nil && v.Analysis.Detail != "" {
		an.Detail = strings.TrimSpace(an.Detail + "\n" + v.Analysis.Detail)
	}
	v.Analysis = an
	if st.Recommendation != "" {
		v.Recommendation = st.Recommendation
	}
	for i := range *v.Affects {
		for j := range *(*v.Affects)[i].Range {
			(*(*v.Affects)[i].Range)[j].Status = status
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// sourceOf names the database an id comes from, by its prefix, with a link where one is stable.
func sourceOf(id, given string) *cdx.Source {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case strings.HasPrefix(id, "GHSA-"):
		return &cdx.Source{Name: "GitHub", URL: "https://github.com/advisories/" + id}
	case strings.HasPrefix(id, "GO-"), strings.HasPrefix(id, "PYSEC-"), strings.HasPrefix(id, "BIT-"),
		strings.HasPrefix(id, "OSV-"), strings.HasPrefix(id, "RUSTSEC-"):
		return &cdx.Source{Name: "OSV", URL: "https://osv.dev/vulnerability/" + id}
	case strings.HasPrefix(id, "ICSMA-"), strings.HasPrefix(id, "ICSA-"):
		return &cdx.Source{Name: "CISA"}
	case given != "":
		return &cdx.Source{Name: given}
	}
	return nil
}

func toCDX(c vigil.Component, ref string) cdx.Component {
	typ := cdx.ComponentType(c.Type)
	if !cdxTypes[c.Type] {
		typ = cdx.ComponentTypeLibrary
	}
	out := cdx.Component{
		BOMRef:     ref,
		Type:       typ,
		Group:      c.Group,
		Name:       c.Name,
		Version:    c.Version,
		PackageURL: c.Purl,
		CPE:        c.CPE,
	}
	if out.Name == "" {
		out.Name = "(unnamed)"
	}
	if c.Supplier != "" {
		out.Supplier = &cdx.OrganizationalEntity{Name: c.Supplier}
	}
	algs := make([]string, 0, len(c.Hashes))
	for a := range c.Hashes {
		algs = append(algs, a)
	}
	sort.Strings(algs)
	var hs []cdx.Hash
	for _, a := range algs {
		if cdxHashAlgs[a] && hexDigest.MatchString(c.Hashes[a]) {
			hs = append(hs, cdx.Hash{Algorithm: cdx.HashAlgorithm(a), Value: c.Hashes[a]})
		}
	}
	if hs != nil {
		out.Hashes = &hs
	}
	return out
}

// identity is what makes two vigil.Components the same component for the VEX: the data the document shows.
func identity(c vigil.Component) string {
	return strings.Join([]string{c.Purl, c.Group, c.Name, c.Version, c.CPE}, "\x00")
}

// refTable hands out bom-refs: the purl when it is unique in the document, else component-N.
type refTable struct {
	byIdentity map[string]string
	used       map[string]bool
	n          int
}

func newRefTable() *refTable {
	return &refTable{byIdentity: map[string]string{}, used: map[string]bool{}}
}

func (t *refTable) lookup(c vigil.Component) (string, bool) {
	r, ok := t.byIdentity[identity(c)]
	return r, ok
}

func (t *refTable) assign(c vigil.Component) string {
	t.n++
	ref := c.Purl
	if ref == "" || t.used[ref] {
		ref = fmt.Sprintf("component-%d", t.n)
		for t.used[ref] {
			ref += "-"
		}
	}
	t.used[ref] = true
	t.byIdentity[identity(c)] = ref
	return ref
}

// Analysis states of a Statement (CycloneDX impact analysis states).
const (
	StateExploitable = string(cdx.IASExploitable)
	StateNotAffected = string(cdx.IASNotAffected)
	StateResolved    = string(cdx.IASResolved)
	StateInTriage    = string(cdx.IASInTriage)
)

// Statement is one assessed vulnerability of a product, as the manufacturer states it: the analysis state, its
// justification (not_affected), responses and detail, and the recommendation to users.
type Statement struct {
	Vulnerability  string
	Aliases        []string
	Components     []vigil.Component // the product's components that carry it; none: the product itself
	State          string
	Justification  string
	Responses      []string
	Detail         string
	Recommendation string
	Timestamp      time.Time
}

// analysis is the statement's CycloneDX analysis, and the status of the versions it affects.
func (s Statement) analysis() (*cdx.VulnerabilityAnalysis, cdx.VulnerabilityStatus) {
	an := &cdx.VulnerabilityAnalysis{State: cdx.ImpactAnalysisState(s.State), Justification: cdx.ImpactAnalysisJustification(s.Justification), Detail: s.Detail}
	if len(s.Responses) > 0 {
		resp := make([]cdx.ImpactAnalysisResponse, len(s.Responses))
		for i, r := range s.Responses {
			resp[i] = cdx.ImpactAnalysisResponse(r)
		}
		an.Response = &resp
	}
	if !s.Timestamp.IsZero() {
		an.LastUpdated = s.Timestamp.UTC().Format(time.RFC3339)
	}
	switch s.State {
	case StateNotAffected, StateResolved:
		return an, cdx.VulnerabilityStatusNotAffected
	case StateInTriage:
		return an, cdx.VulnerabilityStatusUnknown
	}
	return an, cdx.VulnerabilityStatusAffected
}

// WriteStatements writes a CycloneDX 1.6 JSON VEX document about product (metadata.component): its components,
// and one vulnerability per statement whose affects name the components that carry it (or the product). It is
// the manufacturer's own assessment, where WriteVEX reports matches; the output is deterministic for the same
// input.
func WriteStatements(w io.Writer, product vigil.Component, comps []vigil.Component, sts []Statement, opt VEXOptions) error {
	bom := cdx.NewBOM()
	bom.SerialNumber = opt.SerialNumber
	bom.Version = 1
	tool := cdx.Component{Type: cdx.ComponentTypeApplication, Name: "vigil", Version: opt.ToolVersion}
	bom.Metadata = &cdx.Metadata{Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{tool}}}
	if !opt.Timestamp.IsZero() {
		bom.Metadata.Timestamp = opt.Timestamp.UTC().Format(time.RFC3339)
	}
	if opt.Manufacturer != "" {
		bom.Metadata.Manufacturer = &cdx.OrganizationalEntity{Name: opt.Manufacturer}
	}
	refs := newRefTable()
	subject := toCDX(product, refs.assign(product))
	bom.Metadata.Component = &subject
	var out []cdx.Component
	add := func(c vigil.Component) string {
		if ref, ok := refs.lookup(c); ok {
			return ref
		}
		ref := refs.assign(c)
		out = append(out, toCDX(c, ref))
		return ref
	}
	for _, c := range comps {
		add(c)
	}
	var vulns []cdx.Vulnerability
	for _, s := range sts {
		if strings.TrimSpace(s.Vulnerability) == "" {
			return vigil.Errorf(vigil.EINVALID, "VEX: a statement has no vulnerability id")
		}
		v := cdx.Vulnerability{ID: s.Vulnerability, Source: sourceOf(s.Vulnerability, ""), Recommendation: s.Recommendation}
		var rs []cdx.VulnerabilityReference
		for _, a := range s.Aliases {
			if a != s.Vulnerability {
				rs = append(rs, cdx.VulnerabilityReference{ID: a, Source: sourceOf(a, "")})
			}
		}
		if rs != nil {
			v.References = &rs
		}
		var status cdx.VulnerabilityStatus
		v.Analysis, status = s.analysis()
		var affects []cdx.Affects
		for _, c := range s.Components {
			ref := add(c)
			av := cdx.AffectedVersions{Version: c.Version, Status: status}
			if av.Version == "" {
				av.Range = "vers:generic/*"
			}
			affects = append(affects, cdx.Affects{Ref: ref, Range: &[]cdx.AffectedVersions{av}})
		}
		if affects == nil {
			affects = []cdx.Affects{{Ref: subject.BOMRef, Range: &[]cdx.AffectedVersions{{Version: product.Version, Status: status}}}}
		}
		v.Affects = &affects
		vulns = append(vulns, v)
	}
	if out != nil {
		bom.Components = &out
	}
	if vulns != nil {
		bom.Vulnerabilities = &vulns
	}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("write VEX: %w", err)
	}
	return nil
}
