// Package advisories is the CSAF advisory use case: a csaf_security_advisory for one or more cases (or a customer
// notice's cases), rendered from the live records — the device versions and their status per case (the product
// tree and product_status), the assessed CVSS vector and severity of patient harm (scores and impact threat), CISA
// KEV (exploit status), the weakness and references from the intelligence store, the notice's compensating controls
// (mitigation) and the remediation plan's and fix releases' fix (vendor_fix), the reporter's credit as the
// reporter chose it in the case's disclosure coordination (acknowledgments), the Part 11 signature manifests of the
// determinations and the notice's release (a general note) — and published as revisions
// (interim or final) that keep the document they published. Every document goes through internal/publish/csaf,
// which refuses one that fails Vigil's CSAF validator.
package advisories

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/publish/csaf"
	"github.com/vigil-dev/vigil/internal/risk"
	"github.com/vigil-dev/vigil/internal/service/remediation"
)

// Store is what the use case needs of storage.
type Store interface {
	CreateAdvisory(ctx context.Context, a *vigil.SecurityAdvisory, prefix string) error
	PublishAdvisory(ctx context.Context, id int64, rev int, status string, revs []vigil.AdvisoryRevision, doc []byte) (*vigil.SecurityAdvisory, error)
	Advisory(ctx context.Context, id int64) (*vigil.SecurityAdvisory, error)
	Advisories(ctx context.Context) ([]*vigil.SecurityAdvisory, error)
	PublicAdvisories(ctx context.Context) ([]*vigil.SecurityAdvisory, error)
	Notice(ctx context.Context, id int64) (*vigil.Notice, error)
	Orgs(ctx context.Context) ([]*vigil.Organization, error)
	CVDPolicy(ctx context.Context) (*vigil.CVDPolicy, error)
	// CaseDisclosures are a case's disclosure coordination records (the newest stands), with the credit line
	// agreed; Reports the researchers' reports triaged into it, with the credit each reporter gave.
	CaseDisclosures(ctx context.Context, caseID int64) ([]*vigil.CaseDisclosure, error)
	Reports(ctx context.Context, f vigil.ReportFilter) ([]*vigil.Report, error)
}

// Cases reads the case views an advisory is rendered from, and the organization's time zone its signatures'
// manifests are shown in.
type Cases interface {
	CaseView(ctx context.Context, id int64, asOf vigil.Date) (*cases.View, error)
	Zone(ctx context.Context) *time.Location
}

// Remediations reads a case's plan and fix releases (optional).
type Remediations interface {
	Remediation(ctx context.Context, caseID int64) (*remediation.Remediation, error)
}

// Service implements vigil.AdvisoryService.
type Service struct {
	Store       Store
	Cases       Cases
	Remediation Remediations      // optional
	Intel       vigil.VulnService // optional: CWE and references
	Clock       vigil.Clock
	// Signer signs the provider's documents with the organization's OpenPGP key (optional: internal/pgpkey).
	Signer csaf.Signer
	// Signing gives the Part 11 signatures of the records an advisory rests on (the determinations, the notice's
	// release), whose manifests the document carries (optional: none shown).
	Signing vigil.SignatureService
}

var _ vigil.AdvisoryService = (*Service)(nil)

// DraftAdvisory creates a draft for the cases, or for a notice's cases.
func (s *Service) DraftAdvisory(ctx context.Context, caseIDs []int64, noticeID int64, tlp string) (*vigil.SecurityAdvisory, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	if noticeID != 0 {
		n, err := s.Store.Notice(ctx, noticeID)
		if err != nil {
			return nil, err
		}
		if len(caseIDs) == 0 {
			caseIDs = n.Cases
		}
	}
	if len(caseIDs) == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "cases: at least one case (or a notice)")
	}
	if tlp == "" {
		tlp = "WHITE"
	}
	tlp = strings.ToUpper(tlp)
	pub, err := s.Publisher(ctx)
	if err != nil {
		return nil, err
	}
	a := &vigil.SecurityAdvisory{Cases: caseIDs, NoticeID: noticeID, TLP: tlp}
	prefix := fmt.Sprintf("%s-SA-%d-", trackingPrefix(pub.Name), s.Clock.Now().Year())
	if err := s.Store.CreateAdvisory(ctx, a, prefix); err != nil {
		return nil, err
	}
	return a, nil
}

// trackingPrefix is the organization's name in capitals, letters and digits only ("Acme Medical" → "ACMEMEDICAL"),
// at most 16 of them.
func trackingPrefix(org string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(org) {
		if (r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') && b.Len() < 16 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "VIGIL"
	}
	return b.String()
}

// Publisher is the manufacturer as its CSAF documents name it: the organization, its namespace (the base URL this
// Vigil is reached at, from the published CVD policy) and its CVD contact. EINVALID until the base URL is set.
func (s *Service) Publisher(ctx context.Context) (csaf.Publisher, error) {
	orgs, err := s.Store.Orgs(ctx)
	if err != nil {
		return csaf.Publisher{}, err
	}
	if len(orgs) == 0 {
		return csaf.Publisher{}, vigil.Errorf(vigil.EINVALID, "organization: none yet (vigil init)")
	}
	p, err := s.Store.CVDPolicy(ctx)
	if err != nil {
		return csaf.Publisher{}, err
	}
	if !strings.HasPrefix(p.BaseURL, "https://") {
		return csaf.Publisher{}, vigil.Errorf(vigil.EINVALID, "base_url: the CVD policy's base URL (where Vigil is reached, https://...) is the namespace of the CSAF documents it publishes: set it first (vigil intake policy set --base-url)")
	}
	return csaf.Publisher{Name: orgs[0].Name, Namespace: p.BaseURL, ContactDetails: orgs[0].CVDContact, Signer: s.Signer}, nil
}

// Advisory returns one advisory.
func (s *Service) Advisory(ctx context.Context, id int64) (*vigil.SecurityAdvisory, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Advisory(ctx, id)
}

// Advisories lists advisories, newest first.
func (s *Service) Advisories(ctx context.Context) ([]*vigil.SecurityAdvisory, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	out, err := s.Store.Advisories(ctx)
	if out == nil && err == nil {
		out = []*vigil.SecurityAdvisory{}
	}
	return out, err
}

// ProviderDocuments lists the published advisories the caller may read.
func (s *Service) ProviderDocuments(ctx context.Context) ([]*vigil.SecurityAdvisory, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return s.Store.PublicAdvisories(ctx)
	}
	all, err := s.Store.Advisories(ctx)
	if err != nil {
		return nil, err
	}
	var out []*vigil.SecurityAdvisory
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Document != nil {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// AdvisoryDocument returns the published document, or renders a draft now.
func (s *Service) AdvisoryDocument(ctx context.Context, id int64) ([]byte, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	a, err := s.Store.Advisory(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Document != nil {
		return a.Document, nil
	}
	now := s.Clock.Now().UTC().Truncate(time.Second)
	return s.render(ctx, a, vigil.AdvisoryDraft, append(a.Revisions, vigil.AdvisoryRevision{Number: len(a.Revisions) + 1, Date: now, Summary: "Draft"}))
}

// PublishAdvisory publishes a new revision.
func (s *Service) PublishAdvisory(ctx context.Context, id int64, status, summary string) (*vigil.SecurityAdvisory, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	if status == "" {
		status = vigil.AdvisoryFinal
	}
	if err := vigil.OneOf("status", status, []string{vigil.AdvisoryInterim, vigil.AdvisoryFinal}); err != nil {
		return nil, err
	}
	if err := vigil.Text("summary", summary, vigil.MaxText); err != nil {
		return nil, err
	}
	a, err := s.Store.Advisory(ctx, id)
	if err != nil {
		return nil, err
	}
	if summary == "" {
		summary = "Initial release"
		if len(a.Revisions) > 0 {
			summary = "Update"
		}
	}
	now := s.Clock.Now().UTC().Truncate(time.Second)
	revs := append(slices.Clone(a.Revisions), vigil.AdvisoryRevision{Number: len(a.Revisions) + 1, Date: now, Summary: summary})
	doc, err := s.render(ctx, a, status, revs)
	if err != nil {
		return nil, err
	}
	return s.Store.PublishAdvisory(ctx, id, len(a.Revisions), status, revs, doc)
}

func productID(versionID int64) string { return fmt.Sprintf("CSAFPID-%04d", versionID) }

// render builds the advisory's CSAF document from the live records, with the given status and revisions.
func (s *Service) render(ctx context.Context, a *vigil.SecurityAdvisory, status string, revs []vigil.AdvisoryRevision) ([]byte, error) {
	pub, err := s.Publisher(ctx)
	if err != nil {
		return nil, err
	}
	var notice *vigil.Notice
	if a.NoticeID != 0 {
		if notice, err = s.Store.Notice(ctx, a.NoticeID); err != nil {
			return nil, err
		}
	}
	d := csaf.Document{Category: csaf.CategorySecurityAdvisory, TLP: a.TLP, Publisher: pub,
		Tracking: csaf.Tracking{ID: a.TrackingID, Status: status, Initial: revs[0].Date, Current: revs[len(revs)-1].Date}}
	for _, r := range revs {
		d.Tracking.Revisions = append(d.Tracking.Revisions, csaf.Revision{Number: r.Number, Date: r.Date, Summary: r.Summary})
	}
	seen := map[int64]bool{}
	var titles []string
	var views []*cases.View
	for _, id := range a.Cases {
		v, err := s.Cases.CaseView(ctx, id, vigil.Date{})
		if err != nil {
			return nil, err
		}
		views = append(views, v)
		titles = append(titles, v.Case.Vulnerability+" in "+v.Device.Name)
		for _, vs := range v.Versions {
			if !seen[vs.VersionID] {
				seen[vs.VersionID] = true
				d.Products = append(d.Products, csaf.Product{ID: productID(vs.VersionID), Vendor: pub.Name, Name: v.Device.Name, Version: vs.Version,
					Purl: remediation.ProductPurl(pub.Name, v.Device.Name, vs.Version)})
			}
		}
		vuln, err := s.vulnerability(ctx, v, notice)
		if err != nil {
			return nil, err
		}
		d.Vulnerabilities = append(d.Vulnerabilities, vuln)
	}
	d.Title = pub.Name + " security advisory: " + strings.Join(titles, "; ")
	summary := "Vulnerabilities in " + strings.Join(titles, "; ") + "."
	if notice != nil && notice.Elements.A != "" {
		summary = notice.Elements.A
	}
	d.Notes = []csaf.Note{{Category: "summary", Title: "Summary", Text: summary},
		{Category: "legal_disclaimer", Title: "Terms of use", Text: "This advisory is provided by " + pub.Name + " to help users assess and mitigate the risk to patients; it is provided as is."}}
	signed, err := s.signatureNote(ctx, views, notice)
	if err != nil {
		return nil, err
	}
	if signed != nil {
		d.Notes = append(d.Notes, *signed)
	}
	d.References = []csaf.Reference{{Category: "self", Summary: "This advisory", URL: strings.TrimSuffix(pub.Namespace, "/") + "/.well-known/csaf/" + tlpDir(a.TLP) + "/" +
		fmt.Sprint(revs[0].Date.Year()) + "/" + csaf.FileName(a.TrackingID)}}
	return csaf.Write(d)
}

// signatureNote is the document note (category general, which CSAF 2.0 §3.2.1.8 leaves to the issuer) that
// shows the Part 11 signatures of the records the advisory rests on, one manifest a line (21 CFR 11.50: printed
// name, date and time with its zone, meaning, the record signed and its state): each case's determination (its
// latest standing assessment) and, for a notice's advisory, the notice's release. nil when none is signed.
func (s *Service) signatureNote(ctx context.Context, views []*cases.View, notice *vigil.Notice) (*csaf.Note, error) {
	if s.Signing == nil {
		return nil, nil
	}
	zone := s.Cases.Zone(ctx)
	var lines []string
	add := func(what, kind string, id int64) error {
		sigs, err := s.Signing.Signatures(ctx, kind, id)
		for _, sg := range sigs {
			lines = append(lines, what+": "+sg.Manifest(zone))
		}
		return err
	}
	for _, v := range views {
		if n := len(v.Assessments); n > 0 {
			x := v.Assessments[n-1]
			if err := add(fmt.Sprintf("Determination of %s on %s (A%d, %s)", v.Case.Vulnerability, v.Device.Name, x.ID, x.Date), "assessment", x.ID); err != nil {
				return nil, err
			}
		}
		for _, x := range v.Acts {
			if notice != nil && x.Act == vigil.ActNoticeRelease && x.ObjectType == "notice" && x.ObjectID == notice.ID {
				if err := add(fmt.Sprintf("Release of customer notice N-%d for %s on %s", notice.ID, v.Case.Vulnerability, v.Device.Name), string(x.Act), x.ID); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	return &csaf.Note{Category: "general", Title: "Electronic signatures (21 CFR Part 11)", Text: strings.Join(lines, "\n")}, nil
}

// tlpDir is the provider directory of a TLP label (CSAF 2.0 §7.1.11: white, or the label in lower case).
func tlpDir(tlp string) string { return strings.ToLower(tlp) }

func (s *Service) vulnerability(ctx context.Context, v *cases.View, notice *vigil.Notice) (csaf.Vulnerability, error) {
	var out csaf.Vulnerability
	var ids []string
	if strings.HasPrefix(strings.ToUpper(v.Case.Vulnerability), "CVE-") {
		out.CVE = strings.ToUpper(v.Case.Vulnerability)
	} else {
		ids = append(ids, v.Case.Vulnerability)
	}
	for _, al := range v.Case.Aliases {
		if strings.HasPrefix(strings.ToUpper(al), "CVE-") && out.CVE == "" {
			out.CVE = strings.ToUpper(al)
			continue
		}
		ids = append(ids, al)
	}
	for _, id := range ids {
		out.IDs = append(out.IDs, csaf.ID{System: idSystem(id), Text: id})
	}
	out.DiscoveryDate = v.Case.Learned.Time()
	var affected, fixed, notAffected, investigating []string
	for _, vs := range v.Versions {
		pid := productID(vs.VersionID)
		switch vs.Status {
		case "affected":
			affected = append(affected, pid)
		case "fixed":
			fixed = append(fixed, pid)
		case "closed":
			notAffected = append(notAffected, pid)
		default:
			investigating = append(investigating, pid)
		}
	}
	out.Status = csaf.ProductStatus{KnownAffected: csaf.SortedIDs(affected), Fixed: csaf.SortedIDs(fixed), KnownNotAffected: csaf.SortedIDs(notAffected),
		UnderInvestigation: csaf.SortedIDs(investigating)}
	exposed := csaf.SortedIDs(append(slices.Clone(affected), investigating...))
	description := "The manufacturer is assessing this vulnerability."
	if len(v.Assessments) > 0 {
		last := v.Assessments[len(v.Assessments)-1]
		description = strings.TrimSpace(last.Rationale)
		if c, err := risk.ParseCVSS(last.CVSS); err == nil && len(exposed) > 0 && c.Version != risk.CVSS40 {
			out.Scores = []csaf.Score{{Vector: c.Vector, Products: exposed}}
		}
		if last.Severity != "" && len(exposed) > 0 {
			harm := fmt.Sprintf("Severity of patient harm: %s; risk of patient harm %s (assessed %s).", last.Severity, last.Risk, last.Date)
			if len(last.Functions) > 0 {
				harm = fmt.Sprintf("Clinical functions it can reach: %s. ", strings.Join(last.Functions, ", ")) + harm
			}
			out.Threats = append(out.Threats, csaf.Threat{Category: "impact", Details: harm, Products: exposed})
		}
	}
	if v.KEV != nil && len(exposed) > 0 {
		out.Threats = append(out.Threats, csaf.Threat{Category: "exploit_status", Details: "Listed in CISA's Known Exploited Vulnerabilities catalog since " + v.KEV.DateAdded.String() + ".", Products: exposed})
	}
	if description == "" {
		description = "See the summary."
	}
	out.Notes = []csaf.Note{{Category: "description", Title: "Vulnerability description", Text: description}}
	if s.Intel != nil {
		if iv, err := s.Intel.Vuln(ctx, v.Case.Vulnerability); err == nil {
			out.Title = vigil.Clip(200, firstLine(iv.Summary))
			for _, a := range iv.Advisories {
				for _, cwe := range a.CWEs {
					if out.CWE == "" && csaf.KnownCWE(cwe) {
						out.CWE = cwe
					}
				}
			}
			for _, r := range iv.References {
				if len(out.References) < 10 && strings.HasPrefix(r.URL, "https://") {
					out.References = append(out.References, csaf.Reference{Summary: refSummary(r), URL: r.URL})
				}
			}
		}
	}
	if len(exposed) > 0 {
		out.Remediations = s.remediations(ctx, v, notice, exposed)
	}
	credits, err := s.credits(ctx, v.Case.ID)
	out.Acknowledgments = credits
	return out, err
}

// credits are how the case's reporters asked to be credited: the credit line agreed in the case's disclosure
// coordination (intake), else each credit a reporter gave with a report triaged into the case. A reporter who gave
// none, or reported anonymously, is not named.
func (s *Service) credits(ctx context.Context, caseID int64) ([]csaf.Acknowledgment, error) {
	const summary = "reporting this vulnerability through coordinated disclosure"
	ds, err := s.Store.CaseDisclosures(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if n := len(ds); n > 0 && strings.TrimSpace(ds[n-1].Credit) != "" {
		return []csaf.Acknowledgment{{Names: []string{strings.TrimSpace(ds[n-1].Credit)}, Summary: summary}}, nil
	}
	rs, err := s.Store.Reports(ctx, vigil.ReportFilter{CaseID: caseID})
	if err != nil {
		return nil, err
	}
	var out []csaf.Acknowledgment
	var seen []string
	for _, r := range rs {
		credit := strings.TrimSpace(r.Credit)
		if credit == "" || slices.Contains(seen, credit) {
			continue
		}
		seen = append(seen, credit)
		out = append(out, csaf.Acknowledgment{Names: []string{credit}, Summary: summary})
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

func refSummary(r vigil.Reference) string {
	if r.Type != "" {
		return strings.ToLower(r.Type)
	}
	return "reference"
}

func idSystem(id string) string {
	head, _, _ := strings.Cut(id, "-")
	if head == "" || strings.IndexFunc(head, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
		return "Vigil case"
	}
	return head
}

// remediations: the fix (a distributed fix release, else the plan's planned release), the compensating controls
// (the plan's, else the notice's element c).
func (s *Service) remediations(ctx context.Context, v *cases.View, notice *vigil.Notice, products []string) []csaf.Remediation {
	var out []csaf.Remediation
	var rem *remediation.Remediation
	if s.Remediation != nil {
		rem, _ = s.Remediation.Remediation(ctx, v.Case.ID)
	}
	if rem != nil {
		for _, f := range rem.Fixes {
			if f.InField() {
				out = append(out, csaf.Remediation{Category: csaf.RemedyVendorFix, Details: "Update to " + f.Release + strings.TrimSuffix(". "+f.Description, ". ") + ".",
					Date: f.Distribution.Date.Time(), Products: products})
				break
			}
		}
		if len(out) == 0 && rem.Plan != nil && rem.Plan.FixRelease != "" {
			out = append(out, csaf.Remediation{Category: csaf.RemedyVendorFix, Details: fmt.Sprintf("A fix is planned in release %s (target %s); users will be told when it is available.", rem.Plan.FixRelease, rem.Plan.TargetDate), Products: products})
		}
		if rem.Plan != nil {
			for _, c := range rem.Plan.Controls {
				d := c.What
				if c.Documented != "" {
					d += " (see " + c.Documented + ")"
				}
				out = append(out, csaf.Remediation{Category: csaf.RemedyMitigation, Details: d, Products: products})
			}
		}
	}
	if notice != nil {
		if !slices.ContainsFunc(out, func(r csaf.Remediation) bool { return r.Category == csaf.RemedyMitigation }) && strings.TrimSpace(notice.Elements.C) != "" {
			out = append(out, csaf.Remediation{Category: csaf.RemedyMitigation, Details: notice.Elements.C, Products: products})
		}
		if !slices.ContainsFunc(out, func(r csaf.Remediation) bool { return r.Category == csaf.RemedyVendorFix }) && strings.TrimSpace(notice.Elements.D) != "" {
			out = append(out, csaf.Remediation{Category: csaf.RemedyVendorFix, Details: notice.Elements.D, Products: products})
		}
	}
	if len(out) == 0 {
		out = append(out, csaf.Remediation{Category: csaf.RemedyNoneAvailable, Details: "No remediation is available yet; the manufacturer will tell users when one is.", Products: products})
	}
	return out
}

// Provider lays out the CSAF provider the caller may read: TLP:WHITE documents for anyone, every published one
// for a signed-in user; feeds for WHITE and every label published.
func (s *Service) Provider(ctx context.Context) (*csaf.Provider, error) {
	pub, err := s.Publisher(ctx)
	if err != nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "the CSAF provider is not published: %s", vigil.ErrorMessage(err))
	}
	as, err := s.ProviderDocuments(ctx)
	if err != nil {
		return nil, err
	}
	labels := []string{"WHITE"}
	var docs []csaf.ProviderDoc
	updated := time.Unix(0, 0)
	for _, a := range as {
		if !slices.Contains(labels, a.TLP) {
			labels = append(labels, a.TLP)
		}
		first, last := a.Revisions[0], a.Revisions[len(a.Revisions)-1]
		var title struct {
			Document struct {
				Title string `json:"title"`
			} `json:"document"`
		}
		if err := json.Unmarshal(a.Document, &title); err != nil {
			return nil, fmt.Errorf("advisory %s: %w", a.TrackingID, err)
		}
		docs = append(docs, csaf.ProviderDoc{TrackingID: a.TrackingID, Title: title.Document.Title, TLP: a.TLP, Initial: first.Date, Current: last.Date, JSON: a.Document})
		if last.Date.After(updated) {
			updated = last.Date
		}
	}
	return csaf.BuildProvider(pub.Namespace, pub, docs, labels, updated)
}
