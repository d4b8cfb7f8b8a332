// Package csaf writes OASIS CSAF 2.0 documents: the security advisory Vigil publishes for a case or a customer
// notice (csaf_security_advisory) and the VEX profile (csaf_vex) for one device version. A caller describes the
// document with this package's plain types (products, vulnerabilities, statuses, scores, remediations); Write
// lays out the product tree (vendor → product → version or version range, with CPE and purl where known), scores
// every CVSS vector itself, and refuses to return a document that fails Vigil's own CSAF validator (the embedded
// schema and the mandatory tests of internal/feed/csaf, the same one imported CSAF is judged by). Output is
// deterministic for the same input, so documents can be golden-tested and hashed.
package csaf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	csafin "github.com/vigil-dev/vigil/internal/feed/csaf"
	"github.com/vigil-dev/vigil/internal/risk"
)

// Document categories Vigil writes.
const (
	CategorySecurityAdvisory = "csaf_security_advisory"
	CategoryVEX              = "csaf_vex"
)

// Tracking statuses (CSAF 2.0 §3.2.1.12.5).
const (
	StatusDraft   = "draft"
	StatusInterim = "interim"
	StatusFinal   = "final"
)

// Statuses lists the tracking statuses.
var Statuses = []string{StatusDraft, StatusInterim, StatusFinal}

// TLP labels of CSAF 2.0 (TLP 1.0 names).
var TLPs = []string{"WHITE", "GREEN", "AMBER", "RED"}

// Remediation categories (CSAF 2.0 §3.2.3.12.2).
const (
	RemedyVendorFix     = "vendor_fix"
	RemedyMitigation    = "mitigation"
	RemedyWorkaround    = "workaround"
	RemedyNoneAvailable = "none_available"
	RemedyNoFixPlanned  = "no_fix_planned"
)

// Justifications are the CSAF VEX flag labels for known_not_affected (CSAF 2.0 §3.2.3.5); CycloneDX and OpenVEX
// use the same five ideas under other names.
var Justifications = []string{"component_not_present", "vulnerable_code_not_present", "vulnerable_code_cannot_be_controlled_by_adversary",
	"vulnerable_code_not_in_execute_path", "inline_mitigations_already_exist"}

// Generator names the engine written into /document/tracking/generator (CSAF 2.0 §3.2.1.12.6 recommends it).
var Generator = "Vigil"

// Document describes one CSAF document to write.
type Document struct {
	Category        string // CategorySecurityAdvisory or CategoryVEX
	Title           string
	Lang            string // default "en"
	TLP             string // TLPs; default WHITE
	Publisher       Publisher
	Tracking        Tracking
	Notes           []Note
	References      []Reference
	Products        []Product
	Vulnerabilities []Vulnerability
}

// Publisher is the issuing manufacturer (/document/publisher, category vendor).
type Publisher struct {
	Name           string
	Namespace      string // the manufacturer's https URL
	ContactDetails string
	// Signer signs the documents a provider serves with the manufacturer's OpenPGP key (nil: none is signed).
	Signer Signer
}

// Signer makes the OpenPGP side of a provider (CSAF 2.0 requirements 19 and 20): an armored detached signature of
// a document, dated at its current release, and the public key that verifies it (internal/pgpkey.Key).
type Signer interface {
	DetachSign(data []byte, at time.Time) ([]byte, error)
	PublicKey() []byte
	Fingerprint() string
}

// Tracking is /document/tracking. Version is the integer version (the number of the last revision); every
// revision is listed, oldest first, numbered 1, 2, ... .
type Tracking struct {
	ID        string
	Status    string // Statuses
	Initial   time.Time
	Current   time.Time
	Revisions []Revision
}

// Revision is one entry of the revision history.
type Revision struct {
	Number  int       `json:"number"`
	Date    time.Time `json:"date"`
	Summary string    `json:"summary"`
}

// Note is a document or vulnerability note (category description, details, general, summary, legal_disclaimer,
// other, faq).
type Note struct {
	Category string
	Title    string
	Text     string
}

// Reference is a link (category self or external).
type Reference struct {
	Category string // default external
	Summary  string
	URL      string
}

// Product is one product the document speaks of: a device version (Version), or a range of them (Range, a vers
// string such as "vers:generic/<3.3.0"). ID is its product id, unique in the document.
type Product struct {
	ID      string
	Vendor  string
	Name    string
	Version string
	Range   string
	CPE     string
	Purl    string
}

// FullName is the product's full name as CSAF displays it: "Infusion Pump IP-3 3.2.1".
func (p Product) FullName() string {
	v := p.Version
	if v == "" {
		v = strings.TrimPrefix(p.Range, "vers:generic/")
	}
	return strings.TrimSpace(p.Name + " " + v)
}

// Vulnerability is one entry of /vulnerabilities.
type Vulnerability struct {
	CVE             string
	IDs             []ID // other identifiers (a GHSA, a provisional case id)
	Title           string
	CWE             string // "CWE-295"; its name is looked up in the CWE list the validator uses
	DiscoveryDate   time.Time
	ReleaseDate     time.Time
	Notes           []Note
	Status          ProductStatus
	Scores          []Score
	Threats         []Threat
	Flags           []Flag
	Remediations    []Remediation
	References      []Reference
	Acknowledgments []Acknowledgment
}

// ID is a vulnerability identifier that is not a CVE.
type ID struct {
	System string
	Text   string
}

// ProductStatus lists product ids per status.
type ProductStatus struct {
	KnownAffected      []string
	Fixed              []string
	KnownNotAffected   []string
	UnderInvestigation []string
	FirstFixed         []string
	Recommended        []string
}

// Score is a CVSS v2 or v3.x vector and the products it scores.
type Score struct {
	Vector   string
	Products []string
}

// Threat is an impact statement, exploit status or target set.
type Threat struct {
	Category string // impact, exploit_status, target_set
	Details  string
	Products []string
}

// Flag is a VEX justification for known_not_affected products.
type Flag struct {
	Label    string // Justifications
	Products []string
}

// Remediation is a vendor fix, mitigation, workaround, none_available or no_fix_planned.
type Remediation struct {
	Category string
	Details  string
	Date     time.Time
	URL      string
	Products []string
}

// Acknowledgment credits a finder (the reporter's credit as they asked for it).
type Acknowledgment struct {
	Names        []string
	Organization string
	Summary      string
	URLs         []string
}

// Write renders d as CSAF 2.0 JSON and validates it with Vigil's CSAF validator. A document that fails is
// refused with EINVALID naming the schema errors and failed mandatory tests: Vigil never hands out a document it
// would itself reject on import.
func Write(d Document) ([]byte, error) {
	raw, err := build(d)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(raw); err != nil {
		return nil, err
	}
	rep, err := csafin.Validate(buf.Bytes())
	if err != nil {
		return nil, err
	}
	if !rep.Valid() {
		var why []string
		why = append(why, rep.SchemaErrors...)
		for _, f := range rep.Failed {
			why = append(why, fmt.Sprintf("test %s (%s): %s", f.ID, f.Name, strings.Join(f.Errors, "; ")))
		}
		if rep.NotRun != "" {
			why = append(why, rep.NotRun)
		}
		return nil, vigil.Errorf(vigil.EINVALID, "csaf %s: the document fails CSAF 2.0 validation: %s", d.Tracking.ID, strings.Join(why, " | "))
	}
	return buf.Bytes(), nil
}

// FileName is the file name CSAF 2.0 §5.1 gives a document of tracking id id: lower case, every character other
// than a-z, 0-9, '+', '-' replaced by '_', and ".json".
func FileName(id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(id) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '+' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + ".json"
}

// ---- the JSON model (only what Vigil writes; field order is the specification's)

type obj = map[string]any

func build(d Document) (obj, error) {
	if d.Category != CategorySecurityAdvisory && d.Category != CategoryVEX {
		return nil, vigil.Errorf(vigil.EINVALID, "category: %q (want %s or %s)", d.Category, CategorySecurityAdvisory, CategoryVEX)
	}
	if d.Lang == "" {
		d.Lang = "en"
	}
	if d.TLP == "" {
		d.TLP = "WHITE"
	}
	if err := vigil.OneOf("tlp", d.TLP, TLPs); err != nil {
		return nil, err
	}
	if err := vigil.OneOf("tracking.status", d.Tracking.Status, Statuses); err != nil {
		return nil, err
	}
	if len(d.Tracking.Revisions) == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "tracking.revisions: at least one revision is required")
	}
	revs := make([]obj, len(d.Tracking.Revisions))
	for i, r := range d.Tracking.Revisions {
		revs[i] = obj{"date": stamp(r.Date), "number": fmt.Sprint(r.Number), "summary": r.Summary}
	}
	last := d.Tracking.Revisions[len(d.Tracking.Revisions)-1]
	pub := obj{"category": "vendor", "name": d.Publisher.Name, "namespace": d.Publisher.Namespace}
	if d.Publisher.ContactDetails != "" {
		pub["contact_details"] = d.Publisher.ContactDetails
	}
	doc := obj{
		"category":     d.Category,
		"csaf_version": "2.0",
		"distribution": obj{"tlp": obj{"label": d.TLP, "url": "https://www.first.org/tlp/"}},
		"lang":         d.Lang,
		"publisher":    pub,
		"title":        d.Title,
		"tracking": obj{
			"current_release_date": stamp(d.Tracking.Current),
			"generator":            obj{"date": stamp(d.Tracking.Current), "engine": obj{"name": Generator}},
			"id":                   d.Tracking.ID,
			"initial_release_date": stamp(d.Tracking.Initial),
			"revision_history":     revs,
			"status":               d.Tracking.Status,
			"version":              fmt.Sprint(last.Number),
		},
	}
	if len(d.Notes) > 0 {
		doc["notes"] = notes(d.Notes)
	}
	if len(d.References) > 0 {
		doc["references"] = refs(d.References)
	}
	vulns := make([]obj, 0, len(d.Vulnerabilities))
	for i, v := range d.Vulnerabilities {
		o, err := vuln(v)
		if err != nil {
			return nil, fmt.Errorf("vulnerabilities[%d]: %w", i, err)
		}
		vulns = append(vulns, o)
	}
	return obj{"document": doc, "product_tree": tree(d.Products), "vulnerabilities": vulns}, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func notes(ns []Note) []obj {
	out := make([]obj, len(ns))
	for i, n := range ns {
		o := obj{"category": n.Category, "text": n.Text}
		if n.Title != "" {
			o["title"] = n.Title
		}
		out[i] = o
	}
	return out
}

func refs(rs []Reference) []obj {
	out := make([]obj, len(rs))
	for i, r := range rs {
		cat := r.Category
		if cat == "" {
			cat = "external"
		}
		out[i] = obj{"category": cat, "summary": r.Summary, "url": r.URL}
	}
	return out
}

// tree groups products by vendor, then product name, then version or range, in first-seen order.
func tree(ps []Product) obj {
	type nameNode struct {
		name  string
		items []Product
	}
	type vendorNode struct {
		name  string
		names []*nameNode
	}
	var vendors []*vendorNode
	find := func(v string) *vendorNode {
		for _, x := range vendors {
			if x.name == v {
				return x
			}
		}
		x := &vendorNode{name: v}
		vendors = append(vendors, x)
		return x
	}
	for _, p := range ps {
		vn := find(p.Vendor)
		var nn *nameNode
		for _, x := range vn.names {
			if x.name == p.Name {
				nn = x
			}
		}
		if nn == nil {
			nn = &nameNode{name: p.Name}
			vn.names = append(vn.names, nn)
		}
		nn.items = append(nn.items, p)
	}
	var top []obj
	for _, vn := range vendors {
		var names []obj
		for _, nn := range vn.names {
			var leaves []obj
			for _, p := range nn.items {
				fp := obj{"name": p.FullName(), "product_id": p.ID}
				helper := obj{}
				if p.CPE != "" {
					helper["cpe"] = p.CPE
				}
				if p.Purl != "" {
					helper["purl"] = p.Purl
				}
				if len(helper) > 0 {
					fp["product_identification_helper"] = helper
				}
				cat, name := "product_version", p.Version
				if p.Version == "" {
					cat, name = "product_version_range", p.Range
				}
				leaves = append(leaves, obj{"category": cat, "name": name, "product": fp})
			}
			names = append(names, obj{"branches": leaves, "category": "product_name", "name": nn.name})
		}
		top = append(top, obj{"branches": names, "category": "vendor", "name": vn.name})
	}
	return obj{"branches": top}
}

func vuln(v Vulnerability) (obj, error) {
	o := obj{}
	if v.CVE != "" {
		o["cve"] = v.CVE
	}
	if len(v.IDs) > 0 {
		ids := make([]obj, len(v.IDs))
		for i, x := range v.IDs {
			ids[i] = obj{"system_name": x.System, "text": x.Text}
		}
		o["ids"] = ids
	}
	if v.Title != "" {
		o["title"] = v.Title
	}
	if v.CWE != "" {
		name, ok := csafin.CWEName(v.CWE)
		if !ok {
			return nil, vigil.Errorf(vigil.EINVALID, "cwe: %q is not in the CWE list", v.CWE)
		}
		o["cwe"] = obj{"id": v.CWE, "name": name}
	}
	if !v.DiscoveryDate.IsZero() {
		o["discovery_date"] = stamp(v.DiscoveryDate)
	}
	if !v.ReleaseDate.IsZero() {
		o["release_date"] = stamp(v.ReleaseDate)
	}
	if len(v.Notes) > 0 {
		o["notes"] = notes(v.Notes)
	}
	ps := obj{}
	for _, x := range []struct {
		key string
		ids []string
	}{{"first_fixed", v.Status.FirstFixed}, {"fixed", v.Status.Fixed}, {"known_affected", v.Status.KnownAffected},
		{"known_not_affected", v.Status.KnownNotAffected}, {"recommended", v.Status.Recommended}, {"under_investigation", v.Status.UnderInvestigation}} {
		if len(x.ids) > 0 {
			ps[x.key] = x.ids
		}
	}
	if len(ps) > 0 {
		o["product_status"] = ps
	}
	if len(v.Scores) > 0 {
		var scores []obj
		for i, s := range v.Scores {
			sc, err := cvss(s.Vector)
			if err != nil {
				return nil, fmt.Errorf("scores[%d]: %w", i, err)
			}
			scores = append(scores, obj{sc.key: sc.body, "products": s.Products})
		}
		o["scores"] = scores
	}
	if len(v.Threats) > 0 {
		ts := make([]obj, len(v.Threats))
		for i, t := range v.Threats {
			ts[i] = obj{"category": t.Category, "details": t.Details}
			if len(t.Products) > 0 {
				ts[i]["product_ids"] = t.Products
			}
		}
		o["threats"] = ts
	}
	if len(v.Flags) > 0 {
		fs := make([]obj, len(v.Flags))
		for i, f := range v.Flags {
			if err := vigil.OneOf(fmt.Sprintf("flags[%d].label", i), f.Label, Justifications); err != nil {
				return nil, err
			}
			fs[i] = obj{"label": f.Label, "product_ids": f.Products}
		}
		o["flags"] = fs
	}
	if len(v.Remediations) > 0 {
		rs := make([]obj, len(v.Remediations))
		for i, r := range v.Remediations {
			rs[i] = obj{"category": r.Category, "details": r.Details, "product_ids": r.Products}
			if !r.Date.IsZero() {
				rs[i]["date"] = stamp(r.Date)
			}
			if r.URL != "" {
				rs[i]["url"] = r.URL
			}
		}
		o["remediations"] = rs
	}
	if len(v.References) > 0 {
		o["references"] = refs(v.References)
	}
	if len(v.Acknowledgments) > 0 {
		as := make([]obj, len(v.Acknowledgments))
		for i, a := range v.Acknowledgments {
			x := obj{}
			if len(a.Names) > 0 {
				x["names"] = a.Names
			}
			if a.Organization != "" {
				x["organization"] = a.Organization
			}
			if a.Summary != "" {
				x["summary"] = a.Summary
			}
			if len(a.URLs) > 0 {
				x["urls"] = a.URLs
			}
			as[i] = x
		}
		o["acknowledgments"] = as
	}
	return o, nil
}

type cvssObj struct {
	key  string
	body obj
}

// cvss scores a vector for /vulnerabilities[]/scores: cvss_v3 for v3.0 and v3.1, cvss_v2 for v2. CSAF 2.0 has no
// place for CVSS v4.0.
func cvss(vector string) (cvssObj, error) {
	c, err := risk.ParseCVSS(vector)
	if err != nil {
		return cvssObj{}, err
	}
	switch c.Version {
	case risk.CVSS30, risk.CVSS31:
		return cvssObj{"cvss_v3", obj{"baseScore": c.BaseScore, "baseSeverity": c.Severity, "vectorString": c.Vector, "version": c.Version}}, nil
	case risk.CVSS20:
		return cvssObj{"cvss_v2", obj{"baseScore": c.BaseScore, "vectorString": c.Vector, "version": c.Version}}, nil
	}
	return cvssObj{}, vigil.Errorf(vigil.EINVALID, "cvss: version %s has no place in CSAF 2.0 (v2.0, v3.0, v3.1)", c.Version)
}

// SortedIDs returns ids sorted and without duplicates: product lists read the same whatever order the caller
// found them in.
func SortedIDs(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	n := 0
	for i, x := range out {
		if i == 0 || x != out[n-1] {
			out[n] = x
			n++
		}
	}
	return out[:n]
}

// KnownCWE reports whether a weakness id is in the CWE list the validator checks names against: a CWE from a feed
// that is not (a newer or a category id) is left out of a document rather than failing it.
func KnownCWE(id string) bool {
	_, ok := csafin.CWEName(id)
	return ok
}
