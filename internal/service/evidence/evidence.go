// Package evidence is the inspection use case of issue 15: one zip per case, or per device and reporting period,
// with everything an FDA investigator or a submission reviewer needs to see — the regulatory documents that apply,
// the decision records (each case's view, each record's state, their Part 11 signatures), the customer notices as
// sent with their delivery log, the ISAO shares and the G2016 §IX evidence of the memberships, the segment of the
// audit trail that recorded all of it and a signed checkpoint of its head — listed with their SHA-256 in a
// manifest signed with the audit key. `vigil audit verify --package` (internal/audit VerifyPackage) checks it
// offline on another machine. Exporting needs vigil.PermAuditVerify and the audit key.
package evidence

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/report"
	"github.com/vigil-dev/vigil/internal/service/isao"
	"github.com/vigil-dev/vigil/internal/service/regdocs"
)

// documentFormats are the formats each applicable document is included in: the PDF people read, the JSON tools
// read. A document kind is included when the documents service lists it for the case (Documents.Available).
var documentFormats = []string{"pdf", "json"}

// Store is what a package needs of the trail.
type Store interface {
	EventsBetween(ctx context.Context, from, to int64) ([]*vigil.AuditEvent, error)
	LastRecorded(ctx context.Context, table string, id int64) (int64, error)
	RecordRows(ctx context.Context, table string, ids []int64) (map[int64]audit.Row, error)
	// RegRecords lists a case's regulatory records (806 filings, 806.20 sign-offs, premarket decisions).
	RegRecords(ctx context.Context, f vigil.RegRecordFilter) ([]*vigil.RegRecord, error)
}

// Cases reads a case with its records and determination (internal/cases).
type Cases interface {
	CaseView(ctx context.Context, id int64, asOf vigil.Date) (*cases.View, error)
	Zone(ctx context.Context) *time.Location
}

// Documents renders the regulatory documents of a case (internal/service/regdocs): the kinds that apply now, and
// one of them in a format, recorded in the trail as generated.
type Documents interface {
	Available(ctx context.Context, caseID int64) ([]string, error)
	Render(ctx context.Context, kind string, t regdocs.Target, format string, w io.Writer) (*report.Document, error)
}

// Notices reads a case's customer notices as sent (internal/service/notices).
type Notices interface {
	Notices(ctx context.Context, caseID int64) ([]*vigil.Notice, error)
	PreviewNotice(ctx context.Context, id int64) (*vigil.NoticePreview, error)
	NoticeDeliveries(ctx context.Context, id int64) ([]vigil.NoticeDelivery, error)
}

// ISAO reads the ISAO participation (internal/service/isao): a case's part of its package, the sharing log and the
// §IX evidence of the memberships over a period.
type ISAO interface {
	CaseEvidence(ctx context.Context, caseID int64) (*isao.CasePackage, error)
	Memberships(ctx context.Context) ([]vigil.ISAOMembership, error)
	Shares(ctx context.Context, isao string, caseID int64) ([]*vigil.ISAOShare, error)
	Evidence(ctx context.Context, name, device string, from, to vigil.Date) (*isao.ParticipationEvidence, error)
}

// DevicePeriods reads what a device's package for a period holds (internal/service/regdocs).
type DevicePeriods interface {
	DevicePeriod(ctx context.Context, deviceID int64, year int) (*regdocs.DevicePeriod, error)
	Render(ctx context.Context, kind string, t regdocs.Target, format string, w io.Writer) (*report.Document, error)
}

// Checkpointer signs the trail's head (internal/service/audittrail).
type Checkpointer interface {
	Checkpoint(ctx context.Context) (vigil.AuditCheckpoint, error)
}

// Service exports evidence packages. Documents, Notices and ISAO are optional: a package then goes without them;
// a device's package needs Devices.
type Service struct {
	Store      Store
	Cases      Cases
	Signing    vigil.SignatureService
	Documents  Documents
	Devices    DevicePeriods
	Notices    Notices
	ISAO       ISAO
	Checkpoint Checkpointer
	Key        ed25519.PrivateKey // the audit key: signs the manifest (nil: export refused)
	Clock      vigil.Clock
}

// ExportCase writes the evidence package of a case to w. Needs PermAuditVerify; EINVALID without the audit key.
func (s *Service) ExportCase(ctx context.Context, caseID int64, w io.Writer) (audit.PackageManifest, error) {
	if err := s.can(ctx); err != nil {
		return audit.PackageManifest{}, err
	}
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return audit.PackageManifest{}, err
	}
	caseID = v.Case.ID // a merged case's package is the one it was merged into
	p := newPkg()
	if err := s.signingPolicy(ctx, p); err != nil {
		return audit.PackageManifest{}, err
	}
	if err := s.caseFiles(ctx, v, "", p); err != nil {
		return audit.PackageManifest{}, err
	}
	return s.close(ctx, w, p, "case "+strconv.FormatInt(caseID, 10))
}

// ExportDevice writes the evidence package of a device for the period ending in year (the PMA reporting period of
// a PMA device, else the calendar year): the device and its versions, its documents (the PMA periodic report
// section among them), every case with something in the period as a case package has it, the ISAO shares of the
// period and the §IX evidence of each membership covering the device. Needs PermAuditVerify; EINVALID without
// the audit key.
func (s *Service) ExportDevice(ctx context.Context, deviceID int64, year int, w io.Writer) (audit.PackageManifest, error) {
	if err := s.can(ctx); err != nil {
		return audit.PackageManifest{}, err
	}
	if s.Devices == nil {
		return audit.PackageManifest{}, vigil.Errorf(vigil.EUNAVAILABLE, "a device's evidence package needs the regulatory documents")
	}
	dp, err := s.Devices.DevicePeriod(ctx, deviceID, year)
	if err != nil {
		return audit.PackageManifest{}, err
	}
	p := newPkg()
	if err := s.signingPolicy(ctx, p); err != nil {
		return audit.PackageManifest{}, err
	}
	p.records["devices"] = []int64{dp.Device.ID}
	p.about = append(p.about, "device "+strconv.FormatInt(dp.Device.ID, 10))
	if err := p.json("device/period.json", dp); err != nil {
		return audit.PackageManifest{}, err
	}
	for _, kind := range dp.Documents {
		for _, format := range documentFormats {
			var buf bytes.Buffer
			if _, err := s.Devices.Render(ctx, kind, regdocs.Target{DeviceID: dp.Device.ID, Period: year}, format, &buf); err != nil {
				return audit.PackageManifest{}, fmt.Errorf("evidence: document %s (%s): %w", kind, format, err)
			}
			p.add("device/documents/"+kind+"."+format, buf.Bytes())
		}
	}
	for _, id := range dp.Cases {
		v, err := s.Cases.CaseView(ctx, id, vigil.Date{})
		if err != nil {
			return audit.PackageManifest{}, err
		}
		if err := s.caseFiles(ctx, v, fmt.Sprintf("cases/%d/", id), p); err != nil {
			return audit.PackageManifest{}, err
		}
	}
	if err := s.periodISAO(ctx, dp, p); err != nil {
		return audit.PackageManifest{}, err
	}
	return s.close(ctx, w, p, fmt.Sprintf("device %d period %d (%s to %s)", dp.Device.ID, year, dp.From, dp.To))
}

func (s *Service) can(ctx context.Context) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return err
	}
	if s.Key == nil {
		return vigil.Errorf(vigil.EINVALID, "an evidence package is signed with the audit key: give it with --audit-key FILE or $VIGIL_AUDIT_KEY")
	}
	return nil
}

// caseFiles adds a case's view, signatures, documents, notices as sent and ISAO participation (its shares, the
// intelligence touching it, the §IX evidence since D0: isao.Service.CaseEvidence) under dir ("" for a case's own
// package, whose files keep their top-level names).
func (s *Service) caseFiles(ctx context.Context, v *cases.View, dir string, p *pkg) error {
	p.records["cases"] = append(p.records["cases"], v.Case.ID)
	p.about = append(p.about, "case "+strconv.FormatInt(v.Case.ID, 10))
	if err := p.json(dir+"case/case.json", v); err != nil {
		return err
	}
	if err := s.signatures(ctx, v, s.Cases.Zone(ctx), dir, p); err != nil {
		return err
	}
	if err := s.documents(ctx, v.Case.ID, dir, p); err != nil {
		return err
	}
	if err := s.communications(ctx, v.Case.ID, dir, p); err != nil {
		return err
	}
	if s.ISAO == nil {
		return nil
	}
	ip, err := s.ISAO.CaseEvidence(ctx, v.Case.ID)
	if err != nil {
		return err
	}
	for _, f := range ip.Files {
		p.add(dir+f.Name, f.Content)
	}
	for table, ids := range ip.Records {
		p.records[table] = append(p.records[table], ids...)
	}
	return nil
}

// close adds the audit-trail segment and the checkpoint, and writes the package with its signed manifest.
func (s *Service) close(ctx context.Context, w io.Writer, p *pkg, scope string) (audit.PackageManifest, error) {
	// The checkpoint comes after every write the export made (each document's generation is recorded), so the
	// segment ends with them.
	cp, err := s.Checkpoint.Checkpoint(ctx)
	if err != nil {
		return audit.PackageManifest{}, err
	}
	if err := s.records(ctx, cp, p); err != nil {
		return audit.PackageManifest{}, err
	}
	if err := p.json(audit.CheckpointFile, cp); err != nil {
		return audit.PackageManifest{}, err
	}
	pw := audit.NewPackageWriter(w, s.Clock.Now())
	for _, name := range p.order {
		if err := pw.Add(name, p.files[name]); err != nil {
			return audit.PackageManifest{}, err
		}
	}
	if err := pw.Close(s.Key, scope, cp); err != nil {
		return audit.PackageManifest{}, err
	}
	return audit.PackageManifest{Format: audit.PackageFormat, Scope: scope, Checkpoint: cp}, nil
}

// periodISAO adds the ISAO participation of a device's reporting period: the period's shares of its cases
// (isao/shares.json, with their records) and the §IX evidence over the period of each membership covering the
// device (isao/evidence-NAME.json).
func (s *Service) periodISAO(ctx context.Context, dp *regdocs.DevicePeriod, p *pkg) error {
	if s.ISAO == nil {
		return nil
	}
	shares := []*vigil.ISAOShare{}
	for _, id := range dp.Cases {
		shs, err := s.ISAO.Shares(ctx, "", id)
		if err != nil {
			return err
		}
		for _, sh := range shs {
			if !sh.Date.Before(dp.From) && !sh.Date.After(dp.To) {
				shares = append(shares, sh)
				p.records["isao_shares"] = append(p.records["isao_shares"], sh.ID)
			}
		}
	}
	slices.SortFunc(shares, func(a, b *vigil.ISAOShare) int { return int(a.ID - b.ID) })
	if err := p.json("isao/shares.json", shares); err != nil {
		return err
	}
	ms, err := s.ISAO.Memberships(ctx)
	if err != nil {
		return err
	}
	for _, m := range vigil.ISAOsFor(ms, dp.Device.ID) {
		device, name := "", fileName(m.Name)
		if m.DeviceID != 0 {
			device, name = strconv.FormatInt(m.DeviceID, 10), name+"-device"
		}
		ev, err := s.ISAO.Evidence(ctx, m.Name, device, dp.From, dp.To)
		if err != nil {
			return err
		}
		if err := p.json("isao/evidence-"+name+".json", ev); err != nil {
			return err
		}
	}
	return nil
}

// fileName keeps the letters and digits of a name for a file name.
func fileName(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s), "-")
}

// pkg collects a package's files in order, the audited records (table → ids) whose states it carries, and the
// objects ("case 7", "device 2") whose audit events it shows unredacted.
type pkg struct {
	order   []string
	files   map[string][]byte
	records map[string][]int64
	about   []string
}

func newPkg() *pkg { return &pkg{files: map[string][]byte{}, records: map[string][]int64{}} }

func (p *pkg) add(name string, b []byte) {
	p.order = append(p.order, name)
	p.files[name] = b
}

func (p *pkg) json(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("evidence %s: %w", name, err)
	}
	p.add(name, append(b, '\n'))
	return nil
}

// signatures adds the case's records (standing and withdrawn) to the package's records, and their signatures with
// the manifestation of each (21 CFR 11.50).
func (s *Service) signatures(ctx context.Context, v *cases.View, zone *time.Location, dir string, p *pkg) error {
	// This case's records (a device's package holds several cases: each signs its own): its assessments and
	// events, its regulatory records (806 filings, 806.20 sign-offs, premarket decisions) and the records of its
	// signed acts (closure, fix validation, notice release).
	mine := map[string][]int64{}
	regs, err := s.Store.RegRecords(ctx, vigil.RegRecordFilter{CaseID: v.Case.ID})
	if err != nil {
		return err
	}
	for _, r := range regs {
		mine["regdoc_records"] = append(mine["regdoc_records"], r.ID)
	}
	kinds := []struct{ kind, table string }{{"assessment", "assessments"}, {"case_event", "case_events"}, {"regdoc_record", "regdoc_records"}}
	acts := map[string][]int64{}
	for _, x := range v.Acts {
		mine["act_records"] = append(mine["act_records"], x.ID)
		if acts[string(x.Act)] == nil {
			kinds = append(kinds, struct{ kind, table string }{string(x.Act), "act_records"})
		}
		acts[string(x.Act)] = append(acts[string(x.Act)], x.ID)
	}
	for _, a := range v.Assessments {
		mine["assessments"] = append(mine["assessments"], a.ID)
	}
	for _, e := range v.Events {
		mine["case_events"] = append(mine["case_events"], e.ID)
	}
	for _, w := range v.Withdrawn {
		mine["case_retractions"] = append(mine["case_retractions"], w.Retraction.ID)
		if w.Assessment != nil {
			mine["assessments"] = append(mine["assessments"], w.Assessment.ID)
		} else if w.Event != nil {
			mine["case_events"] = append(mine["case_events"], w.Event.ID)
		}
	}
	for table, ids := range mine {
		p.records[table] = append(p.records[table], ids...)
	}
	var sigs []*vigil.Signature
	var lines []string
	for _, k := range kinds {
		ids := mine[k.table]
		if k.table == "act_records" {
			ids = acts[k.kind]
		}
		if len(ids) == 0 {
			continue
		}
		got, err := s.Signing.Signatures(ctx, k.kind, ids...)
		if err != nil {
			return err
		}
		for _, sg := range got {
			sigs = append(sigs, sg)
			lines = append(lines, sg.Manifest(zone))
			p.records["signatures"] = append(p.records["signatures"], sg.ID)
		}
	}
	if sigs == nil {
		sigs = []*vigil.Signature{}
	}
	if err := p.json(dir+"case/signatures.json", sigs); err != nil {
		return err
	}
	p.add(dir+"case/signatures.txt", []byte(strings.Join(append(lines, ""), "\n")))
	return nil
}

// signingPolicy states which acts needed a Part 11 signature when the package was made, and which did not, who
// switched each off, when and why (signing-policy.txt and .json, with the setting's records).
func (s *Service) signingPolicy(ctx context.Context, p *pkg) error {
	rs, err := s.Signing.Requirements(ctx)
	if err != nil {
		return err
	}
	zone := s.Cases.Zone(ctx)
	lines := []string{"Part 11 electronic signatures (21 CFR 11.50, 11.200) required by the organization for each act:"}
	for _, r := range rs {
		line := fmt.Sprintf("- %s (%s): required (the default)", r.Act.Text(), r.Act)
		switch {
		case !r.Required:
			line = fmt.Sprintf("- %s (%s): NOT REQUIRED since %s, switched off by %s: %s", r.Act.Text(), r.Act, r.SetAt.In(zone).Format("2006-01-02 15:04:05 MST"), r.SetBy, r.Reason)
		case r.SetBy != "":
			line = fmt.Sprintf("- %s (%s): required, last set on %s by %s: %s", r.Act.Text(), r.Act, r.SetAt.In(zone).Format("2006-01-02 15:04:05 MST"), r.SetBy, r.Reason)
		}
		if r.ID != 0 {
			p.records["signature_requirements"] = append(p.records["signature_requirements"], r.ID)
		}
		lines = append(lines, line)
	}
	if err := p.json("signing-policy.json", rs); err != nil {
		return err
	}
	p.add("signing-policy.txt", []byte(strings.Join(append(lines, ""), "\n")))
	return nil
}

// documents adds every regulatory document that applies to the case, in each format.
func (s *Service) documents(ctx context.Context, caseID int64, dir string, p *pkg) error {
	if s.Documents == nil {
		return nil
	}
	kinds, err := s.Documents.Available(ctx, caseID)
	if err != nil {
		return err
	}
	for _, kind := range kinds {
		for _, format := range documentFormats {
			var buf bytes.Buffer
			if _, err := s.Documents.Render(ctx, kind, regdocs.Target{CaseID: caseID}, format, &buf); err != nil {
				return fmt.Errorf("evidence: document %s (%s): %w", kind, format, err)
			}
			p.add(dir+"documents/"+kind+"."+format, buf.Bytes())
		}
	}
	return nil
}

// communications adds each customer notice of the case as sent: the notice, its text and HTML as recipients read
// it, and the per-recipient delivery log.
func (s *Service) communications(ctx context.Context, caseID int64, dir string, p *pkg) error {
	if s.Notices == nil {
		return nil
	}
	ns, err := s.Notices.Notices(ctx, caseID)
	if err != nil {
		return err
	}
	slices.SortFunc(ns, func(a, b *vigil.Notice) int { return int(a.ID - b.ID) })
	for _, n := range ns {
		if n.State != vigil.NoticeSent {
			continue // a draft was never communicated
		}
		pv, err := s.Notices.PreviewNotice(ctx, n.ID)
		if err != nil {
			return err
		}
		ds, err := s.Notices.NoticeDeliveries(ctx, n.ID)
		if err != nil {
			return err
		}
		base := dir + "communications/notice-" + strconv.FormatInt(n.ID, 10)
		if err := p.json(base+".json", n); err != nil {
			return err
		}
		p.add(base+".txt", []byte(pv.Text))
		p.add(base+".html", []byte(pv.HTML))
		if err := p.json(base+"-deliveries.json", ds); err != nil {
			return err
		}
		p.records["notices"] = append(p.records["notices"], n.ID)
	}
	return nil
}

// records adds the state of every record of the package and the segment of the trail from the earliest event
// that recorded one of them as it is now, to the checkpoint. Events that record none of them (and are not about
// the package's cases or device) are redacted: the chain still links through them.
func (s *Service) records(ctx context.Context, cp vigil.AuditCheckpoint, p *pkg) error {
	from := cp.Count
	keep := map[string]bool{}
	for _, table := range sortedTables(p.records) {
		ids := slices.Compact(slices.Sorted(slices.Values(p.records[table])))
		rows, err := s.Store.RecordRows(ctx, table, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			row, ok := rows[id]
			if !ok {
				return vigil.Errorf(vigil.ENOTFOUND, "evidence: %s %d is gone", table, id)
			}
			seq, err := s.Store.LastRecorded(ctx, table, id)
			if err != nil {
				return err
			}
			if seq == 0 || seq > cp.Count {
				return vigil.Errorf(vigil.ECONFLICT, "evidence: %s %d has no state in the audit trail up to event %d (run vigil audit verify)", table, id, cp.Count)
			}
			from = min(from, seq)
			key := strconv.FormatInt(id, 10)
			keep[table+"\x00"+key] = true
			if err := p.json(audit.RecordPath(table, key), audit.PackageRecord{Table: table, Key: key, Cols: row.Cols, Children: row.Children}); err != nil {
				return err
			}
		}
	}
	evs, err := s.Store.EventsBetween(ctx, max(from, 1), cp.Count)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, e := range evs {
		pe := audit.Redact(e)
		// Key rotations stay whole: an inspector follows them to the key that signed the checkpoint.
		if e.Action == audit.RotateAction || slices.Contains(p.about, e.ObjectType+" "+e.ObjectID) || slices.ContainsFunc(e.Records, func(r vigil.AuditRecord) bool { return keep[r.Table+"\x00"+r.Key] }) {
			pe = audit.PackageEvent{AuditEvent: *e}
		}
		if err := enc.Encode(pe); err != nil {
			return err
		}
	}
	p.add(audit.SegmentFile, buf.Bytes())
	return nil
}

func sortedTables(m map[string][]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
