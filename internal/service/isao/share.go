package isao

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/feed/stix"
	"github.com/vigil-dev/vigil/internal/feed/taxii"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/jobs"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/service/remediation"
)

// Remediations reads a case's remediation (internal/service/remediation): the plan's compensating controls and
// fix, and the fix releases, go into a share.
type Remediations interface {
	Remediation(ctx context.Context, caseID int64) (*remediation.Remediation, error)
}

// ShareInput is one share: the case, the ISAO (its membership's name; "" for the membership covering the case's
// device), and whether to export the bundle for upload by hand instead of sending it over TAXII.
type ShareInput struct {
	CaseID int64  `json:"case_id"`
	ISAO   string `json:"isao,omitempty"`
	Export bool   `json:"export,omitempty"`
}

// NoticeShareInput is the share of a customer notice: the notice (sent), the ISAO, and export as for a case.
type NoticeShareInput struct {
	NoticeID int64  `json:"notice_id"`
	ISAO     string `json:"isao,omitempty"`
	Export   bool   `json:"export,omitempty"`
}

// ShareResult is a share made: the sharing log's entries (one per case: a notice covers one or more), and the
// bundle as shared.
type ShareResult struct {
	Shares []*vigil.ISAOShare `json:"shares"`
	Bundle json.RawMessage    `json:"bundle"`
}

// Notices reads the customer notices a share carries (internal/service/notices): the notice, and its text as the
// recipients read it.
type Notices interface {
	Notice(ctx context.Context, id int64) (*vigil.Notice, error)
	PreviewNotice(ctx context.Context, id int64) (*vigil.NoticePreview, error)
}

// statusAttempts is how many times a pending TAXII status is polled before the share is logged as pending (the
// isao-status job asks again later).
const statusAttempts = 4

// Share gives a case to an ISAO as a STIX 2.1 bundle: over the membership's TAXII collection (the status the
// server returns, polled a few times while pending), or exported. Either way it appends the sharing log entry and
// records the case's isao_shared event through the case service, so criterion 4 follows without a hand-typed
// event. A bundle that breaks STIX's rules, a TAXII server that refuses an object, or a membership that does not
// cover the case's device is an error, and nothing is recorded. Needs PermEvent.
func (s *Service) Share(ctx context.Context, in ShareInput) (*ShareResult, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	b, m, v, err := s.bundle(ctx, in.CaseID, in.ISAO)
	if err != nil {
		return nil, err
	}
	return s.deliver(ctx, m, b, []*cases.View{v}, nil, in.Export)
}

// ShareNotice gives a customer notice to an ISAO (G2016 §IX item 3: the customer communications shared with it):
// one bundle with every case the notice covers and the notice's text as the communication, sent or exported once,
// then logged and recorded as isao_shared on each case. The notice must have been sent, and one membership must
// cover every case's device. Needs PermEvent.
func (s *Service) ShareNotice(ctx context.Context, in NoticeShareInput) (*ShareResult, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	b, m, views, n, err := s.noticeBundle(ctx, in.NoticeID, in.ISAO)
	if err != nil {
		return nil, err
	}
	return s.deliver(ctx, m, b, views, n, in.Export)
}

// deliver checks the bundle, sends it over TAXII or leaves it exported, then records isao_shared on each case and
// logs one share per case.
func (s *Service) deliver(ctx context.Context, m *vigil.ISAOMembership, b *stix.OutBundle, views []*cases.View, n *vigil.Notice, export bool) (*ShareResult, error) {
	raw, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	if errs := stix.Check(raw, stix.Known); len(errs) > 0 {
		return nil, vigil.Errorf(vigil.EINTERNAL, "the STIX bundle %s breaks STIX's rules: %v", b.ID, errs[0])
	}
	sum := sha256.Sum256(raw)
	today := s.Today(ctx)
	tmpl := vigil.ISAOShare{MembershipID: m.ID, ISAO: m.Name, BundleID: b.ID, SHA256: hex.EncodeToString(sum[:]), Objects: len(b.Objects), TLP: m.TLP, Date: today,
		Method: vigil.ShareExported, Status: vigil.ShareExported}
	what := "STIX bundle"
	if n != nil {
		tmpl.NoticeID = n.ID
		what = fmt.Sprintf("customer notice N-%d (%d cases) in STIX bundle", n.ID, len(n.Cases))
	}
	how := "exported for upload by hand"
	if !export {
		st, err := s.send(ctx, m, b)
		if err != nil {
			return nil, err
		}
		tmpl.Method, tmpl.StatusID, tmpl.Status = vigil.ShareTAXII, st.ID, shareStatus(st)
		how = fmt.Sprintf("over TAXII (status %s: %s)", st.ID, tmpl.Status)
	}
	res := &ShareResult{Bundle: raw}
	for _, v := range views {
		sh := tmpl
		sh.CaseID, sh.Vulnerability, sh.Device = v.Case.ID, v.Case.Vulnerability, v.Device.Name
		e := &vigil.CaseEvent{CaseID: v.Case.ID, Type: regulatory.EventISAOShared, Date: today,
			Note: vigil.Clip(vigil.MaxText, fmt.Sprintf("Shared with %s %s: %s %s, %d objects, TLP:%s, SHA-256 %s", m.Name, how, what, sh.BundleID, sh.Objects,
				strings.ToUpper(sh.TLP), sh.SHA256))}
		if err := s.Cases.RecordEvent(ctx, e); err != nil {
			return nil, vigil.Errorf(vigil.ErrorCode(err), "the bundle was %s, but the isao_shared event of case %d was refused (%s); logged: %d of %d cases",
				strings.TrimPrefix(how, "over TAXII "), v.Case.ID, vigil.ErrorMessage(err), len(res.Shares), len(views))
		}
		sh.EventID = e.ID
		if err := s.Store.AddISAOShare(ctx, &sh); err != nil {
			return nil, err
		}
		res.Shares = append(res.Shares, &sh)
	}
	return res, nil
}

// shareStatus is where a TAXII request stands as the sharing log says it.
func shareStatus(st *taxii.Status) string {
	switch {
	case st.Status != "complete":
		return vigil.SharePending
	case st.FailureCount > 0:
		return vigil.ShareFailed
	}
	return vigil.ShareComplete
}

// RefreshStatus asks the ISAO's TAXII server again for the status of a share that was still pending, and records
// what it says (every share of the same request with it): complete, failed (with the server's words for the
// objects it refused) or still pending. A share no longer pending is returned as it is. Needs PermEvent.
func (s *Service) RefreshStatus(ctx context.Context, shareID int64) (*vigil.ISAOShare, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	sh, err := s.Store.ISAOShare(ctx, shareID)
	if err != nil {
		return nil, err
	}
	if sh.Method != vigil.ShareTAXII {
		return nil, vigil.Errorf(vigil.EINVALID, "share %d was exported for upload by hand: it has no TAXII status to ask for", shareID)
	}
	if sh.Status != vigil.SharePending {
		return sh, nil
	}
	m, err := s.MembershipByID(ctx, sh.MembershipID)
	if err != nil {
		return nil, err
	}
	c, root, err := s.client(ctx, m)
	if err != nil {
		return nil, err
	}
	st, err := c.Status(ctx, root, sh.StatusID)
	if err != nil {
		return nil, err
	}
	status, text := shareStatus(st), ""
	if status == vigil.ShareFailed {
		text = fmt.Sprintf("the server refused %d of %d objects: %s", st.FailureCount, st.TotalCount, st.ErrorText())
	}
	same, err := s.Store.ISAOShares(ctx, vigil.ISAOShareFilter{MembershipID: sh.MembershipID, Status: vigil.SharePending})
	if err != nil {
		return nil, err
	}
	for _, o := range same {
		if o.StatusID != sh.StatusID {
			continue
		}
		if status == vigil.ShareFailed {
			if err := s.withdrawShared(ctx, o, text); err != nil {
				return nil, err
			}
		}
		if err := s.Store.SetISAOShareStatus(ctx, o.ID, status, text); err != nil {
			return nil, err
		}
	}
	return s.Store.ISAOShare(ctx, shareID)
}

// withdrawShared retracts the isao_shared event a share recorded when the TAXII server finally refused the bundle:
// the ISAO did not get what the event says it got, so criterion 4 must not count it. The retraction is the
// system's (isao-status), as the server's answer is a fact and not a person's decision, and its reason names who
// asked for the status. Run before the share is marked failed, so a retraction that fails leaves the share pending
// and the next poll tries again.
func (s *Service) withdrawShared(ctx context.Context, sh *vigil.ISAOShare, refused string) error {
	if sh.EventID == 0 {
		return nil
	}
	asker := "the isao-status job"
	if a, ok := vigil.ActorFrom(ctx); ok {
		asker = a.String()
	}
	r := &vigil.Retraction{CaseID: sh.CaseID, Record: vigil.RecordRef{Kind: vigil.RecordEvent, ID: sh.EventID},
		Reason: vigil.Clip(vigil.MaxText, fmt.Sprintf("%s's TAXII server refused the bundle %s (status %s: %s); asked by %s. Share it again.", sh.ISAO, sh.BundleID, sh.StatusID, refused, asker))}
	err := s.Cases.Retract(vigil.WithActor(ctx, vigil.Actor{System: true, Name: "isao-status"}), r)
	if vigil.ErrorCode(err) == vigil.ECONFLICT { // retracted already (a poll that failed after retracting)
		return nil
	}
	return err
}

// RefreshPending asks again for the status of every share still pending (each TAXII request once), and returns the
// shares it asked about as they now stand. A server that does not answer leaves its shares pending and is
// reported after the others are asked. Needs PermEvent.
func (s *Service) RefreshPending(ctx context.Context) ([]*vigil.ISAOShare, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	pending, err := s.Store.ISAOShares(ctx, vigil.ISAOShareFilter{Status: vigil.SharePending})
	if err != nil {
		return nil, err
	}
	asked := map[string]bool{}
	out := []*vigil.ISAOShare{}
	var errs []string
	for _, sh := range pending {
		key := strconv.FormatInt(sh.MembershipID, 10) + "/" + sh.StatusID
		if asked[key] {
			continue
		}
		asked[key] = true
		now, err := s.RefreshStatus(ctx, sh.ID)
		if err != nil {
			errs = append(errs, fmt.Sprintf("share %d (%s): %s", sh.ID, sh.ISAO, vigil.ErrorMessage(err)))
			continue
		}
		out = append(out, now)
	}
	if len(errs) > 0 {
		return out, vigil.Errorf(vigil.EUNAVAILABLE, "TAXII status not read: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// StatusEvery is how often the isao-status job asks for the status of shares still pending.
const StatusEvery = 15 * time.Minute

// Periodic is the isao-status job `vigil serve` runs: it asks the TAXII servers about the shares still pending.
func (s *Service) Periodic() jobs.Periodic {
	return jobs.Periodic{Name: "isao-status", Every: StatusEvery, Run: func(ctx context.Context) error {
		_, err := s.RefreshPending(vigil.WithActor(ctx, vigil.Actor{System: true, Name: "isao-status"}))
		return err
	}}
}

// Bundle returns the STIX bundle a share of the case with the ISAO would carry, without sharing it. Needs PermRead.
func (s *Service) Bundle(ctx context.Context, caseID int64, isao string) (json.RawMessage, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	b, _, _, err := s.bundle(ctx, caseID, isao)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(b, "", "  ")
}

// Shares lists the sharing log, newest first: of one membership (name, "" for all) and one case (0 for all).
// Needs PermRead.
func (s *Service) Shares(ctx context.Context, isao string, caseID int64) ([]*vigil.ISAOShare, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var mid int64
	if isao != "" {
		m, err := s.Membership(ctx, isao, "")
		if err != nil {
			return nil, err
		}
		mid = m.ID
	}
	return s.Store.ISAOShares(ctx, vigil.ISAOShareFilter{MembershipID: mid, CaseID: caseID})
}

// bundle builds the share of a case with a membership that covers its device.
func (s *Service) bundle(ctx context.Context, caseID int64, name string) (*stix.OutBundle, *vigil.ISAOMembership, *cases.View, error) {
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := s.covering(ctx, v, name)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := s.caseShare(ctx, v, m)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := stix.CaseBundle(in)
	if err != nil {
		return nil, nil, nil, vigil.Errorf(vigil.EINVALID, "case %d: %v", v.Case.ID, err)
	}
	return b, m, v, nil
}

// noticeBundle builds the share of a sent customer notice: its cases, each covered by the one membership, and its
// text as the recipients read it.
func (s *Service) noticeBundle(ctx context.Context, noticeID int64, name string) (*stix.OutBundle, *vigil.ISAOMembership, []*cases.View, *vigil.Notice, error) {
	if s.Notices == nil {
		return nil, nil, nil, nil, vigil.Errorf(vigil.EUNAVAILABLE, "customer notices are not available here")
	}
	n, err := s.Notices.Notice(ctx, noticeID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if n.State != vigil.NoticeSent || n.SentDate == nil {
		return nil, nil, nil, nil, vigil.Errorf(vigil.EINVALID, "notice N-%d is a %s: only a notice sent to customers is a customer communication to share (vigil notice send %d)", n.ID, n.State, n.ID)
	}
	p, err := s.Notices.PreviewNotice(ctx, noticeID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var m *vigil.ISAOMembership
	var views []*cases.View
	var shares []stix.CaseShare
	for _, id := range n.Cases {
		v, err := s.Cases.CaseView(ctx, id, vigil.Date{})
		if err != nil {
			return nil, nil, nil, nil, err
		}
		cm, err := s.covering(ctx, v, name)
		if err != nil {
			return nil, nil, nil, nil, vigil.Errorf(vigil.ErrorCode(err), "notice N-%d, case %d: %s", n.ID, id, vigil.ErrorMessage(err))
		}
		if m != nil && cm.ID != m.ID {
			return nil, nil, nil, nil, vigil.Errorf(vigil.EINVALID, "isao: the cases of notice N-%d are covered by different memberships (%s, %s): name the ISAO", n.ID, label(m), label(cm))
		}
		m = cm
		in, err := s.caseShare(ctx, v, m)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		views, shares = append(views, v), append(shares, in)
	}
	text := "Subject: " + p.Subject + "\n\n" + p.Text
	b, err := stix.NoticeBundle(stix.Communication{Ref: "N-" + strconv.FormatInt(n.ID, 10), Date: n.SentDate.Time(), Text: text}, shares)
	if err != nil {
		return nil, nil, nil, nil, vigil.Errorf(vigil.EINVALID, "notice N-%d: %v", n.ID, err)
	}
	return b, m, views, n, nil
}

// covering is the active membership named (any, when name is "") among those covering the case's device.
func (s *Service) covering(ctx context.Context, v *cases.View, name string) (*vigil.ISAOMembership, error) {
	ms, err := s.Memberships(ctx)
	if err != nil {
		return nil, err
	}
	covering := vigil.ISAOsFor(ms, v.Device.ID)
	for i := range covering {
		if c := &covering[i]; (name == "" || strings.EqualFold(c.Name, name)) && c.Active(v.AsOf) {
			return c, nil
		}
	}
	var names []string
	for _, c := range covering {
		names = append(names, c.Name)
	}
	if name == "" {
		name = "an ISAO"
	}
	return nil, vigil.Errorf(vigil.EINVALID, "isao: no active membership of %s covers %s (the memberships covering it: %s)", name, v.Device.Name,
		strings.Join(append(names, "none")[:max(len(names), 1)], ", "))
}

// caseShare is what a share of the case carries under the membership.
func (s *Service) caseShare(ctx context.Context, v *cases.View, m *vigil.ISAOMembership) (stix.CaseShare, error) {
	orgs, err := s.Store.Orgs(ctx)
	if err != nil {
		return stix.CaseShare{}, err
	}
	if len(orgs) == 0 {
		return stix.CaseShare{}, vigil.Errorf(vigil.EINVALID, "no organization yet: run `vigil init` first")
	}
	org := orgs[0]
	in := stix.CaseShare{Manufacturer: org.Name, ManufacturerSince: org.CreatedAt, Contact: org.CVDContact, TLP: m.TLP, CaseID: v.Case.ID,
		Vulnerability: v.Case.Vulnerability, Device: v.Device.Name, Created: v.Case.CreatedAt, Modified: v.Case.CreatedAt}
	for _, id := range v.Case.IDs() {
		if strings.HasPrefix(strings.ToUpper(id), "CVE-") {
			in.CVEs = append(in.CVEs, strings.ToUpper(id))
		} else if id != v.Case.Vulnerability || len(in.CVEs) > 0 {
			in.OtherIDs = append(in.OtherIDs, id)
		}
	}
	if s.Intel != nil {
		if vu, err := s.Intel.Vuln(ctx, v.Case.Vulnerability); err == nil {
			in.Summary = vu.Summary
			for _, a := range vu.Advisories {
				for _, c := range a.CWEs {
					if !slices.Contains(in.CWEs, c) {
						in.CWEs = append(in.CWEs, c)
					}
				}
			}
		} else if vigil.ErrorCode(err) != vigil.ENOTFOUND {
			return stix.CaseShare{}, err
		}
	}
	if in.Summary == "" {
		in.Summary = v.Case.Vulnerability + " affects " + v.Device.Name + "."
	}
	for _, vs := range v.Versions {
		if vs.Status == "affected" || vs.Status == "under_investigation" {
			in.Versions = append(in.Versions, vs.Version)
		}
	}
	later := func(t time.Time) {
		if t.After(in.Modified) {
			in.Modified = t
		}
	}
	if n := len(v.Assessments); n > 0 {
		a := v.Assessments[n-1]
		in.Assessment = fmt.Sprintf("Assessed %s on %s: %s risk of patient harm (exploitability %s, severity %s).", v.Device.Name, a.Date, a.Risk,
			orUnknown(string(a.Exploitability)), orUnknown(a.Severity))
		in.Controls = append(in.Controls, a.Controls...)
		later(a.CreatedAt)
	}
	if d := v.Determination; d != nil && !v.Provisional {
		in.Assessment = strings.TrimSpace(in.Assessment + " The determination: " + string(d.Risk) + ".")
	}
	var fix []string
	if s.Remediations != nil {
		r, err := s.Remediations.Remediation(ctx, v.Case.ID)
		if err != nil {
			return stix.CaseShare{}, err
		}
		if p := r.Plan; p != nil {
			for _, c := range p.Controls {
				in.Controls = append(in.Controls, c.What)
			}
			if p.FixRelease != "" {
				fix = append(fix, fmt.Sprintf("Planned fix: %s %s, to be distributed by %s. %s", v.Device.Name, p.FixRelease, p.TargetDate, p.Rationale))
			}
			later(p.CreatedAt)
		}
		for _, f := range r.Fixes {
			if f.Distribution != nil && f.VV != nil && f.VV.Result == vigil.VVPassed {
				in.FixedIn = append(in.FixedIn, f.Release)
				fix = append(fix, fmt.Sprintf("%s %s (%s) was validated and distributed. %s", v.Device.Name, f.Release, f.Remediation, f.Description))
			}
			later(f.CreatedAt)
		}
	}
	for _, vs := range v.Versions {
		if vs.FixedIn != "" && !slices.Contains(in.FixedIn, vs.FixedIn) {
			in.FixedIn = append(in.FixedIn, vs.FixedIn)
		}
	}
	for _, e := range v.Events {
		switch e.Type {
		case regulatory.EventCustomerNotified:
			text := e.Note
			if len(e.Details.Elements) > 0 {
				text += " (G2016 notice elements " + strings.Join(e.Details.Elements, ", ") + ")"
			}
			in.Communications = append(in.Communications, stix.Communication{Ref: "E" + strconv.FormatInt(e.ID, 10), Date: e.Date.Time(), Text: text})
		case regulatory.EventInterimControls:
			in.Controls = append(in.Controls, e.Note)
		case regulatory.EventRemediationPlan, regulatory.EventFixDistributed:
			fix = append(fix, e.Note)
		case regulatory.EventISAOShared:
			continue // a share does not change what is shared
		}
		later(e.CreatedAt)
	}
	in.Controls = slices.Compact(in.Controls)
	in.Fix = strings.Join(fix, "\n")
	return in, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "not assessed"
	}
	return s
}

// send adds the bundle's objects to the membership's TAXII collection and waits for the request to complete. A
// failure of any object fails the share.
func (s *Service) send(ctx context.Context, m *vigil.ISAOMembership, b *stix.OutBundle) (*taxii.Status, error) {
	c, root, err := s.client(ctx, m)
	if err != nil {
		return nil, err
	}
	objs := make([]json.RawMessage, len(b.Objects))
	for i, o := range b.Objects {
		if objs[i], err = json.Marshal(o); err != nil {
			return nil, err
		}
	}
	st, err := c.AddObjects(ctx, root, m.TAXII.Collection, objs)
	if err != nil {
		return nil, err
	}
	wait := s.Wait
	if wait == nil {
		wait = time.After
	}
	if st, err = c.WaitStatus(ctx, root, st, statusAttempts, wait); err != nil {
		return nil, err
	}
	if st.FailureCount > 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "the TAXII server of %s refused %d of %d objects (status %s): %s", m.Name, st.FailureCount, st.TotalCount, st.ID, st.ErrorText())
	}
	return st, nil
}

// client is a TAXII client for the membership's server, its password opened with the secret key, and the API root.
func (s *Service) client(ctx context.Context, m *vigil.ISAOMembership) (*taxii.Client, string, error) {
	if m.TAXII.URL == "" || m.TAXII.Collection == "" {
		return nil, "", vigil.Errorf(vigil.EINVALID, "%s has no TAXII server: `vigil isao set %s --taxii URL --collection ID`, or export the bundle (--export FILE)", m.Name, m.Name)
	}
	c := &taxii.Client{HTTP: s.HTTP, User: m.TAXII.User}
	if c.HTTP == nil {
		// The URL is whatever a portfolio editor typed: the feeds' guard keeps it off loopback, private and
		// link-local addresses (metadata endpoints), checked on every address dialled.
		c.HTTP = importer.NewClient(importer.PublicAddr)
		c.HTTP.Timeout = time.Minute
	}
	if m.TAXII.PasswordSet {
		sealed, err := s.Store.ISAOSecret(ctx, m.ID)
		if err != nil {
			return nil, "", err
		}
		if c.Password, err = open(s.Key, strconv.FormatInt(m.ID, 10), sealed); err != nil {
			return nil, "", err
		}
	}
	root, err := c.ResolveRoot(ctx, m.TAXII.URL)
	return c, root, err
}
