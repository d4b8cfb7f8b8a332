package vigil

import (
	"context"
	"time"
)

// Advisory sources. An advisory is one source's record of one vulnerability; the same real-world vulnerability
// may have an advisory from each source, linked by aliases into one merged Vulnerability.
const (
	SourceNVD  = "nvd"
	SourceOSV  = "osv"
	SourceKEV  = "kev"
	SourceEPSS = "epss"
	SourceCSAF = "csaf"
	SourceSTIX = "stix"
	// SourceTAXII is a feed that polls an ISAO's TAXII 2.1 collection (the membership whose TAXII URL it names);
	// what it brings are ISAO signals, not advisories.
	SourceTAXII = "taxii"
)

// Advisory is one source's record of one vulnerability, as parsed from a feed. Feed parsers produce these; the
// importer stores them with their provenance. Everything in it is untrusted text from the outside world.
type Advisory struct {
	Source  string   `json:"source"`            // SourceNVD, SourceOSV, SourceCSAF, ...
	ID      string   `json:"id"`                // as the source names it: CVE-..., GHSA-..., PYSEC-..., GO-..., BIT-...
	Aliases []string `json:"aliases,omitempty"` // other ids of the same vulnerability
	Related []string `json:"related,omitempty"` // ids of related, not identical, vulnerabilities
	// Document is the id of the source document when it holds several vulnerabilities (a CSAF tracking id such as
	// ICSMA-24-xxx-01). It is not an alias: one CSAF document may describe several distinct CVEs.
	Document   string      `json:"document,omitempty"`
	Title      string      `json:"title,omitempty"`
	Summary    string      `json:"summary,omitempty"`
	Details    string      `json:"details,omitempty"`
	Published  time.Time   `json:"published,omitzero"`
	Modified   time.Time   `json:"modified,omitzero"`
	Withdrawn  time.Time   `json:"withdrawn,omitzero"` // NVD "Rejected" or OSV withdrawn
	Scores     []Score     `json:"scores,omitempty"`
	CWEs       []string    `json:"cwes,omitempty"`
	References []Reference `json:"references,omitempty"`
	Affected   []Affected  `json:"affected,omitempty"`
	// Configurations are NVD's CPE applicability statements, kept whole for the CPE matcher.
	Configurations []CPEConfig `json:"configurations,omitempty"`
	// Products are the CSAF products this vulnerability names, with their status.
	Products     []Product     `json:"products,omitempty"`
	Remediations []Remediation `json:"remediations,omitempty"`
}

// IsWithdrawn reports whether the source has withdrawn or rejected the advisory.
func (a *Advisory) IsWithdrawn() bool { return !a.Withdrawn.IsZero() }

// Score is one CVSS vector as one source states it.
type Score struct {
	Source string  `json:"source,omitempty"` // who scored: nvd@nist.gov, a CNA, "osv", the CSAF publisher
	Type   string  `json:"type"`             // "Primary"/"Secondary" for NVD; else empty
	Vector string  `json:"vector"`           // CVSS:3.1/AV:N/..., CVSS:4.0/..., or a v2 vector
	Base   float64 `json:"base_score,omitempty"`
}

// Reference is a link given by a source.
type Reference struct {
	Type string `json:"type,omitempty"`
	URL  string `json:"url"`
}

// Affected is one package an advisory says is affected, with OSV semantics.
type Affected struct {
	Ecosystem string   `json:"ecosystem"` // as OSV spells it: PyPI, npm, Maven, Go, Debian:12, Bitnami, ...
	Name      string   `json:"name"`
	Purl      string   `json:"purl,omitempty"`
	Ranges    []Range  `json:"ranges,omitempty"`
	Versions  []string `json:"versions,omitempty"` // explicit affected versions
	CPEs      []string `json:"cpes,omitempty"`     // database_specific CPEs (Bitnami)
	// Ordered is how many leading entries of Versions are versions of Ecosystem, in its order: match records
	// (internal/match) store lists so, and the matcher then searches a list without parsing and sorting it.
	// 0 when not known; never serialized.
	Ordered int `json:"-"`
}

// Range types as OSV names them.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemver    = "SEMVER"
	RangeGit       = "GIT"
)

// Range is an OSV range: events in order; exactly one of the event fields is set in each.
type Range struct {
	Type   string       `json:"type"`
	Repo   string       `json:"repo,omitempty"`
	Events []RangeEvent `json:"events"`
}

// RangeEvent is one OSV range event.
type RangeEvent struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// CPEConfig is one NVD configuration: its nodes combined by Operator (default OR), optionally negated.
type CPEConfig struct {
	Operator string    `json:"operator,omitempty"` // AND or OR
	Negate   bool      `json:"negate,omitempty"`
	Nodes    []CPENode `json:"nodes"`
}

// CPENode is one node of an NVD configuration: its matches combined by Operator, optionally negated.
type CPENode struct {
	Operator string     `json:"operator"`
	Negate   bool       `json:"negate,omitempty"`
	Matches  []CPEMatch `json:"cpe_match"`
}

// CPEMatch is one NVD cpeMatch criterion.
type CPEMatch struct {
	Vulnerable            bool   `json:"vulnerable"`
	Criteria              string `json:"criteria"`
	VersionStartIncluding string `json:"version_start_including,omitempty"`
	VersionStartExcluding string `json:"version_start_excluding,omitempty"`
	VersionEndIncluding   string `json:"version_end_including,omitempty"`
	VersionEndExcluding   string `json:"version_end_excluding,omitempty"`
}

// Product is a CSAF product named by an advisory, flattened out of the product tree.
type Product struct {
	ID      string `json:"id"`
	Vendor  string `json:"vendor,omitempty"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"` // an exact version ("product_version")
	// VersionRange is a "product_version_range" as written: a vers string (vers:generic/<2.3) or free text (<=2.3).
	VersionRange string   `json:"version_range,omitempty"`
	CPE          string   `json:"cpe,omitempty"`
	Purl         string   `json:"purl,omitempty"`
	ModelNumbers []string `json:"model_numbers,omitempty"`
	SKUs         []string `json:"skus,omitempty"`
	// Status is the CSAF product_status category for this vulnerability: known_affected, fixed, known_not_affected,
	// under_investigation, first_affected, last_affected, first_fixed, recommended.
	Status string `json:"status,omitempty"`
}

// Remediation is a CSAF remediation (vendor_fix, mitigation, workaround, none_available, no_fix_planned).
type Remediation struct {
	Category   string   `json:"category"`
	Details    string   `json:"details"`
	URL        string   `json:"url,omitempty"`
	ProductIDs []string `json:"product_ids,omitempty"`
}

// KEVEntry is one CISA Known Exploited Vulnerabilities catalog entry.
type KEVEntry struct {
	CVE            string   `json:"cve"`
	Vendor         string   `json:"vendor"`
	Product        string   `json:"product"`
	Name           string   `json:"name"`
	DateAdded      Date     `json:"date_added"`
	Description    string   `json:"description,omitempty"`
	RequiredAction string   `json:"required_action"`
	DueDate        Date     `json:"due_date"`
	RansomwareUse  string   `json:"known_ransomware_campaign_use"` // Known / Unknown
	Notes          string   `json:"notes,omitempty"`
	CWEs           []string `json:"cwes,omitempty"`
}

// EPSSScore is one FIRST EPSS score for a CVE on a date.
type EPSSScore struct {
	CVE          string  `json:"cve"`
	Score        float64 `json:"epss"`
	Percentile   float64 `json:"percentile"`
	Date         Date    `json:"date"`
	ModelVersion string  `json:"model_version,omitempty"`
}

// Vulnerability is the merged view of one real-world vulnerability across every source that describes it.
type Vulnerability struct {
	ID         string      `json:"id"` // the preferred id: the CVE when there is one
	Aliases    []string    `json:"aliases"`
	Summary    string      `json:"summary,omitempty"`
	Withdrawn  bool        `json:"withdrawn"`
	Scores     []Score     `json:"scores"`
	KEV        *KEVEntry   `json:"kev,omitempty"`
	EPSS       *EPSSScore  `json:"epss,omitempty"`
	Advisories []*Advisory `json:"advisories"`
	References []Reference `json:"references"`
	Modified   time.Time   `json:"modified,omitzero"`
}

// VulnFilter selects vulnerabilities for VulnService.Vulns.
type VulnFilter struct {
	KEV           bool
	MinEPSS       float64
	ModifiedSince time.Time
	Ecosystem     string
	Text          string
	Limit         int
}

// VulnService answers questions about the merged intelligence store. Vuln accepts any alias (ENOTFOUND if none).
type VulnService interface {
	Vuln(ctx context.Context, id string) (*Vulnerability, error)
	Vulns(ctx context.Context, f VulnFilter) ([]*Vulnerability, error)
}
