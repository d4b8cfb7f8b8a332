// Package regdocs is the regulatory documents use case (issue 15): it builds, from live data, the documents
// regulatory affairs files and an inspector reads — the 21 CFR 806.10 report draft (with its report number and
// 806.10(d) amendments), the 806.20 record of a correction not reported, the premarket decision record, the PMA
// periodic report section for a period, the 524B statements and the Cybersecurity Management Plan — and keeps the
// records behind them (a report marked filed, a record signed off, a premarket decision, the documents' settings).
// REGULATORY.md §3–§7 are its content rules. internal/report lays each document out and renders it; every
// generation states its data cut-off and the audit head it was read at, and is itself recorded in the audit trail.
// Reading needs vigil.PermRead; filing, signing off and deciding need vigil.PermReport.
package regdocs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/report"
	"github.com/vigil-dev/vigil/internal/service/remediation"
)

// Store is what the documents read and write.
type Store interface {
	vigil.RegRecordService
	// AddFiledRecord adds a record and the case event of its filing in one transaction.
	AddFiledRecord(ctx context.Context, r *vigil.RegRecord, reason string, filed func(*vigil.RegRecord) *vigil.CaseEvent) error
	Checkpoint(ctx context.Context) (vigil.AuditCheckpoint, error)
	Orgs(ctx context.Context) ([]*vigil.Organization, error)
	Device(ctx context.Context, id int64) (*vigil.Device, error)
	Versions(ctx context.Context, deviceID int64) ([]*vigil.DeviceVersion, error)
	Consignees(ctx context.Context) ([]*vigil.Consignee, error)
	Cases(ctx context.Context, f vigil.CaseFilter) ([]*vigil.Case, error)
	Feeds(ctx context.Context) ([]*vigil.Feed, error)
	CVDPolicy(ctx context.Context) (*vigil.CVDPolicy, error)
}

// Service builds and renders the documents.
type Service struct {
	Store Store
	Cases *cases.Service // the case views and their live determinations
	// Remediation gives each case's plan, fix releases and deployment in the field (PM2025's patch-to-field time);
	// nil leaves them out and the documents say so.
	Remediation *remediation.Service
	// Notices gives the customer notices as sent (their copies in the 806 report); nil leaves them out.
	Notices interface {
		Notices(ctx context.Context, caseID int64) ([]*vigil.Notice, error)
	}
	// Signing gives the Part 11 signatures of the records (an 806.20 sign-off, a premarket decision); nil: none.
	Signing vigil.SignatureService
	Clock   vigil.Clock
}

// Document kinds, as `vigil report KIND` names them.
const (
	KindPart806          = "806"
	KindPart806Amendment = "806-amendment"
	KindPart806Record    = "806.20"
	KindPremarket        = "premarket"
	KindPMA              = "pma"
	Kind524B             = "524b"
	KindCMP              = "cmp"
)

// Kinds lists the document kinds.
var Kinds = []string{KindPart806, KindPart806Amendment, KindPart806Record, KindPremarket, KindPMA, Kind524B, KindCMP}

// CaseKinds are the documents of a case; the others are a device's.
var CaseKinds = []string{KindPart806, KindPart806Amendment, KindPart806Record, KindPremarket}

// Target names what a document is about: a case (806, 806-amendment, 806.20, premarket) or a device (524b, cmp;
// pma with the Period, the year its reporting period ends in).
type Target struct {
	CaseID   int64 `json:"case_id,omitempty"`
	DeviceID int64 `json:"device_id,omitempty"`
	Period   int   `json:"period,omitempty"`
}

func (t Target) String() string {
	switch {
	case t.CaseID != 0:
		return fmt.Sprintf("case %d", t.CaseID)
	case t.Period != 0:
		return fmt.Sprintf("device %d period %d", t.DeviceID, t.Period)
	}
	return fmt.Sprintf("device %d", t.DeviceID)
}

// Build builds document kind for t from the live data, as of now. It records nothing: Render does. Needs PermRead.
// EINVALID for an unknown kind or a target that does not fit it; ECONFLICT when the document does not apply (an 806
// draft for a correction that is not reportable, a PMA report for a device not on the PMA pathway).
func (s *Service) Build(ctx context.Context, kind string, t Target) (*report.Document, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	if err := vigil.OneOf("kind", kind, Kinds); err != nil {
		return nil, err
	}
	caseKind := slices.Contains(CaseKinds, kind)
	switch {
	case caseKind && t.CaseID == 0:
		return nil, vigil.Errorf(vigil.EINVALID, "case: the %s document is a case's: name the case", kind)
	case !caseKind && t.DeviceID == 0:
		return nil, vigil.Errorf(vigil.EINVALID, "device: the %s document is a device's: name the device", kind)
	case kind == KindPMA && (t.Period < 1900 || t.Period > 9999):
		return nil, vigil.Errorf(vigil.EINVALID, "period: the PMA periodic report needs the year its period ends in (YYYY)")
	}
	// The cut-off and the head are read before the data: everything recorded until then is in the document (a
	// write landing while it is built may be in it too, and is then in the trail after the head).
	cp, err := s.Store.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.newBuild(ctx)
	if err != nil {
		return nil, err
	}
	doc := &report.Document{Kind: kind, CutOff: s.Clock.Now().UTC().Truncate(time.Second), AuditSeq: cp.Count, AuditHead: cp.Head, Zone: b.loc.String()}
	switch kind {
	case KindPart806:
		err = b.part806(ctx, doc, t.CaseID, false)
	case KindPart806Amendment:
		err = b.part806(ctx, doc, t.CaseID, true)
	case KindPart806Record:
		err = b.part80620(ctx, doc, t.CaseID)
	case KindPremarket:
		err = b.premarket(ctx, doc, t.CaseID)
	case KindPMA:
		err = b.pma(ctx, doc, t.DeviceID, t.Period)
	case Kind524B:
		err = b.statements524B(ctx, doc, t.DeviceID)
	case KindCMP:
		err = b.cmp(ctx, doc, t.DeviceID)
	}
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// Render builds document kind for t, renders it in format and records the generation in the audit trail (with
// the SHA-256 of the bytes written) before writing them to w. This is the call other features (the evidence
// package) use to include a document. Needs PermRead.
func (s *Service) Render(ctx context.Context, kind string, t Target, format string, w io.Writer) (*report.Document, error) {
	if err := report.CheckFormat(format); err != nil {
		return nil, err
	}
	doc, err := s.Build(ctx, kind, t)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := doc.Render(&buf, format); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(buf.Bytes())
	obj, _, _ := strings.Cut(t.String(), " period")
	g := vigil.DocumentGenerated{Kind: kind, Object: obj, Format: format, CutOff: doc.CutOff, AuditSeq: doc.AuditSeq, AuditHead: doc.AuditHead,
		SHA256: hex.EncodeToString(sum[:])}
	if t.Period != 0 {
		g.Period = strconv.Itoa(t.Period)
	}
	if err := s.Store.RecordDocument(ctx, g); err != nil {
		return nil, err
	}
	_, err = w.Write(buf.Bytes())
	return doc, err
}

// Available lists the documents that apply to a case now (for the case page's links): none before the case has a
// determination (each documents one); then the 806 draft when the correction is reportable (and its amendment once a
// report was marked filed in Vigil: a part806_filed typed by hand for a report filed elsewhere has no report
// record to amend), the 806.20 record when it is not reported, and the premarket decision record.
func (s *Service) Available(ctx context.Context, caseID int64) ([]string, error) {
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil || v.Determination == nil || v.Provisional {
		return nil, err
	}
	var out []string
	switch {
	case reportable(v.Determination.Part806.Status):
		out = append(out, KindPart806)
		if v.Determination.Part806.Status == "filed" {
			rs, err := s.Store.RegRecords(ctx, vigil.RegRecordFilter{Kind: vigil.RegPart806Report, CaseID: v.Case.ID})
			if err != nil {
				return nil, err
			}
			if len(rs) > 0 {
				out = append(out, KindPart806Amendment)
			}
		}
	case notReported(v.Determination.Part806.Status):
		out = append(out, KindPart806Record)
	}
	return append(out, KindPremarket), nil
}

// build is one document's reading of the organization and its settings.
type build struct {
	s   *Service
	org *vigil.Organization
	loc *time.Location
	set Settings // the organization's settings; a device's are merged in by deviceSettings
}

func (s *Service) newBuild(ctx context.Context) (*build, error) {
	orgs, err := s.Store.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	if len(orgs) == 0 {
		return nil, vigil.Errorf(vigil.ECONFLICT, "no organization: run vigil init first")
	}
	b := &build{s: s, org: orgs[0], loc: s.Cases.Zone(ctx)}
	b.set, _, err = s.settings(ctx, 0)
	return b, err
}

func (b *build) today() vigil.Date { return vigil.DateOf(b.s.Clock.Now(), b.loc) }

func (b *build) day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return vigil.DateOf(t, b.loc).String()
}

// records reads the regulatory records of kind for a case (oldest first), decoding each body into a new T.
func records[T any](ctx context.Context, st Store, kind string, caseID, deviceID int64) ([]*vigil.RegRecord, []T, error) {
	rs, err := st.RegRecords(ctx, vigil.RegRecordFilter{Kind: kind, CaseID: caseID, DeviceID: deviceID})
	if err != nil {
		return nil, nil, err
	}
	out := make([]T, len(rs))
	for i, r := range rs {
		if err := json.Unmarshal(r.Body, &out[i]); err != nil {
			return nil, nil, vigil.Errorf(vigil.EINTERNAL, "regulatory record %d: %v", r.ID, err)
		}
	}
	return rs, out, nil
}

// SignKind is the kind of record a Part 11 signature of a regulatory record signs (vigil sign regdoc_record ID).
const SignKind = "regdoc_record"

// manifests reads the Part 11 signatures of regulatory records, as their manifestation lines, by record.
func (b *build) manifests(ctx context.Context, ids ...int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if b.s.Signing == nil || len(ids) == 0 {
		return out, nil
	}
	sigs, err := b.s.Signing.Signatures(ctx, SignKind, ids...)
	if err != nil {
		return nil, err
	}
	for _, sg := range sigs {
		out[sg.RecordID] = append(out[sg.RecordID], sg.Manifest(b.loc))
	}
	return out, nil
}

func reportable(status string) bool {
	return slices.Contains([]string{"required", "overdue", "conditional", "filed"}, status)
}

func notReported(status string) bool {
	return slices.Contains([]string{"waived", "not_required", "covered_by_mdr"}, status)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orNone(s, none string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return s
}
