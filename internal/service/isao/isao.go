// Package isao is the ISAO participation use case (G2016 §IX, enforcement discretion's criterion 4): the
// organization's memberships (and a device line's own) with the documents that evidence each §IX item; sharing a
// case with an ISAO as a STIX 2.1 bundle, over TAXII 2.1 or exported for upload by hand, each share logged and
// recorded on the case as its isao_shared event through the case service; intelligence from the ISAO (TAXII
// collections polled, STIX files) kept as signals linked to the cases they touch and cited by assessments; and the
// evidence view per membership and period. Reads need PermRead; memberships and documents PermPortfolio; a share
// PermEvent (it records an event); intelligence in PermImport; a citation PermAssess.
package isao

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
)

// Store is what the use case needs of storage.
type Store interface {
	ISAOMemberships(ctx context.Context) ([]vigil.ISAOMembership, error)
	SaveISAOMembership(ctx context.Context, m *vigil.ISAOMembership, secret *string, reason string) error
	AddISAODocument(ctx context.Context, d *vigil.ISAODocument, reason string) error
	ISAODocument(ctx context.Context, id int64) (*vigil.ISAODocument, error)
	ISAOSecret(ctx context.Context, membershipID int64) (string, error)
	AddISAOShare(ctx context.Context, s *vigil.ISAOShare) error
	ISAOShare(ctx context.Context, id int64) (*vigil.ISAOShare, error)
	ISAOShares(ctx context.Context, f vigil.ISAOShareFilter) ([]*vigil.ISAOShare, error)
	SetISAOShareStatus(ctx context.Context, id int64, status, text string) error
	SaveISAOSignals(ctx context.Context, sigs []*vigil.ISAOSignal) (int, error)
	ISAOSignals(ctx context.Context, f vigil.ISAOSignalFilter) ([]*vigil.ISAOSignal, error)
	CiteISAOSignals(ctx context.Context, assessmentID int64, signalIDs []int64, reason string) error
	DeviceByName(ctx context.Context, name string) (*vigil.Device, error)
	Orgs(ctx context.Context) ([]*vigil.Organization, error)
}

// Service is the ISAO participation use case.
type Service struct {
	Store Store
	Cases *cases.Service    // case views, today's date, and the isao_shared event a share records
	Intel vigil.VulnService // optional: the vulnerability's summary and CWEs in a share
	// Remediations, when set, gives a share the case's remediation plan and validated, distributed fixes.
	Remediations Remediations
	// Key seals and opens the ISAOs' TAXII passwords (LoadKey); without it no password is stored or used.
	Key []byte
	// Notices, when set, gives a notice share its notice and text (internal/service/notices).
	Notices Notices
	// HTTP is the client TAXII requests go through (when nil, one that dials public addresses only, as feeds do).
	HTTP *http.Client
	// Wait waits between polls of a pending TAXII status (time.After when nil).
	Wait  func(time.Duration) <-chan time.Time
	Clock vigil.Clock
}

// Today is the current date in the organization's time zone.
func (s *Service) Today(ctx context.Context) vigil.Date { return s.Cases.Today(ctx) }

// LapseWarning is how long before a membership lapses, or a document expires, the dashboard warns (policy).
const LapseWarning = 60

// Memberships lists every membership with its documents. Needs PermRead.
func (s *Service) Memberships(ctx context.Context) ([]vigil.ISAOMembership, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.ISAOMemberships(ctx)
}

// Membership finds a membership by ISAO name (case-insensitive) and, when device is not empty, the device line it
// belongs to (its name or id); without device, the organization's membership of that name, else the only one of
// that name. ENOTFOUND names what exists. Needs PermRead.
func (s *Service) Membership(ctx context.Context, name, device string) (*vigil.ISAOMembership, error) {
	ms, err := s.Memberships(ctx)
	if err != nil {
		return nil, err
	}
	var devID int64
	if device != "" {
		if devID, err = s.deviceID(ctx, device); err != nil {
			return nil, err
		}
	}
	var match []vigil.ISAOMembership
	for _, m := range ms {
		if strings.EqualFold(m.Name, name) && (device == "" || m.DeviceID == devID) {
			match = append(match, m)
		}
	}
	if device == "" && len(match) > 1 {
		match = slices.DeleteFunc(match, func(m vigil.ISAOMembership) bool { return m.DeviceID != 0 })
	}
	if len(match) == 1 {
		return &match[0], nil
	}
	var names []string
	for _, m := range ms {
		names = append(names, label(&m))
	}
	if len(match) > 1 {
		return nil, vigil.Errorf(vigil.EINVALID, "ISAO %q: several device lines have a membership of that name (%s): give the device", name, strings.Join(names, ", "))
	}
	if len(names) == 0 {
		names = []string{"none yet: vigil isao set NAME"}
	}
	return nil, vigil.Errorf(vigil.ENOTFOUND, "ISAO membership %q not found (memberships: %s)", name, strings.Join(names, ", "))
}

// MembershipByID finds a membership by its id. Needs PermRead.
func (s *Service) MembershipByID(ctx context.Context, id int64) (*vigil.ISAOMembership, error) {
	ms, err := s.Memberships(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if ms[i].ID == id {
			return &ms[i], nil
		}
	}
	return nil, vigil.Errorf(vigil.ENOTFOUND, "ISAO membership %d not found", id)
}

func label(m *vigil.ISAOMembership) string {
	if m.Device != "" {
		return m.Name + " (" + m.Device + ")"
	}
	return m.Name
}

func (s *Service) deviceID(ctx context.Context, device string) (int64, error) {
	if n, err := strconv.ParseInt(device, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	d, err := s.Store.DeviceByName(ctx, device)
	if err != nil {
		return 0, err
	}
	return d.ID, nil
}

// SetInput changes a membership: the fields given (nil leaves one as it is). Password, when not nil, is sealed with
// the secret key and replaces the stored one ("" removes it).
type SetInput struct {
	Name       string
	Device     string // the device line whose own membership this is ("" for the organization's)
	Since      *vigil.Date
	Until      *vigil.Date
	Contact    *string
	TLP        *string
	TAXIIURL   *string
	Collection *string
	User       *string
	Password   *string
	Reason     string
}

// Set creates the membership when it does not exist, else changes the fields given. Needs PermPortfolio.
func (s *Service) Set(ctx context.Context, in SetInput) (*vigil.ISAOMembership, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return nil, err
	}
	m, err := s.Membership(ctx, in.Name, in.Device)
	switch {
	case vigil.ErrorCode(err) == vigil.ENOTFOUND:
		m = &vigil.ISAOMembership{Name: strings.TrimSpace(in.Name)}
		if in.Device != "" {
			if m.DeviceID, err = s.deviceID(ctx, in.Device); err != nil {
				return nil, err
			}
		}
	case err != nil:
		return nil, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	if in.Since != nil {
		m.Since = *in.Since
	}
	if in.Until != nil {
		m.Until = *in.Until
	}
	set(&m.Contact, in.Contact)
	set(&m.TLP, in.TLP)
	set(&m.TAXII.URL, in.TAXIIURL)
	set(&m.TAXII.Collection, in.Collection)
	set(&m.TAXII.User, in.User)
	if in.Password != nil && *in.Password != "" && len(s.Key) != 32 {
		return nil, errNoKey
	}
	if err := s.Store.SaveISAOMembership(ctx, m, nil, in.Reason); err != nil {
		return nil, err
	}
	if in.Password != nil {
		sealed := ""
		if *in.Password != "" {
			if sealed, err = seal(s.Key, strconv.FormatInt(m.ID, 10), *in.Password); err != nil {
				return nil, err
			}
		}
		if err := s.Store.SaveISAOMembership(ctx, m, &sealed, "TAXII password replaced"); err != nil {
			return nil, err
		}
	}
	return s.Membership(ctx, m.Name, deviceArg(m))
}

func deviceArg(m *vigil.ISAOMembership) string {
	if m.DeviceID == 0 {
		return ""
	}
	return strconv.FormatInt(m.DeviceID, 10)
}

// AddDocument attaches a document to a membership as evidence of a §IX item. A document needs its date (a note of
// words may go without). Needs PermPortfolio.
func (s *Service) AddDocument(ctx context.Context, name, device string, d *vigil.ISAODocument, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	m, err := s.Membership(ctx, name, device)
	if err != nil {
		return err
	}
	if d.Date.IsZero() && d.Kind != vigil.DocNote {
		return vigil.Errorf(vigil.EINVALID, "date: required: the document's own date (signed, issued, in force from)")
	}
	d.MembershipID = m.ID
	return s.Store.AddISAODocument(ctx, d, reason)
}

// Document returns one document with its content. Needs PermRead.
func (s *Service) Document(ctx context.Context, id int64) (*vigil.ISAODocument, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.ISAODocument(ctx, id)
}

// Alert is a membership problem that will cost enforcement discretion's criterion 4 if nothing is done: lapsed or
// lapsing, a §IX item without evidence, a document expiring.
type Alert struct {
	Membership string     `json:"membership"`
	Device     string     `json:"device,omitempty"`
	Severity   string     `json:"severity"` // failing (criterion 4 fails now) or warning (it will)
	Due        vigil.Date `json:"due,omitzero"`
	What       string     `json:"what"`
}

// Alerts lists the problems of every membership as of today: none at all (when the organization has devices but no
// membership), lapsed, lapsing within LapseWarning days, §IX items without a document that counts, documents
// expiring within LapseWarning days; and shares of the last LapseWarning days the TAXII server refused or still
// holds pending after the day they were made. Failing first. Needs PermRead.
func (s *Service) Alerts(ctx context.Context) ([]Alert, error) {
	ms, err := s.Memberships(ctx)
	if err != nil {
		return nil, err
	}
	today := s.Cases.Today(ctx)
	soon := today.AddDays(LapseWarning)
	var out []Alert
	if len(ms) == 0 {
		out = append(out, Alert{Severity: "failing", What: "no ISAO membership: enforcement discretion's criterion 4 fails on every uncontrolled case (G2016 §IX)"})
	}
	for i := range ms {
		m := &ms[i]
		add := func(sev string, due vigil.Date, what string) {
			out = append(out, Alert{Membership: m.Name, Device: m.Device, Severity: sev, Due: due, What: what})
		}
		switch {
		case !m.Active(today) && !m.Until.IsZero() && m.Until.Before(today):
			add("failing", m.Until, "the membership lapsed on "+m.Until.String()+": renew it and record the new end date")
			continue
		case !m.Active(today):
			add("failing", m.Since, "the membership starts on "+m.Since.String())
			continue
		case !m.Until.IsZero() && m.Until.Before(soon):
			add("warning", m.Until, "the membership lapses after "+m.Until.String()+" ("+strconv.Itoa(m.Until.Sub(today))+" days): renew it")
		}
		for _, item := range m.Missing(today) {
			add("failing", vigil.Date{}, "§IX item "+strconv.Itoa(item)+" has no evidence document in force ("+vigil.ISAOItems[item-1]+")")
		}
		for _, d := range m.Documents {
			if !d.Expires.IsZero() && d.Counts(today) && d.Expires.Before(soon) && !covered(m, d, soon) {
				add("warning", d.Expires, "§IX item "+strconv.Itoa(d.Item)+": "+d.Title+" expires on "+d.Expires.String()+" and nothing replaces it")
			}
		}
	}
	// A share the ISAO refused, or has not taken in after a day, is not yet the sharing §IX item 3 asks for.
	shares, err := s.Store.ISAOShares(ctx, vigil.ISAOShareFilter{From: today.AddDays(-LapseWarning)})
	if err != nil {
		return nil, err
	}
	for _, sh := range shares {
		switch {
		case sh.Status == vigil.ShareFailed:
			out = append(out, Alert{Membership: sh.ISAO, Severity: "warning", Due: sh.Date, What: fmt.Sprintf("share %d of case %d (%s): the TAXII server refused it (%s): share it again",
				sh.ID, sh.CaseID, sh.Vulnerability, sh.StatusText)})
		case sh.Status == vigil.SharePending && sh.Date.Before(today):
			out = append(out, Alert{Membership: sh.ISAO, Severity: "warning", Due: sh.Date, What: fmt.Sprintf("share %d of case %d (%s) is still pending at the TAXII server (status %s, asked %s)",
				sh.ID, sh.CaseID, sh.Vulnerability, sh.StatusID, sh.CheckedAt.UTC().Format("2006-01-02 15:04 UTC"))})
		}
	}
	slices.SortStableFunc(out, func(a, b Alert) int {
		if a.Severity != b.Severity {
			return strings.Compare(a.Severity, b.Severity) // failing before warning
		}
		return a.Due.Time().Compare(b.Due.Time())
	})
	return out, nil
}

// covered reports whether another document of d's item still counts on day.
func covered(m *vigil.ISAOMembership, d vigil.ISAODocument, day vigil.Date) bool {
	for _, o := range m.Documents {
		if o.ID != d.ID && o.Item == d.Item && o.Counts(day) {
			return true
		}
	}
	return false
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock.Now()
}
