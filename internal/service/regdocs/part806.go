package regdocs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/report"
)

// Part806Data is the typed content of the 806.10 report draft (and of an 806.10(d) amendment), in the order of
// 806.10(c).
type Part806Data struct {
	// ReportNumber is the filed report's number, or (Provisional) the number the report would take if filed today.
	ReportNumber string         `json:"report_number"`
	Provisional  bool           `json:"provisional"`
	Filed        *FiledReport   `json:"filed,omitempty"`
	Amendments   []*FiledReport `json:"amendments"`
	Status       string         `json:"part806_status"`
	Due          vigil.Date     `json:"due,omitzero"`

	Manufacturer      string `json:"manufacturer"`
	Address           string `json:"address"`
	RegistrationNo    string `json:"registration_number"`
	ResponsiblePerson string `json:"responsible_person"`

	Device        string `json:"device"`
	CommonName    string `json:"common_name"`
	Model         string `json:"model"`
	IntendedUse   string `json:"intended_use"`
	Class         string `json:"class"`
	Pathway       string `json:"pathway"`
	Submission    string `json:"submission_number"`
	ListingNumber string `json:"listing_number"`
	UDIDI         string `json:"udi_di"`
	ExpectedLife  string `json:"expected_life"`

	Vulnerability    string      `json:"vulnerability"`
	Aliases          []string    `json:"aliases"`
	Learned          vigil.Date  `json:"learned"`
	LearnedHow       string      `json:"learned_how"`
	Event            string      `json:"event"`
	CorrectiveAction []EventLine `json:"corrective_action"`
	FixReleases      []string    `json:"fix_releases"`
	Plan             string      `json:"plan"`
	FixedIn          []string    `json:"fixed_in"`
	Injuries         []EventLine `json:"injuries"`
	MDRs             []EventLine `json:"mdrs"`

	Versions       []VersionLine   `json:"versions"`
	Lots           []LotLine       `json:"lots"`
	UnitsAffected  int             `json:"units_affected"`
	Consignees     []ConsigneeLine `json:"consignees"`
	Communications []EventLine     `json:"communications"`
	Notices        []*vigil.Notice `json:"notices"` // the customer notices as sent: their copies
	NotYetKnown    []Pending       `json:"not_yet_known"`

	// NewLots are, in an amendment, the lots (version/lot) not in the report as filed: the extension it reports.
	NewLots []LotLine `json:"new_lots,omitempty"`
}

// FiledReport is a report or amendment marked filed.
type FiledReport struct {
	ID     int64      `json:"id"`
	Number string     `json:"report_number"`
	Date   vigil.Date `json:"date"`
	By     string     `json:"filed_by"`
	Lots   []string   `json:"lots"` // the version/lot keys it covered
	// Signatures are the Part 11 signatures of the filing (their manifestation).
	Signatures []string `json:"signatures,omitempty"`
}

// VersionLine is one affected version: dates of manufacture and distribution as Vigil knows them.
type VersionLine struct {
	Version  string     `json:"version"`
	Status   string     `json:"status"` // the case's status of the version: affected, fixed, ...
	Released vigil.Date `json:"released,omitzero"`
	Units    int        `json:"units_fielded"`
	FixedIn  string     `json:"fixed_in,omitempty"`
}

// LotLine is one lot (or serial range) of an affected version with the units and consignees holding it.
type LotLine struct {
	Version    string `json:"version"`
	Lot        string `json:"lot"`
	Units      int    `json:"units"`
	Consignees int    `json:"consignees"`
	// Shipped is the first day units of the lot were shipped to a consignee (zero: no shipment date recorded).
	Shipped vigil.Date `json:"first_shipped,omitzero"`
}

// noLot stands for the units of a consignee recorded without lot or serial numbers.
const noLot = "(no lot recorded)"

func (l LotLine) key() string { return l.Version + "/" + l.Lot }

// ConsigneeLine is one consignee holding an affected version.
type ConsigneeLine struct {
	Name     string     `json:"name"`
	Address  string     `json:"address"`
	Contact  string     `json:"contact"`
	Version  string     `json:"version"`
	Units    int        `json:"units"`
	Lots     []string   `json:"lots"`
	Shipped  vigil.Date `json:"shipped,omitzero"` // the day the units were shipped to it (zero: not recorded)
	Recorded vigil.Date `json:"recorded"`         // when the installed base was recorded in Vigil
}

// Pending is something not yet known and when it will be sent (806.10(c)(12)).
type Pending struct {
	What string `json:"what"`
	When string `json:"when"`
}

// filedBody is the body of a RegPart806Report or RegPart806Amendment record.
type filedBody struct {
	Lots []string `json:"lots"`
}

func (b *build) part806Data(ctx context.Context, cd *caseData) (*Part806Data, error) {
	v, d, dev, set := cd.v, cd.d, cd.v.Device, cd.set
	out := &Part806Data{Status: d.Part806.Status, Due: d.Part806.Due, Amendments: []*FiledReport{},
		Manufacturer: b.org.Name, Address: set.Address, RegistrationNo: b.org.RegistrationNumber, ResponsiblePerson: set.ResponsiblePerson.String(),
		Device: dev.Name, CommonName: set.CommonName, Model: dev.Model, IntendedUse: dev.IntendedUse, Class: dev.Class, Pathway: string(dev.Pathway),
		Submission: dev.SubmissionNumber, ListingNumber: set.ListingNumber, UDIDI: dev.UDIDI, ExpectedLife: set.ExpectedLife,
		Vulnerability: v.Case.Vulnerability, Aliases: v.Case.Aliases, Learned: v.Case.Learned, LearnedHow: cd.learned, FixedIn: cd.fixedIn()}
	rs, bodies, err := records[filedBody](ctx, b.s.Store, "", v.Case.ID, 0)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	sigs, err := b.manifests(ctx, ids...)
	if err != nil {
		return nil, err
	}
	for i, r := range rs {
		fr := &FiledReport{ID: r.ID, Number: r.ReportNumber, Date: r.Date, By: r.Actor, Lots: bodies[i].Lots, Signatures: sigs[r.ID]}
		switch r.Kind {
		case vigil.RegPart806Report:
			out.Filed = fr
		case vigil.RegPart806Amendment:
			out.Amendments = append(out.Amendments, fr)
		}
	}
	if out.Filed != nil {
		out.ReportNumber = out.Filed.Number
	} else {
		out.Provisional = true
		next, err := b.nextSeq(ctx)
		if err != nil {
			return nil, err
		}
		out.ReportNumber = vigil.Part806Number(orNone(b.org.RegistrationNumber, "REGNO"), b.today(), next)
	}
	a := cd.latest()
	out.Event = fmt.Sprintf("Cybersecurity vulnerability %s in %s", v.Case.Vulnerability, dev.Name)
	var comps []string
	for _, x := range v.Versions {
		if c := strings.TrimSpace(x.Component.Name + " " + x.Component.Version); c != "" && !slices.Contains(comps, c) {
			comps = append(comps, c)
		}
	}
	if len(comps) > 0 {
		out.Event += " (component " + strings.Join(comps, ", ") + ")"
	}
	out.Event += fmt.Sprintf(", learned %s. Assessed as an uncontrolled risk of patient harm: the correction is reportable under 21 CFR 806.10. ", v.Case.Learned) + cd.riskSummary()
	if a.Severity == "" {
		out.Event += " Severity of patient harm was not assessed."
	}
	out.CorrectiveAction = cd.events(regulatory.EventCorrectionInitiated, regulatory.EventInterimControls, regulatory.EventRemediationPlan, regulatory.EventFixDistributed)
	out.FixReleases, out.Plan = cd.releases()
	out.Injuries = cd.events(regulatory.EventSeriousAdverseEvent)
	out.MDRs = cd.events(regulatory.EventMDRFiled)
	out.Communications = cd.events(regulatory.EventCustomerNotified, regulatory.EventISAOShared)
	out.Notices = []*vigil.Notice{}
	if b.s.Notices != nil {
		ns, err := b.s.Notices.Notices(ctx, v.Case.ID)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			if n.State == vigil.NoticeSent {
				out.Notices = append(out.Notices, n)
			}
		}
	}
	for _, x := range v.Versions {
		vl := VersionLine{Version: x.Version, Status: x.Status, FixedIn: x.FixedIn}
		if ver := cd.versions[x.VersionID]; ver != nil {
			vl.Units = ver.UnitsFielded
			if ver.ReleaseDate != nil {
				vl.Released = *ver.ReleaseDate
			}
		}
		out.UnitsAffected += vl.Units
		out.Versions = append(out.Versions, vl)
	}
	lots := map[string]*LotLine{}
	for _, cu := range cd.units {
		ver := cd.version(cu.u.VersionID)
		cl := ConsigneeLine{Name: cu.c.Name, Address: cu.c.Address, Contact: cu.c.Contact, Version: ver,
			Units: cu.u.Units, Lots: cu.u.Lots, Recorded: vigil.DateOf(cu.c.CreatedAt, b.loc)}
		if cu.u.Shipped != nil {
			cl.Shipped = *cu.u.Shipped
		}
		out.Consignees = append(out.Consignees, cl)
		ls := cu.u.Lots
		if len(ls) == 0 {
			ls = []string{noLot}
		}
		for i, lot := range ls {
			l := lots[ver+"/"+lot]
			if l == nil {
				l = &LotLine{Version: ver, Lot: lot}
				lots[l.key()] = l
			}
			l.Consignees++
			if !cl.Shipped.IsZero() && (l.Shipped.IsZero() || cl.Shipped.Before(l.Shipped)) {
				l.Shipped = cl.Shipped
			}
			if i == 0 { // a consignee's units are counted once, under its first lot
				l.Units += cu.u.Units
			}
		}
	}
	for _, l := range lots {
		out.Lots = append(out.Lots, *l)
	}
	sort.Slice(out.Lots, func(i, j int) bool { return out.Lots[i].key() < out.Lots[j].key() })
	if out.Filed != nil {
		covered := out.Filed.Lots
		for _, am := range out.Amendments {
			covered = am.Lots
		}
		for _, l := range out.Lots {
			if !slices.Contains(covered, l.key()) {
				out.NewLots = append(out.NewLots, l)
			}
		}
	}
	out.NotYetKnown = b.pending(cd, out)
	return out, nil
}

// pending lists what the report cannot state yet and when it will be sent (806.10(c)(12)).
func (b *build) pending(cd *caseData, out *Part806Data) []Pending {
	var p []Pending
	followUp := "in a follow-up to this report within 10 working days of it becoming known"
	if fix := cd.validatedFix(); fix == nil {
		when := followUp
		if due := cd.d.Deadlines.EDFix; !due.IsZero() {
			when = fmt.Sprintf("when validated and distributed (planned by %s, D0 + 60 days); %s", due, followUp)
		}
		p = append(p, Pending{"The validated fix or compensating control and its distribution to the field", when})
	}
	var unshipped []string
	for _, c := range out.Consignees {
		if c.Shipped.IsZero() {
			unshipped = append(unshipped, c.Name+" ("+c.Version+")")
		}
	}
	if len(out.Consignees) == 0 {
		p = append(p, Pending{"The consignees of the affected versions (none recorded in Vigil)", followUp})
	} else if len(unshipped) > 0 {
		p = append(p, Pending{"The shipment date of the affected units at " + strings.Join(unshipped, ", ") + " (not recorded: vigil consignee update ID --units DEVICE@VERSION=N:LOTS@YYYY-MM-DD, or the consignee's page)", followUp})
	}
	for _, l := range out.Lots {
		if l.Lot == noLot {
			p = append(p, Pending{"Lot or serial numbers of version " + l.Version, followUp})
			break
		}
	}
	missing := []string{}
	for _, f := range []struct{ name, v string }{{"establishment registration number", b.org.RegistrationNumber}, {"manufacturer address", out.Address},
		{"responsible person", out.ResponsiblePerson}, {"listing number", out.ListingNumber}, {"expected life", out.ExpectedLife}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		p = append(p, Pending{"Not set in Vigil's settings: " + strings.Join(missing, ", "), "before filing (vigil report settings)"})
	}
	return p
}

// nextSeq is the sequence number the next 806 report of this year would take.
func (b *build) nextSeq(ctx context.Context) (int, error) {
	rs, err := b.s.Store.RegRecords(ctx, vigil.RegRecordFilter{Kind: vigil.RegPart806Report})
	if err != nil {
		return 0, err
	}
	n, year := 0, b.today().Time().Year()
	for _, r := range rs {
		if r.ReportYear == year {
			n = max(n, r.ReportSeq)
		}
	}
	return n + 1, nil
}

func (b *build) part806(ctx context.Context, doc *report.Document, caseID int64, amendment bool) error {
	cd, err := b.caseData(ctx, caseID)
	if err != nil {
		return err
	}
	if !reportable(cd.d.Part806.Status) {
		return vigil.Errorf(vigil.ECONFLICT, "%s: the correction is not reported under 806.10 (Part 806 status %s): its document is the 806.20 record (vigil report 806.20 --case %d)",
			cd.v.Case, cd.d.Part806.Status, cd.v.Case.ID)
	}
	data, err := b.part806Data(ctx, cd)
	if err != nil {
		return err
	}
	doc.Data = data
	if amendment {
		if data.Filed == nil {
			return vigil.Errorf(vigil.ECONFLICT, "%s: no 806 report was filed yet, so there is nothing to amend: file the report first", cd.v.Case)
		}
		doc.Title = "21 CFR 806.10(d) amendment of report " + data.ReportNumber
		doc.Subtitle = fmt.Sprintf("Draft amendment extending the correction of %s on %s to more lots; it cites the original report number, repeats the 806.10(c)(2) information and gives what differs from the report as filed.", cd.v.Case.Vulnerability, cd.v.Device.Name)
	} else {
		doc.Title = "21 CFR 806.10 report of correction: " + data.ReportNumber
		doc.Subtitle = fmt.Sprintf("Draft report of a correction to reduce a risk to health: %s on %s (case %d).", cd.v.Case.Vulnerability, cd.v.Device.Name, cd.v.Case.ID)
	}
	num := data.ReportNumber
	if data.Provisional {
		num += " (provisional: the sequence number is assigned when the report is marked filed; the date is the day it is made)"
	}
	status := data.Status
	switch {
	case data.Status == regulatory.Part806Conditional:
		status += ": due only if enforcement discretion is lost"
	case data.Filed != nil:
		status += fmt.Sprintf(" on %s by %s", data.Filed.Date, data.Filed.By)
	}
	if !data.Due.IsZero() {
		status += fmt.Sprintf("; due %s (10 working days after the correction was initiated)", data.Due)
	}
	if data.Status == regulatory.Part806Overdue {
		status = "OVERDUE — " + status
	}
	doc.Header = []report.Field{{Name: "Report number (806.10(c)(1))", Value: num}, {Name: "Part 806 status", Value: status}, {Name: "Case", Value: fmt.Sprint(cd.v.Case.ID)}}
	if data.Filed != nil && len(data.Filed.Signatures) > 0 {
		doc.Header = append(doc.Header, report.Field{Name: "Filing signed (21 CFR Part 11)", Value: strings.Join(data.Filed.Signatures, "; ")})
	}
	if amendment {
		doc.Header = append(doc.Header, report.Field{Name: "Amends", Value: fmt.Sprintf("report %s filed %s", data.Filed.Number, data.Filed.Date)})
		s := doc.Add("Extension of the correction (806.10(d))")
		var rows [][]string
		for _, l := range data.NewLots {
			rows = append(rows, []string{l.Version, l.Lot, fmt.Sprint(l.Units), fmt.Sprint(l.Consignees)})
		}
		s.Table([]string{"Version", "Lot / serial", "Units", "Consignees"}, rows,
			"No lot is affected beyond those the report (and its amendments) covered: no amendment is needed now.")
		if len(rows) > 0 {
			s.Text("Due within 10 working days of initiating the extension of the correction to these lots (806.10(d)).")
		}
	}
	b.part806Sections(doc, data)
	return nil
}

func (b *build) part806Sections(doc *report.Document, data *Part806Data) {
	doc.Add("Manufacturer and responsible person (806.10(c)(2))").Fields(
		"Manufacturer", data.Manufacturer, "Address", orNone(data.Address, "not set"), "Establishment registration number", orNone(data.RegistrationNo, "not set"),
		"Responsible person", orNone(data.ResponsiblePerson, "not set"))
	doc.Add("Device (806.10(c)(3)–(5))").Fields(
		"Brand name", data.Device, "Common name", orNone(data.CommonName, "not set"), "Intended use", orNone(data.IntendedUse, "not recorded"),
		"Classification", "class "+data.Class,
		"Marketing status", fmt.Sprintf("%s %s", data.Pathway, orNone(data.Submission, "(no submission number recorded)")),
		"Device listing number", orNone(data.ListingNumber, "not set"),
		"UDI-DI / model", strings.TrimSpace(orNone(data.UDIDI, "no UDI-DI recorded")+" / model "+orNone(data.Model, "not recorded")))
	doc.Add("Description of the event and the corrective action (806.10(c)(6)–(7))").
		Text("%s", data.Event).
		Fields("Learned (D0)", fmt.Sprintf("%s: %s", data.Learned, data.LearnedHow), "Component fixed in", orNone(strings.Join(data.FixedIn, ", "), "no fixed version of the component known yet"),
			"Remediation plan in force", orNone(data.Plan, "none recorded in the remediation records"),
			"Fix releases", orNone(strings.Join(data.FixReleases, "; "), "none recorded yet")).
		Table(eventHeaders, eventRows(data.CorrectiveAction), "No corrective action is recorded yet.")
	doc.Add("Illnesses, injuries and MDR reports (806.10(c)(8))").
		Table(eventHeaders, eventRows(data.Injuries), "No illness, injury or serious adverse event is known to be associated with the vulnerability.").
		Table(eventHeaders, eventRows(data.MDRs), "No MDR report was filed for it.")
	var vrows [][]string
	for _, x := range data.Versions {
		vrows = append(vrows, []string{x.Version, x.Status, x.Released.String(), fmt.Sprint(x.Units), x.FixedIn})
	}
	var lrows [][]string
	for _, l := range data.Lots {
		lrows = append(lrows, []string{l.Version, l.Lot, fmt.Sprint(l.Units), fmt.Sprint(l.Consignees), orNone(l.Shipped.String(), "not recorded")})
	}
	doc.Add("Devices affected, per lot; dates of manufacture and distribution; expected life (806.10(c)(9)–(10))").
		Fields("Units affected (fielded units of the affected versions)", fmt.Sprint(data.UnitsAffected), "Expected life", orNone(data.ExpectedLife, "not set")).
		Table([]string{"Version", "Status in this case", "Released (first distribution)", "Units fielded", "Component fixed in"}, vrows, "No affected version.").
		Table([]string{"Version", "Lot / serial", "Units at consignees", "Consignees", "First shipped"}, lrows, "No consignee holds an affected version.")
	var crows [][]string
	for _, c := range data.Consignees {
		crows = append(crows, []string{c.Name, c.Address, c.Contact, c.Version, fmt.Sprint(c.Units), strings.Join(c.Lots, ", "), orNone(c.Shipped.String(), "not recorded")})
	}
	doc.Add("Consignees (806.10(c)(11))").
		Table([]string{"Consignee", "Address", "Contact", "Version", "Quantity", "Lots / serials", "Shipped"}, crows, "No consignee is recorded for the affected versions.")
	cs := doc.Add("Copies of communications (806.10(c)(11))").
		Text("Every communication to consignees and users about this correction, and the ISAO shares, as recorded on the case; each reference names the copy filed with this report.").
		Table(eventHeaders, eventRows(data.Communications), "No communication was recorded yet.")
	for _, n := range data.Notices {
		var to []string
		for _, r := range n.Recipients {
			to = append(to, fmt.Sprintf("%s <%s>", r.Consignee, r.Email))
		}
		sent := ""
		if n.SentDate != nil {
			sent = n.SentDate.String()
		}
		f := []string{"Notice", fmt.Sprintf("N-%d: %s", n.ID, n.Subject), "Sent", fmt.Sprintf("%s by %s", sent, n.SentBy), "To", strings.Join(to, "; ")}
		if n.FollowUpOf != 0 {
			f = append(f, "Follow-up of", fmt.Sprintf("N-%d", n.FollowUpOf))
		}
		for _, e := range regulatory.NoticeElements {
			f = append(f, vigil.NoticeElementNames[e], n.Elements.Get(e))
		}
		if n.MissingReason != "" {
			f = append(f, "Sent with elements missing because", n.MissingReason)
		}
		cs.Fields(f...)
	}
	var prows [][]string
	for _, x := range data.NotYetKnown {
		prows = append(prows, []string{x.What, x.When})
	}
	doc.Add("Information not yet available and when it will be sent (806.10(c)(12))").
		Table([]string{"Not yet known", "When it will be sent"}, prows, "Nothing: every required element is known.")
	if len(data.Amendments) > 0 {
		var rows [][]string
		for _, a := range data.Amendments {
			by := a.By
			if len(a.Signatures) > 0 {
				by += " — " + strings.Join(a.Signatures, "; ")
			}
			rows = append(rows, []string{a.Number, a.Date.String(), by, fmt.Sprint(len(a.Lots))})
		}
		doc.Add("Amendments filed (806.10(d))").Table([]string{"Report", "Filed", "By", "Lots covered"}, rows, "")
	}
}

// File806 marks the case's 806 report filed on date (today when zero): it takes its report number (the next of
// the year's sequence), keeps the lots it covered, and records part806_filed on the case, checked by the case
// service, so the determination follows. The record, its signature and the event are one transaction. ECONFLICT
// when the correction is not reportable or a report was filed already. Needs PermReport (and PermEvent for the
// case event).
func (s *Service) File806(ctx context.Context, caseID int64, date vigil.Date, reason string, sig *vigil.SignRequest) (*vigil.RegRecord, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermReport); err != nil {
		return nil, err
	}
	b, cd, data, err := s.filing(ctx, caseID, date)
	if err != nil {
		return nil, err
	}
	if data.Filed != nil {
		return nil, vigil.Errorf(vigil.ECONFLICT, "%s: the 806 report was filed already as %s on %s: an extension to more lots is an amendment (vigil report 806-amendment --case %d --file)",
			cd.v.Case, data.Filed.Number, data.Filed.Date, caseID)
	}
	r := &vigil.RegRecord{Kind: vigil.RegPart806Report, CaseID: cd.v.Case.ID, DeviceID: cd.v.Device.ID, Date: date, Body: lotsBody(data.Lots)}
	if date.IsZero() {
		r.Date = b.today()
	}
	// The event is checked before anything is written, then written with the record in one transaction: its note
	// names the report number the store assigns there.
	e := &vigil.CaseEvent{CaseID: cd.v.Case.ID, Type: regulatory.EventPart806Filed, Date: r.Date}
	if err := s.Cases.CheckEvent(ctx, e); err != nil {
		return nil, err
	}
	sctx, err := vigil.GateAct(ctx, s.Cases.Signing, vigil.ActPart806Filing, sig)
	if err != nil {
		return nil, err
	}
	err = s.Store.AddFiledRecord(sctx, r, reason, func(r *vigil.RegRecord) *vigil.CaseEvent {
		e.Note = "21 CFR 806.10 report " + r.ReportNumber
		return e
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// File806Amendment marks an 806.10(d) amendment filed on date (today when zero), covering every lot affected now.
// ECONFLICT when no report was filed or no lot is new. Needs PermReport.
func (s *Service) File806Amendment(ctx context.Context, caseID int64, date vigil.Date, reason string, sig *vigil.SignRequest) (*vigil.RegRecord, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermReport); err != nil {
		return nil, err
	}
	b, cd, data, err := s.filing(ctx, caseID, date)
	if err != nil {
		return nil, err
	}
	if data.Filed == nil {
		return nil, vigil.Errorf(vigil.ECONFLICT, "%s: no 806 report was filed yet, so there is nothing to amend", cd.v.Case)
	}
	if len(data.NewLots) == 0 {
		return nil, vigil.Errorf(vigil.ECONFLICT, "%s: every affected lot is covered by report %s and its amendments: no amendment is needed", cd.v.Case, data.Filed.Number)
	}
	r := &vigil.RegRecord{Kind: vigil.RegPart806Amendment, CaseID: cd.v.Case.ID, DeviceID: cd.v.Device.ID, Amends: data.Filed.ID, Date: date, Body: lotsBody(data.Lots)}
	if date.IsZero() {
		r.Date = b.today()
	}
	sctx, err := vigil.GateAct(ctx, s.Cases.Signing, vigil.ActPart806Filing, sig)
	if err != nil {
		return nil, err
	}
	return r, s.Store.AddRegRecord(sctx, r, reason)
}

func (s *Service) filing(ctx context.Context, caseID int64, date vigil.Date) (*build, *caseData, *Part806Data, error) {
	b, err := s.newBuild(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if !date.IsZero() && date.After(b.today()) {
		return nil, nil, nil, vigil.Errorf(vigil.EINVALID, "date: %s is in the future: a report is marked filed once it is", date)
	}
	cd, err := b.caseData(ctx, caseID)
	if err != nil {
		return nil, nil, nil, err
	}
	if !reportable(cd.d.Part806.Status) {
		return nil, nil, nil, vigil.Errorf(vigil.ECONFLICT, "%s: the correction is not reported under 806.10 (Part 806 status %s)", cd.v.Case, cd.d.Part806.Status)
	}
	data, err := b.part806Data(ctx, cd)
	return b, cd, data, err
}

func lotsBody(lots []LotLine) json.RawMessage {
	keys := []string{}
	for _, l := range lots {
		keys = append(keys, l.key())
	}
	body, _ := json.Marshal(filedBody{Lots: keys})
	return body
}
