package vigil

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Regulatory records: what regulatory affairs decided or filed for a case or a device, kept apart from the case's
// dated events (which the determination reads) because they carry documents' own data (a report number, the lots
// a report covered, a decision's basis). Each is append-only: a later record of the same kind supersedes an
// earlier one for the documents, and both stay in the trail.
const (
	// RegPart806Report is a 21 CFR 806.10 report marked filed: its number (REGNO-M/D/YY-SEQ-C) is assigned then,
	// from the per-year sequence, and the lots and consignees it covered are kept for 806.10(d) amendments.
	RegPart806Report = "part806_report"
	// RegPart806Amendment is an 806.10(d) amendment marked filed: it cites the original report's number.
	RegPart806Amendment = "part806_amendment"
	// RegPart806Record is the 806.20 record of a correction not reported, signed off.
	RegPart806Record = "part806_record"
	// RegPremarket is the premarket-submission decision of a case (814.39 PMA supplement, 807.81(a)(3) 510(k),
	// or none) with its basis.
	RegPremarket = "premarket_decision"
	// RegSettings holds the documents' settings of the organization (DeviceID 0) or of one device line.
	RegSettings = "settings"
)

// RegRecordKinds lists the kinds of regulatory records.
var RegRecordKinds = []string{RegPart806Report, RegPart806Amendment, RegPart806Record, RegPremarket, RegSettings}

// RegRecord is one regulatory record. Body is the kind's own data as JSON (regdocs reads and writes it).
type RegRecord struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	CaseID   int64  `json:"case_id,omitempty"`
	DeviceID int64  `json:"device_id,omitempty"`
	// ReportNumber, ReportYear and ReportSeq are set by the store for a RegPart806Report (the next sequence
	// number of its date's year) and copied from the original report for an amendment (Amends names it).
	ReportNumber string          `json:"report_number,omitempty"`
	ReportYear   int             `json:"report_year,omitempty"`
	ReportSeq    int             `json:"report_seq,omitempty"`
	Amends       int64           `json:"amends,omitempty"`
	Date         Date            `json:"date"` // filed, signed or decided on
	Body         json.RawMessage `json:"body"`
	CreatedAt    time.Time       `json:"created_at"`
	Actor        string          `json:"actor"`
}

// Part806Number formats a 21 CFR 806.10(c)(1) report number: the establishment registration number, the month,
// day and two-digit year the report is made, a three-digit sequence number and the type designation C
// (correction), as 1234567-2/4/97-001-C.
func Part806Number(regNo string, made Date, seq int) string {
	t := made.Time()
	return fmt.Sprintf("%s-%d/%d/%02d-%03d-C", regNo, int(t.Month()), t.Day(), t.Year()%100, seq)
}

// RegRecordFilter selects regulatory records; zero fields select all.
type RegRecordFilter struct {
	Kind     string
	CaseID   int64
	DeviceID int64
}

// DocumentGenerated is what the audit trail records when a regulatory document is generated: which document, for
// what, in which format, the data cut-off and the audit head it was generated from, and the SHA-256 of its bytes.
type DocumentGenerated struct {
	Kind      string    `json:"kind"`
	Object    string    `json:"object"`           // "case 12", "device 3" or "org"
	Period    string    `json:"period,omitempty"` // the reporting period of a PMA periodic report
	Format    string    `json:"format"`
	CutOff    time.Time `json:"cut_off"`
	AuditSeq  int64     `json:"audit_seq"`
	AuditHead string    `json:"audit_head"`
	SHA256    string    `json:"sha256"`
}

// RegRecordService keeps regulatory records. Adding one needs PermReport;
// reading PermRead. AddRegRecord returns EINVALID for an unknown kind or a missing case/device, ECONFLICT when a
// report is filed without the organization's establishment registration number.
type RegRecordService interface {
	AddRegRecord(ctx context.Context, r *RegRecord, reason string) error
	// RegRecords lists records oldest first.
	RegRecords(ctx context.Context, f RegRecordFilter) ([]*RegRecord, error)
	// RecordDocument appends the generation of a document to the audit trail (action report.generate). Needs
	// PermRead: generating a document reads data, and the trail says who read what into which document.
	RecordDocument(ctx context.Context, g DocumentGenerated) error
}
