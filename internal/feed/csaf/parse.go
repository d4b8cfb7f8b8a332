package csaf

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Document is one CSAF 2.0 document as Vigil keeps it: the tracking metadata, the flattened product tree and one
// vigil.Advisory per vulnerability. Text is kept exactly as written (escaping is the job of whoever displays it).
type Document struct {
	Name           string            `json:"name"` // what the caller called it (a file name or URL)
	ID             string            `json:"id"`   // /document/tracking/id, e.g. ICSMA-24-200-01
	Version        string            `json:"version"`
	Status         string            `json:"status"` // draft, interim, final
	InitialRelease time.Time         `json:"initial_release,omitzero"`
	CurrentRelease time.Time         `json:"current_release,omitzero"`
	Revisions      []Revision        `json:"revisions,omitempty"`
	Aliases        []string          `json:"aliases,omitempty"` // /document/tracking/aliases
	Publisher      Publisher         `json:"publisher"`
	Title          string            `json:"title"`
	Category       string            `json:"category"` // csaf_security_advisory, csaf_vex, csaf_base, ...
	Lang           string            `json:"lang,omitempty"`
	TLP            string            `json:"tlp,omitempty"` // /document/distribution/tlp/label
	Notes          []Note            `json:"notes,omitempty"`
	References     []vigil.Reference `json:"references,omitempty"`
	// Products lists every product the tree defines, once, with Status empty.
	Products []vigil.Product `json:"products,omitempty"`
	// FullProductNames maps each product id to its full name as written ("Philips Vue PACS: <12.2.8.410"), since
	// vigil.Product.Name holds the product_name branch that matching needs ("Vue PACS").
	FullProductNames map[string]string `json:"full_product_names,omitempty"`
	// Advisories holds one advisory per entry of /vulnerabilities, in document order.
	Advisories []vigil.Advisory `json:"advisories,omitempty"`
	// Vulnerabilities[i] carries what CSAF says about Advisories[i] that vigil.Advisory has no place for.
	Vulnerabilities []Vulnerability `json:"vulnerabilities,omitempty"`
}

// Revision is one entry of the revision history.
type Revision struct {
	Number  string    `json:"number"`
	Date    time.Time `json:"date"`
	Summary string    `json:"summary"`
}

// Publisher is /document/publisher.
type Publisher struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Category  string `json:"category"` // coordinator, vendor, discoverer, other, translator, user
}

// Note is a document-level note (summary, details, legal_disclaimer, ...).
type Note struct {
	Category string `json:"category"`
	Title    string `json:"title,omitempty"`
	Text     string `json:"text"`
}

// Vulnerability holds the CSAF-only facts of one vulnerability: its threats (impact statements for VEX, exploit
// status, target set), flags (VEX justifications), involvements and dates.
type Vulnerability struct {
	Advisory      string        `json:"advisory"` // the ID of the matching vigil.Advisory
	DiscoveryDate time.Time     `json:"discovery_date,omitzero"`
	ReleaseDate   time.Time     `json:"release_date,omitzero"`
	Threats       []Threat      `json:"threats,omitempty"`
	Flags         []Flag        `json:"flags,omitempty"`
	Involvements  []Involvement `json:"involvements,omitempty"`
}

// Threat is one threat of a vulnerability; ProductIDs has the groups expanded.
type Threat struct {
	Category   string    `json:"category"` // exploit_status, impact, target_set
	Details    string    `json:"details"`
	Date       time.Time `json:"date,omitzero"`
	ProductIDs []string  `json:"product_ids,omitempty"`
}

// Flag is one VEX justification flag; ProductIDs has the groups expanded.
type Flag struct {
	Label      string    `json:"label"`
	Date       time.Time `json:"date,omitzero"`
	ProductIDs []string  `json:"product_ids,omitempty"`
}

// Involvement records a party's involvement (coordinator, vendor, ...) and its status.
type Involvement struct {
	Party   string    `json:"party"`
	Status  string    `json:"status"`
	Date    time.Time `json:"date,omitzero"`
	Summary string    `json:"summary,omitempty"`
}

// Parse reads one CSAF 2.0 document. name identifies the document in errors; a zero field of lim means
// DefaultLimits' value. Errors are EINVALID and name the document and the JSON path of the field at fault.
//
// Parse is deliberately more forgiving than Validate: it needs only what it maps (csaf_version 2.0, a tracking id,
// well-formed dates and CVSS objects) and does not require a schema-valid document, because a real feed that
// misses, say, a generator should still reach the intelligence store. Use Validate to judge conformance.
func Parse(name string, r io.Reader, lim untrusted.Limits) (*Document, error) {
	lim, label := lim.Or(DefaultLimits()), errName(name)
	b, err := untrusted.ReadAll(label, r, lim.MaxRecordSize)
	if err != nil {
		return nil, err
	}
	raw, err := decodeDoc(b, label, lim)
	if err != nil {
		return nil, err
	}
	doc, err := convert(raw, label, lim)
	if err != nil {
		return nil, err
	}
	doc.Name = name
	return doc, nil
}

// decodeDoc bounds, decodes and counts; it is shared by Parse and Validate.
func decodeDoc(b []byte, name string, lim untrusted.Limits) (*rawDoc, error) {
	if err := untrusted.CheckJSON(name, b, lim); err != nil {
		return nil, err
	}
	var raw rawDoc
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, untrusted.JSONError(name, "", b, err)
	}
	if n := len(definitions(raw.ProductTree)); n > lim.MaxProducts {
		return nil, untrusted.Invalid(name, "", "/product_tree: %d product definitions, more than %d", n, lim.MaxProducts)
	}
	if n := len(raw.Vulnerabilities); n > lim.MaxRecords {
		return nil, untrusted.Invalid(name, "", "/vulnerabilities: %d entries, more than %d", n, lim.MaxRecords)
	}
	return &raw, nil
}

func convert(raw *rawDoc, name string, lim untrusted.Limits) (*Document, error) {
	rd := &raw.Document
	if rd.CSAFVersion != "2.0" {
		return nil, untrusted.Invalid(name, "", "/document/csaf_version: %q is not supported (want 2.0)", rd.CSAFVersion)
	}
	tr := &rd.Tracking
	if strings.TrimSpace(tr.ID) == "" {
		return nil, untrusted.Invalid(name, "", "/document/tracking/id: missing")
	}
	doc := &Document{
		ID:        tr.ID,
		Version:   tr.Version,
		Status:    tr.Status,
		Aliases:   cloneStrings(tr.Aliases),
		Publisher: Publisher{Name: rd.Publisher.Name, Namespace: rd.Publisher.Namespace, Category: rd.Publisher.Category},
		Title:     rd.Title,
		Category:  rd.Category,
		Lang:      rd.Lang,
	}
	var err error
	if doc.InitialRelease, err = parseTime(name, "/document/tracking/initial_release_date", tr.InitialReleaseDate); err != nil {
		return nil, err
	}
	if doc.CurrentRelease, err = parseTime(name, "/document/tracking/current_release_date", tr.CurrentReleaseDate); err != nil {
		return nil, err
	}
	for i, rv := range tr.RevisionHistory {
		d, err := parseTime(name, fmt.Sprintf("/document/tracking/revision_history/%d/date", i), rv.Date)
		if err != nil {
			return nil, err
		}
		doc.Revisions = append(doc.Revisions, Revision{Number: rv.Number, Date: d, Summary: rv.Summary})
	}
	if rd.Distribution != nil && rd.Distribution.TLP != nil {
		doc.TLP = rd.Distribution.TLP.Label
	}
	for _, n := range rd.Notes {
		doc.Notes = append(doc.Notes, Note{Category: n.Category, Title: n.Title, Text: n.Text})
	}
	doc.References = references(rd.References)

	idx := buildIndex(raw.ProductTree)
	doc.Products = idx.products
	if len(idx.fullNames) > 0 {
		doc.FullProductNames = idx.fullNames
	}

	// Every advisory links back to the document itself (its "self" references), so a reader of one CVE can find
	// the advisory it came from.
	var self []rawReference
	for _, r := range rd.References {
		if r.Category == "self" {
			self = append(self, r)
		}
	}
	docSummary := firstNote(rd.Notes, "summary")
	refs := 0
	for i := range raw.Vulnerabilities {
		rv := &raw.Vulnerabilities[i]
		path := fmt.Sprintf("/vulnerabilities/%d", i)
		adv := vigil.Advisory{Source: vigil.SourceCSAF, ID: rv.CVE, Document: tr.ID, Title: rv.Title}
		if adv.ID == "" {
			adv.ID = fmt.Sprintf("%s#%d", tr.ID, i)
		}
		// Sets, not slice scans, for de-duplication: a hostile document may repeat an entry a million times.
		seenAlias := map[string]bool{adv.ID: true}
		for _, id := range rv.IDs {
			if id.Text != "" && !seenAlias[id.Text] {
				seenAlias[id.Text] = true
				adv.Aliases = append(adv.Aliases, id.Text)
			}
		}
		if adv.Title == "" {
			adv.Title = rd.Title
		}
		adv.Summary, adv.Details = summarize(rv.Notes)
		if adv.Summary == "" {
			adv.Summary = docSummary
		}
		if adv.Summary == "" {
			adv.Summary = rd.Title
		}
		vx := Vulnerability{Advisory: adv.ID}
		if vx.DiscoveryDate, err = parseTime(name, path+"/discovery_date", rv.DiscoveryDate); err != nil {
			return nil, err
		}
		if vx.ReleaseDate, err = parseTime(name, path+"/release_date", rv.ReleaseDate); err != nil {
			return nil, err
		}
		adv.Published = vx.ReleaseDate
		if adv.Published.IsZero() {
			adv.Published = doc.InitialRelease
		}
		adv.Modified = doc.CurrentRelease
		if rv.CWE != nil && rv.CWE.ID != "" {
			adv.CWEs = []string{rv.CWE.ID}
		}
		seenScore := map[vigil.Score]bool{}
		for j, s := range rv.Scores {
			for _, c := range []struct {
				key string
				raw json.RawMessage
			}{{"cvss_v3", s.CVSSv3}, {"cvss_v2", s.CVSSv2}} {
				sc, ok, err := score(name, fmt.Sprintf("%s/scores/%d/%s", path, j, c.key), c.raw, rd.Publisher.Name)
				if err != nil {
					return nil, err
				}
				if ok && !seenScore[sc] {
					seenScore[sc] = true
					adv.Scores = append(adv.Scores, sc)
				}
			}
		}
		adv.References = references(append(slices.Clone(rv.References), self...))
		for _, sl := range rv.ProductStatus.statusLists() {
			seen := map[string]bool{}
			for _, id := range sl.IDs {
				if seen[id] {
					continue
				}
				seen[id] = true
				p := idx.product(id)
				p.Status = sl.Status
				adv.Products = append(adv.Products, p)
			}
			refs += len(seen)
		}
		for _, rm := range rv.Remediations {
			ids := idx.expand(rm.ProductIDs, rm.GroupIDs)
			refs += len(ids)
			adv.Remediations = append(adv.Remediations, vigil.Remediation{Category: rm.Category, Details: rm.Details, URL: rm.URL, ProductIDs: ids})
		}
		for j, t := range rv.Threats {
			d, err := parseTime(name, fmt.Sprintf("%s/threats/%d/date", path, j), t.Date)
			if err != nil {
				return nil, err
			}
			ids := idx.expand(t.ProductIDs, t.GroupIDs)
			refs += len(ids)
			vx.Threats = append(vx.Threats, Threat{Category: t.Category, Details: t.Details, Date: d, ProductIDs: ids})
		}
		for j, f := range rv.Flags {
			d, err := parseTime(name, fmt.Sprintf("%s/flags/%d/date", path, j), f.Date)
			if err != nil {
				return nil, err
			}
			ids := idx.expand(f.ProductIDs, f.GroupIDs)
			refs += len(ids)
			vx.Flags = append(vx.Flags, Flag{Label: f.Label, Date: d, ProductIDs: ids})
		}
		for j, iv := range rv.Involvements {
			d, err := parseTime(name, fmt.Sprintf("%s/involvements/%d/date", path, j), iv.Date)
			if err != nil {
				return nil, err
			}
			vx.Involvements = append(vx.Involvements, Involvement{Party: iv.Party, Status: iv.Status, Date: d, Summary: iv.Summary})
		}
		if refs > lim.MaxProductRefs {
			return nil, untrusted.Invalid(name, "", "%s: more than %d product references in all", path, lim.MaxProductRefs)
		}
		doc.Advisories = append(doc.Advisories, adv)
		doc.Vulnerabilities = append(doc.Vulnerabilities, vx)
	}
	return doc, nil
}

// parseTime parses an RFC 3339 date-time; an empty string is the zero time (absence is the schema's business).
func parseTime(name, path, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, untrusted.Invalid(name, "", "%s: %q is not an RFC 3339 date-time", path, untrusted.Clip(s))
	}
	return t.UTC(), nil
}

// score maps one cvss_v2 or cvss_v3 object; ok is false when the key is absent.
func score(name, path string, raw json.RawMessage, publisher string) (vigil.Score, bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return vigil.Score{}, false, nil
	}
	var c rawCVSS
	if err := json.Unmarshal(raw, &c); err != nil {
		return vigil.Score{}, false, untrusted.Invalid(name, "", "%s: not a CVSS object: %s", path, strings.TrimPrefix(err.Error(), "json: "))
	}
	if c.VectorString == "" {
		return vigil.Score{}, false, untrusted.Invalid(name, "", "%s/vectorString: missing", path)
	}
	sc := vigil.Score{Source: publisher, Vector: c.VectorString}
	if c.BaseScore != nil {
		sc.Base = *c.BaseScore
	}
	return sc, true, nil
}

// summarize picks the summary (a "summary" note, else a "description", else the first note that is not a legal
// disclaimer) and joins the remaining notes' text as details.
func summarize(notes []rawNote) (summary, details string) {
	pick := -1
	for _, cat := range []string{"summary", "description"} {
		for i, n := range notes {
			if n.Category == cat && n.Text != "" {
				pick = i
				break
			}
		}
		if pick >= 0 {
			break
		}
	}
	if pick < 0 {
		for i, n := range notes {
			if n.Category != "legal_disclaimer" && n.Text != "" {
				pick = i
				break
			}
		}
	}
	var rest []string
	for i, n := range notes {
		if i != pick && n.Category != "legal_disclaimer" && n.Text != "" {
			rest = append(rest, n.Text)
		}
	}
	if pick >= 0 {
		summary = notes[pick].Text
	}
	return summary, strings.Join(rest, "\n\n")
}

func firstNote(notes []rawNote, category string) string {
	for _, n := range notes {
		if n.Category == category && n.Text != "" {
			return n.Text
		}
	}
	return ""
}

// references maps references, dropping empty URLs and repeats of a URL (the first one wins).
func references(rs []rawReference) []vigil.Reference {
	var out []vigil.Reference
	seen := map[string]bool{}
	for _, r := range rs {
		if r.URL != "" && !seen[r.URL] {
			seen[r.URL] = true
			out = append(out, vigil.Reference{Type: r.Category, URL: r.URL})
		}
	}
	return out
}
