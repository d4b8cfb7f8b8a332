// Package evidence is the inspection use case of issue 15: one zip per case with everything an FDA investigator
// or a submission reviewer needs to see about it — the regulatory documents that apply, the decision records (the
// case view, each record's state, their Part 11 signatures), the customer notices as sent with their delivery
// log, the segment of the audit trail that recorded all of it and a signed checkpoint of its head — listed with
// their SHA-256 in a manifest signed with the audit key. `vigil audit verify --package` (internal/audit
// VerifyPackage) checks it offline on another machine. Exporting needs vigil.PermAuditVerify and the audit key.
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

// Checkpointer signs the trail's head (internal/service/audittrail).
type Checkpointer interface {
	Checkpoint(ctx context.Context) (vigil.AuditCheckpoint, error)
}

// Service exports evidence packages. Documents and Notices are optional: a package then goes without them.
type Service struct {
	Store      Store
	Cases      Cases
	Signing    vigil.SignatureService
	Documents  Documents
	Notices    Notices
	Checkpoint Checkpointer
	Key        ed25519.PrivateKey // the audit key: signs the manifest (nil: export refused)
	Clock      vigil.Clock
}

// ExportCase writes the evidence package of a case to w. Needs PermAuditVerify; EINVALID without the audit key.
func (s *Service) ExportCase(ctx context.Context, caseID int64, w io.Writer) (audit.PackageManifest, error) {
	var m audit.PackageManifest
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return m, err
	}
	if s.Key == nil {
		return m, vigil.Errorf(vigil.EINVALID, "an evidence package is signed with the audit key: give it with --audit-key FILE or $VIGIL_AUDIT_KEY")
	}
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return m, err
	}
	caseID = v.Case.ID // a merged case's package is the one it was merged into
	zone := s.Cases.Zone(ctx)
	p := &pkg{files: map[string][]byte{}, records: map[string][]int64{"cases": {caseID}}}

	if err := p.json("case/case.json", v); err != nil {
		return m, err
	}
	if err := s.signatures(ctx, v, zone, p); err != nil {
		return m, err
	}
	if err := s.documents(ctx, caseID, p); err != nil {
		return m, err
	}
	if err := s.communications(ctx, caseID, p); err != nil {
		return m, err
	}
	// The checkpoint comes after every write the export made (each document's generation is recorded), so the
	// segment ends with them.
	cp, err := s.Checkpoint.Checkpoint(ctx)
	if err != nil {
		return m, err
	}
	if err := s.records(ctx, caseID, cp, p); err != nil {
		return m, err
	}
	if err := p.json(audit.CheckpointFile, cp); err != nil {
		return m, err
	}
	pw := audit.NewPackageWriter(w, s.Clock.Now())
	for _, name := range p.order {
		if err := pw.Add(name, p.files[name]); err != nil {
			return m, err
		}
	}
	scope := "case " + strconv.FormatInt(caseID, 10)
	if err := pw.Close(s.Key, scope, cp); err != nil {
		return m, err
	}
	return audit.PackageManifest{Format: audit.PackageFormat, Scope: scope, Checkpoint: cp}, nil
}

// pkg collects a package's files in order, and the audited records (table → ids) whose states it carries.
type pkg struct {
	order   []string
	files   map[string][]byte
	records map[string][]int64
}

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
func (s *Service) signatures(ctx context.Context, v *cases.View, zone *time.Location, p *pkg) error {
	for _, a := range v.Assessments {
		p.records["assessments"] = append(p.records["assessments"], a.ID)
	}
	for _, e := range v.Events {
		p.records["case_events"] = append(p.records["case_events"], e.ID)
	}
	for _, w := range v.Withdrawn {
		p.records["case_retractions"] = append(p.records["case_retractions"], w.Retraction.ID)
		if w.Assessment != nil {
			p.records["assessments"] = append(p.records["assessments"], w.Assessment.ID)
		} else if w.Event != nil {
			p.records["case_events"] = append(p.records["case_events"], w.Event.ID)
		}
	}
	var sigs []*vigil.Signature
	var lines []string
	for _, k := range []struct{ kind, table string }{{"assessment", "assessments"}, {"case_event", "case_events"}} {
		got, err := s.Signing.Signatures(ctx, k.kind, p.records[k.table]...)
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
	if err := p.json("case/signatures.json", sigs); err != nil {
		return err
	}
	p.add("case/signatures.txt", []byte(strings.Join(append(lines, ""), "\n")))
	return nil
}

// documents adds every regulatory document that applies to the case, in each format.
func (s *Service) documents(ctx context.Context, caseID int64, p *pkg) error {
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
			p.add("documents/"+kind+"."+format, buf.Bytes())
		}
	}
	return nil
}

// communications adds each customer notice of the case as sent: the notice, its text and HTML as recipients read
// it, and the per-recipient delivery log.
func (s *Service) communications(ctx context.Context, caseID int64, p *pkg) error {
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
		base := "communications/notice-" + strconv.FormatInt(n.ID, 10)
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
// the case) are redacted: the chain still links through them.
func (s *Service) records(ctx context.Context, caseID int64, cp vigil.AuditCheckpoint, p *pkg) error {
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
		if e.Action == audit.RotateAction || e.ObjectType == "case" && e.ObjectID == strconv.FormatInt(caseID, 10) || slices.ContainsFunc(e.Records, func(r vigil.AuditRecord) bool { return keep[r.Table+"\x00"+r.Key] }) {
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
