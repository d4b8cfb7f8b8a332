package isao

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/feed/stix"
	"github.com/vigil-dev/vigil/internal/feed/taxii"
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

// ShareResult is a share made: the sharing log entry, and the bundle as shared.
type ShareResult struct {
	Share  *vigil.ISAOShare `json:"share"`
	Bundle json.RawMessage  `json:"bundle"`
}

// statusAttempts is how many times a pending TAXII status is polled before the share is logged as pending.
const statusAttempts = 4

// Share gives a case to an ISAO as a STIX 2.1 bundle: over the membership's TAXII collection (the status the
// server returns, polled until complete), or exported. Either way it appends the sharing log entry and records
// the case's isao_shared event through the case service, so criterion 4 follows without a hand-typed event. A
// bundle that breaks STIX's rules, a TAXII server that refuses an object, or a membership that does not cover the
// case's device is an error, and nothing is recorded. Needs PermEvent.
func (s *Service) Share(ctx context.Context, in ShareInput) (*ShareResult, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	b, m, v, err := s.bundle(ctx, in.CaseID, in.ISAO)
	if err != nil {
		return nil, err
	}
	raw, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	if errs := stix.Check(raw, stix.Known); len(errs) > 0 {
		return nil, vigil.Errorf(vigil.EINTERNAL, "the STIX bundle of case %d breaks STIX's rules: %v", in.CaseID, errs[0])
	}
	sum := sha256.Sum256(raw)
	today := s.Today(ctx)
	sh := &vigil.ISAOShare{MembershipID: m.ID, ISAO: m.Name, CaseID: v.Case.ID, Vulnerability: v.Case.Vulnerability, Device: v.Device.Name,
		BundleID: b.ID, SHA256: hex.EncodeToString(sum[:]), Objects: len(b.Objects), TLP: m.TLP, Date: today}
	if in.Export {
		sh.Method, sh.Status = vigil.ShareExported, vigil.ShareExported
	} else {
		st, err := s.send(ctx, m, b)
		if err != nil {
			return nil, err
		}
		sh.Method, sh.StatusID, sh.Status = vigil.ShareTAXII, st.ID, st.Status
	}
	how := fmt.Sprintf("over TAXII (status %s: %s)", sh.StatusID, sh.Status)
	if in.Export {
		how = "exported for upload by hand"
	}
	e := &vigil.CaseEvent{CaseID: v.Case.ID, Type: regulatory.EventISAOShared, Date: today,
		Note: vigil.Clip(vigil.MaxText, fmt.Sprintf("Shared with %s %s: STIX bundle %s, %d objects, TLP:%s, SHA-256 %s", m.Name, how, sh.BundleID, sh.Objects,
			strings.ToUpper(sh.TLP), sh.SHA256))}
	if err := s.Cases.RecordEvent(ctx, e); err != nil {
		return nil, vigil.Errorf(vigil.ErrorCode(err), "the bundle was %s, but the isao_shared event was refused: %s", strings.TrimPrefix(how, "over TAXII "), vigil.ErrorMessage(err))
	}
	sh.EventID = e.ID
	if err := s.Store.AddISAOShare(ctx, sh); err != nil {
		return nil, err
	}
	return &ShareResult{Share: sh, Bundle: raw}, nil
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
	return s.Store.ISAOShares(ctx, mid, caseID, vigil.Date{}, vigil.Date{})
}

// bundle builds the share of a case with a membership that covers its device.
func (s *Service) bundle(ctx context.Context, caseID int64, name string) (*stix.OutBundle, *vigil.ISAOMembership, *cases.View, error) {
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return nil, nil, nil, err
	}
	ms, err := s.Memberships(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	covering := vigil.ISAOsFor(ms, v.Device.ID)
	var m *vigil.ISAOMembership
	for i := range covering {
		if c := &covering[i]; (name == "" || strings.EqualFold(c.Name, name)) && c.Active(v.AsOf) {
			m = c
			break
		}
	}
	if m == nil {
		var names []string
		for _, c := range covering {
			names = append(names, c.Name)
		}
		if name == "" {
			name = "an ISAO"
		}
		return nil, nil, nil, vigil.Errorf(vigil.EINVALID, "isao: no active membership of %s covers %s (the memberships covering it: %s)", name, v.Device.Name,
			strings.Join(append(names, "none")[:max(len(names), 1)], ", "))
	}
	orgs, err := s.Store.Orgs(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(orgs) == 0 {
		return nil, nil, nil, vigil.Errorf(vigil.EINVALID, "no organization yet: run `vigil init` first")
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
			return nil, nil, nil, err
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
			return nil, nil, nil, err
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
	b, err := stix.CaseBundle(in)
	if err != nil {
		return nil, nil, nil, vigil.Errorf(vigil.EINVALID, "case %d: %v", v.Case.ID, err)
	}
	return b, m, v, nil
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
	if st, err = c.WaitStatus(ctx, root, st, statusAttempts, time.After); err != nil {
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
		c.HTTP = &http.Client{Timeout: time.Minute}
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
