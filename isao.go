package vigil

import (
	"strings"
	"time"
)

// ISAO participation (G2016 §IX): a membership of an Information Sharing and Analysis Organization, the documents
// that evidence each of the four §IX items, what was shared with the ISAO (the sharing log) and what intelligence
// came from it (signals). Enforcement discretion's criterion 4 reads the membership that covers a device on a date.

// Traffic Light Protocol levels (FIRST TLP 2.0): a membership's sharing level, and the marking of what is shared
// under it.
const (
	TLPClear       = "clear"
	TLPGreen       = "green"
	TLPAmber       = "amber"
	TLPAmberStrict = "amber+strict"
	TLPRed         = "red"
)

// TLPLevels lists the levels, least restrictive first.
var TLPLevels = []string{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed}

// The §IX items, 1..4 (REGULATORY.md §6), as the evidence view and the dashboard name them.
var ISAOItems = [4]string{
	"member of an ISAO that shares medical-device vulnerabilities and threats",
	"the ISAO has documented policies (participant agreements, operations, privacy)",
	"the manufacturer shares vulnerability information with it, including customer communications",
	"documented processes to assess and respond to ISAO threat intelligence, traceable to risk assessments",
}

// Kinds of ISAO documents.
const (
	DocAgreement = "agreement" // the participant or membership agreement
	DocPolicy    = "policy"    // the ISAO's operations, sharing (TLP) or privacy policy
	DocEvidence  = "evidence"  // a procedure, a record, a certificate
	DocNote      = "note"      // a statement in words, with no file (the evidence strings before memberships)
)

// ISAODocKinds lists the kinds.
var ISAODocKinds = []string{DocAgreement, DocPolicy, DocEvidence, DocNote}

// ISAOMembership is one membership of an ISAO: the organization's (DeviceID 0), or a device line's own, which
// overrides the organization's memberships for that device. Since and Until bound it; Documents evidence the
// §IX items. TAXII is where shares go and intelligence comes from; its password is stored encrypted and never read
// back through this type.
type ISAOMembership struct {
	ID        int64          `json:"id,omitempty"`
	OrgID     int64          `json:"org_id,omitempty"`
	DeviceID  int64          `json:"device_id,omitempty"`
	Device    string         `json:"device,omitempty"` // the device line's name, when DeviceID is set
	Name      string         `json:"name"`
	Since     Date           `json:"since,omitzero"`
	Until     Date           `json:"until,omitzero"` // the membership lapses after this day unless renewed
	Contact   string         `json:"contact,omitempty"`
	TLP       string         `json:"tlp,omitempty"` // the sharing level agreed with the ISAO (default green)
	TAXII     TAXIIEndpoint  `json:"taxii,omitzero"`
	Documents []ISAODocument `json:"documents"`
	CreatedAt time.Time      `json:"created_at,omitzero"`
	UpdatedAt time.Time      `json:"updated_at,omitzero"`
}

// TAXIIEndpoint is an ISAO's TAXII 2.1 server: a discovery or API root URL, the collection shares are added to and
// intelligence is read from, and the user; PasswordSet says a password is stored (encrypted).
type TAXIIEndpoint struct {
	URL         string `json:"url,omitempty"`
	Collection  string `json:"collection,omitempty"`
	User        string `json:"user,omitempty"`
	PasswordSet bool   `json:"password_set,omitempty"`
}

// ISAODocument is one document attached to a membership as evidence of a §IX item: its SHA-256 and size, its own
// date (signed, issued) and, when it has one, the day it expires. Content is given when it is attached and read
// back only by DocumentContent. A note carries its words as its content. Migrated notes have no date.
type ISAODocument struct {
	ID           int64     `json:"id,omitempty"`
	MembershipID int64     `json:"membership_id,omitempty"`
	Item         int       `json:"item"` // the §IX item, 1..4
	Kind         string    `json:"kind"`
	Title        string    `json:"title"`
	FileName     string    `json:"file_name,omitempty"`
	SHA256       string    `json:"sha256,omitempty"`
	Size         int64     `json:"size,omitempty"`
	Date         Date      `json:"date,omitzero"`
	Expires      Date      `json:"expires,omitzero"`
	AddedAt      time.Time `json:"added_at,omitzero"`
	AddedBy      string    `json:"added_by,omitempty"`
	Content      []byte    `json:"-"`
}

// MaxISAODocument bounds an attached document.
const MaxISAODocument = 16 << 20

// Active reports whether the membership covers day.
func (m *ISAOMembership) Active(day Date) bool {
	return (m.Since.IsZero() || !day.Before(m.Since)) && (m.Until.IsZero() || !day.After(m.Until))
}

// Counts reports whether the document evidences its item on day: dated on or before it (or undated) and not
// expired.
func (d *ISAODocument) Counts(day Date) bool {
	return (d.Date.IsZero() || !day.Before(d.Date)) && (d.Expires.IsZero() || !day.After(d.Expires))
}

// Missing lists the §IX items (1..4) with no document that counts on day.
func (m *ISAOMembership) Missing(day Date) []int {
	var have [5]bool
	for i := range m.Documents {
		if d := &m.Documents[i]; d.Item >= 1 && d.Item <= 4 && d.Counts(day) {
			have[d.Item] = true
		}
	}
	var out []int
	for i := 1; i <= 4; i++ {
		if !have[i] {
			out = append(out, i)
		}
	}
	return out
}

// Evidenced reports whether the membership is active on day and every §IX item carries a document that counts.
func (m *ISAOMembership) Evidenced(day Date) bool { return m.Active(day) && len(m.Missing(day)) == 0 }

// ISAOsFor returns the memberships that cover a device: its own when it has any, else the organization's.
func ISAOsFor(ms []ISAOMembership, deviceID int64) []ISAOMembership {
	var own, org []ISAOMembership
	for _, m := range ms {
		switch {
		case m.DeviceID == 0:
			org = append(org, m)
		case m.DeviceID == deviceID:
			own = append(own, m)
		}
	}
	if len(own) > 0 {
		return own
	}
	return org
}

// Validate checks a membership's fields (not its documents' contents).
func (m *ISAOMembership) Validate() error {
	if err := required("name", m.Name); err != nil {
		return err
	}
	if m.TLP != "" {
		if err := OneOf("tlp", m.TLP, TLPLevels); err != nil {
			return err
		}
	}
	if !m.Until.IsZero() && !m.Since.IsZero() && m.Until.Before(m.Since) {
		return Errorf(EINVALID, "until: %s is before since (%s)", m.Until, m.Since)
	}
	if m.TAXII.Collection != "" && m.TAXII.URL == "" {
		return Errorf(EINVALID, "taxii.collection: needs taxii.url")
	}
	if u := m.TAXII.URL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return Errorf(EINVALID, "taxii.url: %q is not an http(s) URL", u)
	}
	for i := range m.Documents {
		if err := m.Documents[i].Validate(); err != nil {
			return Errorf(ErrorCode(err), "documents[%d].%s", i, ErrorMessage(err))
		}
	}
	return texts(field{"name", m.Name, MaxName}, field{"contact", m.Contact, MaxText}, field{"taxii.url", m.TAXII.URL, 1024},
		field{"taxii.collection", m.TAXII.Collection, MaxName}, field{"taxii.user", m.TAXII.User, MaxName})
}

// Validate checks a document's fields.
func (d *ISAODocument) Validate() error {
	if d.Item < 1 || d.Item > 4 {
		return Errorf(EINVALID, "item: %d is not a §IX item (1..4)", d.Item)
	}
	if err := OneOf("kind", d.Kind, ISAODocKinds); err != nil {
		return err
	}
	if err := required("title", d.Title); err != nil {
		return err
	}
	if len(d.Content) == 0 {
		return Errorf(EINVALID, "content: empty: attach the document (or the note's words)")
	}
	if len(d.Content) > MaxISAODocument {
		return Errorf(EINVALID, "content: %d bytes, more than %d", len(d.Content), MaxISAODocument)
	}
	if !d.Expires.IsZero() && !d.Date.IsZero() && d.Expires.Before(d.Date) {
		return Errorf(EINVALID, "expires: %s is before the document's date (%s)", d.Expires, d.Date)
	}
	return texts(field{"title", d.Title, MaxName}, field{"file_name", d.FileName, MaxName})
}

// ISAOShare is one entry of the sharing log: what was given to which ISAO, when, by whom and how (over TAXII with
// the server's status id, or exported for upload by hand), and the isao_shared event it recorded on the case.
type ISAOShare struct {
	ID            int64  `json:"id"`
	MembershipID  int64  `json:"membership_id"`
	ISAO          string `json:"isao"`
	CaseID        int64  `json:"case_id"`
	Vulnerability string `json:"vulnerability"`
	Device        string `json:"device"`
	Method        string `json:"method"` // taxii or exported
	BundleID      string `json:"bundle_id"`
	SHA256        string `json:"sha256"` // of the bundle as sent
	Objects       int    `json:"objects"`
	TLP           string `json:"tlp"`
	NoticeID      int64  `json:"notice_id,omitempty"` // the customer notice the bundle carried, when a notice was shared
	StatusID      string `json:"status_id,omitempty"` // the TAXII status resource; "" when exported
	Status        string `json:"status"`              // ShareComplete, SharePending, ShareFailed or ShareExported
	// StatusText is the TAXII server's account of the objects it refused, when it refused any.
	StatusText string    `json:"status_text,omitempty"`
	Date       Date      `json:"date"` // the day shared, in the organization's time zone
	EventID    int64     `json:"event_id"`
	SharedAt   time.Time `json:"shared_at"`
	SharedBy   string    `json:"shared_by"`
	// CheckedAt is when the TAXII status was last asked for (zero when exported).
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Ways a share went, and where it stands: a TAXII share is pending until the server has taken every object
// (complete) or refused some (failed); an exported one is exported.
const (
	ShareTAXII    = "taxii"
	ShareExported = "exported"
	SharePending  = "pending"
	ShareComplete = "complete"
	ShareFailed   = "failed"
)

// ISAOShareFilter selects entries of the sharing log: of a membership, a case, a notice, in a status, shared on
// days From..To (zero: no bound).
type ISAOShareFilter struct {
	MembershipID, CaseID, NoticeID int64
	Status                         string
	From, To                       Date
}

// ISAOSignal is one piece of intelligence received from an ISAO (over TAXII or in a STIX file): a STIX indicator,
// vulnerability, note or report. CVEs, Devices and Components are what it names of ours; Cases are the cases it
// touches, linked when it arrived. A later version of the same STIX object updates the signal.
type ISAOSignal struct {
	ID           int64     `json:"id"`
	MembershipID int64     `json:"membership_id,omitempty"`
	ISAO         string    `json:"isao,omitempty"`
	Source       string    `json:"source"` // the TAXII collection URL or the file's name
	STIXID       string    `json:"stix_id"`
	Type         string    `json:"type"`
	Name         string    `json:"name"`
	Description  string    `json:"description,omitempty"`
	Modified     time.Time `json:"modified"`
	CVEs         []string  `json:"cves,omitempty"`
	Named        []string  `json:"named,omitempty"` // our devices and components it names
	Cases        []int64   `json:"cases,omitempty"`
	Assessments  []int64   `json:"assessments,omitempty"` // the assessments that cite it
	Received     time.Time `json:"received"`
}

// ISAOSignalFilter selects signals: those linked to a case, of a membership, received in [From, To) (zero: no
// bound).
type ISAOSignalFilter struct {
	CaseID       int64
	MembershipID int64
	From, To     time.Time
}

// EvidenceNotes returns note documents evidencing §IX items 1, 2, ... in order with the words given (an empty
// string evidences nothing): how a membership is stated in words before its documents are attached, and what the
// evidence strings of the memberships before migration 28 became.
func EvidenceNotes(notes ...string) []ISAODocument {
	var out []ISAODocument
	for i, n := range notes {
		if n != "" {
			out = append(out, ISAODocument{Item: i + 1, Kind: DocNote, Title: Clip(MaxName, n), Content: []byte(n)})
		}
	}
	return out
}
