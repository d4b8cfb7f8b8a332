package vigil

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Intake is the public door of the program (G2016 §V.B, ISO/IEC 30111 handling, ISO/IEC 29147 disclosure): a
// researcher's report, a complaint or service record that mentions a cybersecurity issue, an ISAO or CISA tip, or a
// CSAF advisory naming one of our devices all become a Report in one queue. The PSIRT acknowledges it (within the
// CVD policy's working days), triages it into findings or cases or closes it with a reason the reporter reads, and
// coordinates its disclosure. A researcher follows a report through a secret link: no account, and the link grants
// nothing but that one report's status and thread.

// ReportSource is where a report came from.
type ReportSource string

// Report sources.
const (
	ReportResearcher ReportSource = "researcher" // the public report page or API
	ReportComplaint  ReportSource = "complaint"  // a 21 CFR 820.198 complaint that mentions a cybersecurity issue
	ReportService    ReportSource = "service"    // a service record that does
	ReportISAO       ReportSource = "isao"
	ReportCISA       ReportSource = "cisa"
	ReportInternal   ReportSource = "internal"
	ReportCSAF       ReportSource = "csaf" // an imported CSAF advisory names one of our devices (a cybersecurity signal)
)

// ReportSources lists the sources.
var ReportSources = []ReportSource{ReportResearcher, ReportComplaint, ReportService, ReportISAO, ReportCISA, ReportInternal, ReportCSAF}

func (s ReportSource) Validate() error              { return OneOf("source", s, ReportSources) }
func (s ReportSource) MarshalText() ([]byte, error) { return marshalWord("source", s, ReportSources) }
func (s *ReportSource) UnmarshalText(b []byte) error {
	return unmarshalWord("source", s, b, ReportSources)
}

// ReportStatus is a report's place in the ISO/IEC 30111 handling workflow.
type ReportStatus string

// Report statuses, in workflow order.
const (
	ReportReceived     ReportStatus = "received"
	ReportAcknowledged ReportStatus = "acknowledged"
	ReportTriaged      ReportStatus = "triaged"
	ReportRemediation  ReportStatus = "remediation"
	ReportDisclosure   ReportStatus = "disclosure"
	ReportClosed       ReportStatus = "closed"
)

// ReportStatuses lists the statuses in workflow order.
var ReportStatuses = []ReportStatus{ReportReceived, ReportAcknowledged, ReportTriaged, ReportRemediation, ReportDisclosure, ReportClosed}

func (s ReportStatus) Validate() error              { return OneOf("status", s, ReportStatuses) }
func (s ReportStatus) MarshalText() ([]byte, error) { return marshalWord("status", s, ReportStatuses) }
func (s *ReportStatus) UnmarshalText(b []byte) error {
	return unmarshalWord("status", s, b, ReportStatuses)
}

// CanMoveTo reports whether the workflow allows going from s to next. A report moves forward one step at a time,
// since each step is a record the reporter reads; closing is allowed from every open status (a report may be a
// duplicate before it is triaged) and needs a Resolution; a closed report stays closed.
func (s ReportStatus) CanMoveTo(next ReportStatus) bool {
	if s == ReportClosed {
		return false
	}
	if next == ReportClosed {
		return true
	}
	i, j := slices.Index(ReportStatuses, s), slices.Index(ReportStatuses, next)
	return i >= 0 && j == i+1
}

// ReportResolution says why a report was closed; the reporter reads it with the reason.
type ReportResolution string

// Resolutions.
const (
	ResolutionNotVulnerability ReportResolution = "not_vulnerability"
	ResolutionDuplicate        ReportResolution = "duplicate"
	ResolutionOutOfScope       ReportResolution = "out_of_scope"
	ResolutionResolved         ReportResolution = "resolved" // remediated and disclosed: the normal end
	ResolutionWithdrawn        ReportResolution = "withdrawn"
)

// ReportResolutions lists the resolutions.
var ReportResolutions = []ReportResolution{ResolutionNotVulnerability, ResolutionDuplicate, ResolutionOutOfScope, ResolutionResolved, ResolutionWithdrawn}

func (r ReportResolution) Validate() error { return OneOf("resolution", r, ReportResolutions) }
func (r ReportResolution) MarshalText() ([]byte, error) {
	return marshalWord("resolution", r, ReportResolutions)
}
func (r *ReportResolution) UnmarshalText(b []byte) error {
	return unmarshalWord("resolution", r, b, ReportResolutions)
}

// DisclosurePreference is what the reporter asks for about publication.
type DisclosurePreference string

// Disclosure preferences.
const (
	DisclosureCoordinated DisclosurePreference = "coordinated" // publish together once a fix or mitigation exists
	DisclosurePrivate     DisclosurePreference = "private"     // the reporter does not intend to publish
	DisclosureReporter    DisclosurePreference = "reporter"    // the reporter intends to publish on the embargo date
)

// DisclosurePreferences lists the preferences.
var DisclosurePreferences = []DisclosurePreference{DisclosureCoordinated, DisclosurePrivate, DisclosureReporter}

func (p DisclosurePreference) Validate() error { return OneOf("disclosure", p, DisclosurePreferences) }
func (p DisclosurePreference) MarshalText() ([]byte, error) {
	return marshalWord("disclosure", p, DisclosurePreferences)
}
func (p *DisclosurePreference) UnmarshalText(b []byte) error {
	return unmarshalWord("disclosure", p, b, DisclosurePreferences)
}

// RoleReporter is the role of whoever acts through the public report page or a follow-up link. It is in no role
// table, so it holds no permission: the intake service lets it submit a report and, with the link's token, read
// and answer that one report, and nothing else.
const RoleReporter = "reporter"

// ReporterActor is the actor of a public submission or a follow-up; the audit trail records it as reporter:NAME
// (the report number once there is one).
func ReporterActor(name string) Actor { return Actor{Name: name, Role: RoleReporter} }

// Report is one item of the intake queue.
type Report struct {
	ID     int64        `json:"id"`
	Number string       `json:"number"` // what the reporter quotes: VR-<id>
	Source ReportSource `json:"source"`
	Status ReportStatus `json:"status"`
	// Resolution and the reason are set when the report is closed.
	Resolution ReportResolution `json:"resolution,omitempty"`
	// DeviceID is the marketed device the reporter picked (0 when they typed the product as free text).
	DeviceID    int64  `json:"device_id,omitempty"`
	Product     string `json:"product"`
	Version     string `json:"version,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Impact      string `json:"impact,omitempty"`
	Steps       string `json:"steps,omitempty"`
	CVSS        string `json:"cvss,omitempty"`
	// ReporterName and ReporterEmail are optional: anonymous reports are allowed.
	ReporterName  string               `json:"reporter_name,omitempty"`
	ReporterEmail string               `json:"reporter_email,omitempty"`
	Disclosure    DisclosurePreference `json:"disclosure"`
	// EmbargoRequested is the date the reporter asks the issue to stay private until.
	EmbargoRequested *Date  `json:"embargo_requested,omitempty"`
	Credit           string `json:"credit,omitempty"` // how the reporter wants to be credited; empty for no credit
	// Reference is the source's own identifier: a complaint or service record number, an ISAO or CISA reference,
	// the CSAF document's tracking id.
	Reference string `json:"reference,omitempty"`
	// SignalID is the cybersecurity signal a CSAF report came from (one report per signal).
	SignalID int64 `json:"signal_id,omitempty"`
	// Received is when the report arrived; ReceivedOn the day in the organization's time zone, which is D0 of the
	// cases it opens; AckDue the day the CVD policy promises an acknowledgement by.
	Received     time.Time `json:"received"`
	ReceivedOn   Date      `json:"received_on"`
	AckDue       Date      `json:"ack_due"`
	Acknowledged time.Time `json:"acknowledged,omitzero"`
	// LinkActive says whether the reporter's follow-up link works (false once revoked, or for reports with none).
	LinkActive bool `json:"link_active"`
	// Coordination is the disclosure coordination of each case the report was triaged into, as it now stands
	// (the newest record of each case that has one): disclosure is coordinated per case.
	Coordination []*CaseDisclosure `json:"coordination"`
	Links        []ReportLink      `json:"links"`
	Attachments  []AttachmentMeta  `json:"attachments"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// Disclosure is the coordination of a case's public disclosure (ISO/IEC 29147): the embargo agreed, who takes
// part (CISA, the ISAO, the reporter, others by name), the CVE (requested from which CNA, assigned by which, its
// id), when it was published and where, and the credit line as the reporter chose it. The reporters of the reports
// triaged into the case read it through their follow-up links.
type Disclosure struct {
	Embargo          *Date    `json:"embargo,omitempty"`
	Partners         []string `json:"partners"`
	CVERequestedFrom string   `json:"cve_requested_from,omitempty"`
	CVEAssignedBy    string   `json:"cve_assigned_by,omitempty"`
	CVE              string   `json:"cve,omitempty"`
	Published        *Date    `json:"published,omitempty"`
	Advisory         string   `json:"advisory,omitempty"` // our advisory's id or URL
	Credit           string   `json:"credit,omitempty"`
}

// Coordination partners named by a word; any other partner is named in full.
const (
	PartnerCISA     = "cisa"
	PartnerISAO     = "isao"
	PartnerReporter = "reporter"
)

// MaxPartners bounds a disclosure's partners.
const MaxPartners = 10

// Validate checks a disclosure's fields: text bounds, a CVE id of the form CVE-YYYY-NNNN, partners named once.
func (d *Disclosure) Validate() error {
	if d.Partners == nil {
		d.Partners = []string{}
	}
	if len(d.Partners) > MaxPartners {
		return Errorf(EINVALID, "partners: %d, more than %d", len(d.Partners), MaxPartners)
	}
	seen := map[string]bool{}
	for i, p := range d.Partners {
		d.Partners[i] = strings.TrimSpace(p)
		if err := Text("partners["+itoa(i)+"]", d.Partners[i], MaxName); err != nil {
			return err
		}
		if d.Partners[i] == "" || seen[strings.ToLower(d.Partners[i])] {
			return Errorf(EINVALID, "partners[%d]: %q is empty or named twice", i, Clip(40, d.Partners[i]))
		}
		seen[strings.ToLower(d.Partners[i])] = true
	}
	if err := texts(field{"cve_requested_from", d.CVERequestedFrom, MaxName}, field{"cve_assigned_by", d.CVEAssignedBy, MaxName},
		field{"cve", d.CVE, MaxName}, field{"advisory", d.Advisory, MaxIdent}, field{"credit", d.Credit, MaxName}); err != nil {
		return err
	}
	if d.CVE != "" && !cveID(d.CVE) {
		return Errorf(EINVALID, "cve: %q is not a CVE id (CVE-2025-12345)", Clip(40, d.CVE))
	}
	if d.CVE != "" && d.CVEAssignedBy == "" {
		return Errorf(EINVALID, "cve_assigned_by: required with a CVE id (the CNA that assigned it)")
	}
	return nil
}

// Summary says the coordination in one line, as the case's timeline and `vigil case show` print it.
func (d Disclosure) Summary() string {
	var parts []string
	if d.Embargo != nil {
		parts = append(parts, "embargo until "+d.Embargo.String())
	}
	if len(d.Partners) > 0 {
		parts = append(parts, "partners "+strings.Join(d.Partners, ", "))
	}
	if d.CVERequestedFrom != "" {
		parts = append(parts, "CVE requested from "+d.CVERequestedFrom)
	}
	if d.CVE != "" {
		parts = append(parts, d.CVE+" assigned by "+d.CVEAssignedBy)
	}
	if d.Published != nil {
		parts = append(parts, "published "+d.Published.String())
	}
	if d.Advisory != "" {
		parts = append(parts, "advisory "+d.Advisory)
	}
	if d.Credit != "" {
		parts = append(parts, "credit: "+d.Credit)
	}
	if len(parts) == 0 {
		return "nothing agreed yet"
	}
	return strings.Join(parts, "; ")
}

// CaseDisclosure is one record of a case's disclosure coordination: the whole coordination as it stood from then
// on, with the reason for the change. Records are appended, never edited: the newest stands, and the case's
// timeline shows each.
type CaseDisclosure struct {
	ID     int64 `json:"id"`
	CaseID int64 `json:"case_id"`
	Disclosure
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	Actor     string    `json:"actor"`
}

// Validate checks the coordination and the reason.
func (d *CaseDisclosure) Validate() error {
	if strings.TrimSpace(d.Reason) == "" {
		return Errorf(EINVALID, "reason: required: say what was agreed or done")
	}
	if err := Text("reason", d.Reason, MaxText); err != nil {
		return err
	}
	return d.Disclosure.Validate()
}

// cveID reports whether s is CVE-YYYY-NNNN (four or more digits).
func cveID(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || parts[0] != "CVE" || len(parts[1]) != 4 || len(parts[2]) < 4 {
		return false
	}
	for _, p := range parts[1:] {
		for _, r := range p {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}

// ReportNumber is the number a reporter quotes for report id.
func ReportNumber(id int64) string { return fmt.Sprintf("VR-%d", id) }

// ParseReportNumber reads VR-12, vr-12 or 12.
func ParseReportNumber(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if len(t) > 3 && strings.EqualFold(t[:3], "VR-") {
		t = t[3:]
	}
	var id int64
	if _, err := fmt.Sscanf(t, "%d", &id); err != nil || id <= 0 || fmt.Sprint(id) != t {
		return 0, Errorf(EINVALID, "report: %q is not a report number (VR-12 or 12)", Clip(40, s))
	}
	return id, nil
}

// Link kinds: what triage links a report to.
const (
	LinkFinding = "finding"
	LinkCase    = "case"
)

// ReportLink is one finding or case a report was triaged into. A case link without an ID asks triage to open the
// case (through the case service, learned on the report's receipt day): on DeviceID (default the report's device)
// for Vulnerability (default the report's number, as a provisional id); when the device already has a case of that
// vulnerability the report is linked to it instead.
type ReportLink struct {
	Kind          string `json:"kind"` // finding or case
	ID            int64  `json:"id"`
	DeviceID      int64  `json:"device_id,omitempty"`
	Vulnerability string `json:"vulnerability,omitempty"`
}

// AttachmentMeta describes a stored attachment; its bytes are read separately, by staff only.
type AttachmentMeta struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// Attachment is an attachment with its bytes.
type Attachment struct {
	AttachmentMeta
	Data []byte `json:"-"`
}

// Message authors as the reporter sees them.
const (
	FromReporter = "reporter"
	FromPSIRT    = "psirt"
)

// ReportMessage is one entry of a report's thread: a message from the reporter or the PSIRT, or a status change
// (Status set) with the reason the reporter reads. Messages are append-only.
type ReportMessage struct {
	ID       int64        `json:"id"`
	ReportID int64        `json:"report_id"`
	From     string       `json:"from"`             // reporter or psirt
	Author   string       `json:"author,omitempty"` // the staff member (never shown to the reporter)
	Status   ReportStatus `json:"status,omitempty"` // the status this entry moved the report to
	Body     string       `json:"body"`
	At       time.Time    `json:"at"`
}

// Bounds of what the public can make Vigil store. They hold on every path (page, API, command line).
const (
	MaxReportTitle       = 200
	MaxReportText        = 20000 // description, impact, steps to reproduce, a message
	MaxAttachments       = 5
	MaxAttachmentSize    = 4 << 20 // bytes of one attachment
	MaxAttachmentsTotal  = 10 << 20
	MaxReporterMessages  = 100 // messages a reporter may add to one report
	DefaultIntakeQueue   = 500 // reports received and not yet acknowledged, beyond which new ones are refused
	MaxPreferredLanguage = 8
)

// AttachmentTypes are the content types a report may attach: evidence, not something a browser would run.
var AttachmentTypes = []string{"text/plain", "application/pdf", "image/png", "image/jpeg", "application/zip", "application/octet-stream"}

// ReportInput is what a reporter (or staff, for other sources) submits.
type ReportInput struct {
	Source           ReportSource         `json:"source,omitempty"` // researcher when empty
	DeviceID         int64                `json:"device_id,omitempty"`
	Product          string               `json:"product,omitempty"`
	Version          string               `json:"version,omitempty"`
	Title            string               `json:"title"`
	Description      string               `json:"description"`
	Impact           string               `json:"impact,omitempty"`
	Steps            string               `json:"steps,omitempty"`
	CVSS             string               `json:"cvss,omitempty"`
	ReporterName     string               `json:"reporter_name,omitempty"`
	ReporterEmail    string               `json:"reporter_email,omitempty"`
	Disclosure       DisclosurePreference `json:"disclosure,omitempty"`
	EmbargoRequested *Date                `json:"embargo_requested,omitempty"`
	Credit           string               `json:"credit,omitempty"`
	Reference        string               `json:"reference,omitempty"`
	SignalID         int64                `json:"-"`
	Attachments      []AttachmentInput    `json:"attachments,omitempty"`
}

// AttachmentInput is one attachment as submitted.
type AttachmentInput struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"` // base64 in JSON
}

// Validate checks every field of a submission: the text rule and its bound on each, a product named one way or
// the other, a plausible e-mail address, the attachments' count, sizes and types. It names the field.
func (in *ReportInput) Validate() error {
	if in.Source == "" {
		in.Source = ReportResearcher
	}
	if err := in.Source.Validate(); err != nil {
		return err
	}
	if in.Disclosure == "" {
		in.Disclosure = DisclosureCoordinated
	}
	if err := in.Disclosure.Validate(); err != nil {
		return err
	}
	in.Title, in.Product, in.Version = strings.TrimSpace(in.Title), strings.TrimSpace(in.Product), strings.TrimSpace(in.Version)
	in.ReporterEmail = strings.TrimSpace(in.ReporterEmail)
	if err := texts(field{"title", in.Title, MaxReportTitle}, field{"description", in.Description, MaxReportText},
		field{"impact", in.Impact, MaxReportText}, field{"steps", in.Steps, MaxReportText}, field{"product", in.Product, MaxName},
		field{"version", in.Version, MaxName}, field{"cvss", in.CVSS, MaxName}, field{"reporter_name", in.ReporterName, MaxName},
		field{"reporter_email", in.ReporterEmail, MaxName}, field{"credit", in.Credit, MaxName}, field{"reference", in.Reference, MaxName}); err != nil {
		return err
	}
	if err := required("title", in.Title); err != nil {
		return err
	}
	if err := required("description", in.Description); err != nil {
		return err
	}
	if in.DeviceID == 0 && in.Product == "" {
		return Errorf(EINVALID, "product: required (pick a device or name the product)")
	}
	if in.ReporterEmail != "" {
		a, err := mail.ParseAddress(in.ReporterEmail)
		if err != nil || a.Address != in.ReporterEmail || strings.ContainsAny(in.ReporterEmail, "\r\n") {
			return Errorf(EINVALID, "reporter_email: %q is not an e-mail address (name@example.org)", Clip(60, in.ReporterEmail))
		}
	}
	if len(in.Attachments) > MaxAttachments {
		return Errorf(EINVALID, "attachments: %d files, more than %d", len(in.Attachments), MaxAttachments)
	}
	total := 0
	for i, a := range in.Attachments {
		name := "attachments[" + itoa(i) + "]"
		if err := Text(name+".name", a.Name, MaxName); err != nil {
			return err
		}
		if strings.TrimSpace(a.Name) == "" || strings.ContainsAny(a.Name, "/\\") || strings.ContainsFunc(a.Name, isControl) {
			return Errorf(EINVALID, "%s.name: %q is not a plain file name", name, Clip(60, a.Name))
		}
		if len(a.Data) == 0 {
			return Errorf(EINVALID, "%s: %s is empty", name, Clip(60, a.Name))
		}
		if len(a.Data) > MaxAttachmentSize {
			return Errorf(EINVALID, "%s: %s is %d bytes, more than %d", name, Clip(60, a.Name), len(a.Data), MaxAttachmentSize)
		}
		if total += len(a.Data); total > MaxAttachmentsTotal {
			return Errorf(EINVALID, "attachments: %d bytes in all, more than %d", total, MaxAttachmentsTotal)
		}
		if !slices.Contains(AttachmentTypes, a.ContentType) {
			return Errorf(EINVALID, "%s.content_type: %q is not accepted (%s)", name, Clip(60, a.ContentType), strings.Join(AttachmentTypes, ", "))
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// ReportFilter selects reports for the inbox.
type ReportFilter struct {
	Statuses []ReportStatus
	Source   ReportSource
	// CaseID selects the reports triaged into a case: linked to it (or to a case merged into it) or to one of its
	// findings.
	CaseID int64
	Limit  int // 200 when zero
}

// ReporterView is what a follow-up link shows: the report's status and its thread, with no staff names and no
// link to anything else in Vigil.
type ReporterView struct {
	Number       string       `json:"number"`
	Title        string       `json:"title"`
	Product      string       `json:"product"`
	Status       ReportStatus `json:"status"`
	Resolution   string       `json:"resolution,omitempty"`
	Received     time.Time    `json:"received"`
	Acknowledged time.Time    `json:"acknowledged,omitzero"`
	// Coordination is the disclosure coordination of each case the report was triaged into (none before triage).
	Coordination []Disclosure    `json:"coordination"`
	Messages     []ReportMessage `json:"messages"`
}

// CVDPolicy is the organization's published disclosure policy: what /.well-known/security.txt (RFC 9116) and the
// CVD policy page say. Contact and AckDays are the organization's CVD settings; the rest is intake's own.
type CVDPolicy struct {
	OrgName  string `json:"org_name"`
	TimeZone string `json:"time_zone"`
	Contact  string `json:"contact"`  // the organization's CVD contact: an e-mail address or an https URL
	AckDays  int    `json:"ack_days"` // working days promised for an acknowledgement (the organization's setting)
	// WorkingDays is the organization's working-day calendar (its OrgPolicy), which counts those days.
	WorkingDays string `json:"working_days,omitempty"`
	// Expires is when security.txt stops being valid (RFC 9116 §2.5.5 wants it under a year away).
	Expires time.Time `json:"expires,omitzero"`
	// Languages are the Preferred-Languages (RFC 5646 tags).
	Languages []string `json:"languages"`
	// BaseURL is where this Vigil is reached from outside (https://psirt.example.com): the Canonical and Policy URLs.
	BaseURL string `json:"base_url"`
	// Statement is the policy page's own text (scope, safe harbour), shown above what Vigil generates.
	Statement string `json:"statement,omitempty"`
	// QueueCap bounds the reports received and not yet acknowledged (DefaultIntakeQueue when zero).
	QueueCap  int       `json:"queue_cap"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// ExpiryWarning is how long before security.txt lapses the dashboard warns.
const ExpiryWarning = 30 * 24 * time.Hour

// Validate checks the policy's own fields.
func (p *CVDPolicy) Validate() error {
	if err := texts(field{"base_url", p.BaseURL, MaxIdent}, field{"statement", p.Statement, MaxText}); err != nil {
		return err
	}
	if p.BaseURL != "" {
		u, err := url.Parse(p.BaseURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return Errorf(EINVALID, "base_url: %q must be an https URL with no query (https://psirt.example.com)", Clip(80, p.BaseURL))
		}
		p.BaseURL = strings.TrimSuffix(p.BaseURL, "/")
	}
	if len(p.Languages) > MaxPreferredLanguage {
		return Errorf(EINVALID, "languages: %d, more than %d", len(p.Languages), MaxPreferredLanguage)
	}
	for i, l := range p.Languages {
		if !languageTag(l) {
			return Errorf(EINVALID, "languages[%d]: %q is not a language tag (en, de, pt-BR)", i, Clip(40, l))
		}
	}
	if p.QueueCap < 0 || p.QueueCap > 100000 {
		return Errorf(EINVALID, "queue_cap: %d is outside 0..100000", p.QueueCap)
	}
	return nil
}

// languageTag accepts the common shape of an RFC 5646 tag: letters and digits in hyphen-separated parts of 1-8.
func languageTag(s string) bool {
	if s == "" || len(s) > 35 {
		return false
	}
	for _, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 {
			return false
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// ReportProduct is a device as the public report page offers it: its id and name, nothing else.
type ReportProduct struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// IntakeClock is a report's open acknowledgement clock.
type IntakeClock struct {
	ReportID int64  `json:"report_id"`
	Number   string `json:"number"`
	DeviceID int64  `json:"device_id,omitempty"`
	Title    string `json:"title"`
	Product  string `json:"product"`
	Due      Date   `json:"due"`
	DaysLeft int    `json:"days_left"`
	Overdue  bool   `json:"overdue"`
}

// IntakeService is the intake queue. Submit and the follow-up calls are public (a reporter has no account);
// everything else needs PermRead to read and PermIntake to change. Methods return EINVALID naming the field,
// ENOTFOUND, ECONFLICT (the report changed meanwhile, or a step the workflow does not allow), EFORBIDDEN,
// EUNAVAILABLE (the queue is full).
type IntakeService interface {
	// Submit files a report from the public page or API (source researcher) and returns it with the follow-up
	// token, shown once. Anyone may call it.
	Submit(ctx context.Context, in *ReportInput) (*Report, string, error)
	// Add files a report from another source (complaint, service, isao, cisa, internal). Needs PermIntake.
	Add(ctx context.Context, in *ReportInput) (*Report, error)
	// Follow is the reporter's view through a follow-up token; EUNAUTHORIZED for an unknown or revoked token.
	Follow(ctx context.Context, token string) (*ReporterView, error)
	// Reply adds the reporter's message through a follow-up token.
	Reply(ctx context.Context, token, body string) error
	// Products lists the devices a reporter may pick: those with a marketed or fielded version. Anyone may call it.
	Products(ctx context.Context) ([]ReportProduct, error)

	Reports(ctx context.Context, f ReportFilter) ([]*Report, error)
	Report(ctx context.Context, id int64) (*Report, error)
	Messages(ctx context.Context, id int64) ([]ReportMessage, error)
	Attachment(ctx context.Context, reportID, attachmentID int64) (*Attachment, error)

	// Acknowledge moves a received report to acknowledged with a message to the reporter.
	Acknowledge(ctx context.Context, id int64, message string) error
	// Triage links an acknowledged report to findings or cases, with a message to the reporter.
	Triage(ctx context.Context, id int64, links []ReportLink, message string) error
	// Advance moves a triaged report on to remediation, then disclosure, with a message to the reporter.
	Advance(ctx context.Context, id int64, to ReportStatus, message string) error
	// Close closes a report with a resolution and the reason the reporter reads.
	Close(ctx context.Context, id int64, resolution ReportResolution, reason string) error
	// Message sends the reporter a message without changing the status.
	Message(ctx context.Context, id int64, body string) error
	// RevokeLink stops the follow-up link working; NewLink revokes it and returns a new token, shown once.
	RevokeLink(ctx context.Context, id int64, reason string) error
	NewLink(ctx context.Context, id int64, reason string) (string, error)

	// Clocks lists the open acknowledgement clocks, soonest first, as of today in the organization's time zone.
	Clocks(ctx context.Context) ([]IntakeClock, error)
	// Policy is the published CVD policy (public: it is what security.txt says); SetPolicy needs PermPortfolio.
	Policy(ctx context.Context) (*CVDPolicy, error)
	SetPolicy(ctx context.Context, p *CVDPolicy, reason string) error
}

// ReportChange is one write to a report by the PSIRT, as the intake service decided it: a status step (From must
// still be the stored status, else ECONFLICT), links, a message to the reporter, the follow-up link replaced or
// revoked. The store applies it in one transaction with one audit event named Action.
type ReportChange struct {
	Action     string       // the audit action: intake.ack, intake.triage, intake.close, ...
	From       ReportStatus // the status the service saw
	To         ReportStatus // the new status; From again when the status does not change
	Resolution ReportResolution
	Links      []ReportLink
	Message    string // added to the thread from the PSIRT (empty for none)
	// TokenHash replaces the follow-up link's hash when SetToken is true ("" revokes it).
	SetToken  bool
	TokenHash string
	Reason    string // the audit event's reason
}
