package vigil

import "time"

// SourceRef is the provenance of one source's advisory in a merged vulnerability: which document it was read from,
// where and when that was fetched, and the document's digest.
type SourceRef struct {
	Source      string    `json:"source"`
	ID          string    `json:"id"`
	Document    string    `json:"document,omitempty"`
	Revision    int       `json:"revision"` // 1 for the first version the store saw; earlier ones are kept
	File        string    `json:"file"`
	URL         string    `json:"url,omitempty"`
	FetchedAt   time.Time `json:"fetched_at"`
	Digest      string    `json:"digest"` // SHA-256 of the document as fetched
	DocRevision string    `json:"document_revision,omitempty"`
	DocumentRef int64     `json:"document_ref"`
}

// VulnDetail is the merged view with the provenance of each source's advisory, what `vigil vuln show` prints.
type VulnDetail struct {
	Vulnerability
	Sources []SourceRef `json:"sources"`
}

// Signal is one cybersecurity signal raised on a device by a CSAF advisory.
type Signal struct {
	ID          int64     `json:"id"`
	DeviceID    int64     `json:"device_id"`
	Device      string    `json:"device"`
	Document    string    `json:"document"`      // the CSAF tracking id (ICSMA-24-200-01)
	Vuln        string    `json:"vulnerability"` // the advisory's id (the CVE)
	ReleaseDate Date      `json:"release_date"`
	MatchedBy   string    `json:"matched_by"` // model, name or vendor
	Matched     string    `json:"matched"`    // the advisory's text that matched
	Run         int64     `json:"run"`
	CreatedAt   time.Time `json:"created_at"`
}
