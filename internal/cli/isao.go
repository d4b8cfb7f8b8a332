package cli

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/service/isao"
)

func init() {
	register(isaoCmd)
	register(shareCmd)
}

const isaosFlagHelp = `JSON file of ISAO memberships: [{"name","since","until","contact","tlp","documents":[{"item":1-4,"kind","title","date","file"|"text"}]}] (examples/isaos.json)`

// membershipFile is one membership as the --isaos file states it; a document's content is a file (relative to the
// JSON file) or the words of a note.
type membershipFile struct {
	Name      string     `json:"name"`
	Since     vigil.Date `json:"since"`
	Until     vigil.Date `json:"until"`
	Contact   string     `json:"contact"`
	TLP       string     `json:"tlp"`
	Documents []struct {
		Item    int        `json:"item"`
		Kind    string     `json:"kind"`
		Title   string     `json:"title"`
		Date    vigil.Date `json:"date"`
		Expires vigil.Date `json:"expires"`
		File    string     `json:"file"`
		Text    string     `json:"text"`
	} `json:"documents"`
}

// readMemberships reads an --isaos file; errors name the file and the field.
func readMemberships(path string) ([]vigil.ISAOMembership, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "--isaos: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var in []membershipFile
	if err := dec.Decode(&in); err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "--isaos %s: %v", path, err)
	}
	out := make([]vigil.ISAOMembership, 0, len(in))
	for i, m := range in {
		om := vigil.ISAOMembership{Name: m.Name, Since: m.Since, Until: m.Until, Contact: m.Contact, TLP: m.TLP, Documents: []vigil.ISAODocument{}}
		for j, d := range m.Documents {
			doc := vigil.ISAODocument{Item: d.Item, Kind: d.Kind, Title: d.Title, Date: d.Date, Expires: d.Expires}
			switch {
			case d.File != "" && d.Text != "":
				return nil, vigil.Errorf(vigil.EINVALID, "--isaos %s: [%d].documents[%d]: give file or text, not both", path, i, j)
			case d.File != "":
				f := d.File
				if !filepath.IsAbs(f) {
					f = filepath.Join(filepath.Dir(path), f)
				}
				if doc.Content, err = readBounded(f); err != nil {
					return nil, vigil.Errorf(vigil.EINVALID, "--isaos %s: [%d].documents[%d].file: %v", path, i, j, err)
				}
				doc.FileName = filepath.Base(f)
			default:
				doc.Content = []byte(d.Text)
			}
			if doc.Title == "" {
				doc.Title = vigil.Clip(vigil.MaxName, cmp.Or(doc.FileName, d.Text))
			}
			om.Documents = append(om.Documents, doc)
		}
		out = append(out, om)
	}
	return out, nil
}

func readBounded(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > vigil.MaxISAODocument {
		return nil, fmt.Errorf("%d bytes, more than %d", st.Size(), vigil.MaxISAODocument)
	}
	return os.ReadFile(path)
}

func membershipTable(today vigil.Date, ms ...vigil.ISAOMembership) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, m := range ms {
			status := "evidenced"
			switch {
			case !m.Active(today):
				status = "not active"
			case len(m.Missing(today)) > 0:
				status = "missing §IX items " + intList(m.Missing(today))
			}
			taxii := "-"
			if m.TAXII.URL != "" {
				taxii = m.TAXII.URL + " " + m.TAXII.Collection
			}
			rows = append(rows, []string{strconv.FormatInt(m.ID, 10), m.Name, orDash(m.Device), dateCell(m.Since), dateCell(m.Until), m.TLP,
				strconv.Itoa(len(m.Documents)), taxii, status})
		}
		return []string{"ID", "ISAO", "DEVICE LINE", "SINCE", "UNTIL", "TLP", "DOCUMENTS", "TAXII", "§IX EVIDENCE"}, rows
	}
}

func intList(xs []int) string {
	var s []string
	for _, x := range xs {
		s = append(s, strconv.Itoa(x))
	}
	return strings.Join(s, ",")
}

func dateCell(d vigil.Date) string {
	if d.IsZero() {
		return "-"
	}
	return d.String()
}

func isaoCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "isao", Short: "ISAO participation (G2016 §IX): memberships, evidence documents, sharing log, intelligence received, evidence"}
	list := &cobra.Command{Use: "list", Short: "The memberships: the organization's and each device line's own, with their §IX evidence today", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				ms, err := a.ISAO.Memberships(env.actx())
				if err != nil {
					return err
				}
				return env.Output(ms, membershipTable(a.Cases.Today(env.actx()), ms...))
			})
		}}
	var device string
	show := &cobra.Command{Use: "show NAME [--device D]", Short: "One membership: its fields, TAXII endpoint and documents by §IX item", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				m, err := a.ISAO.Membership(env.actx(), args[0], device)
				if err != nil {
					return err
				}
				return env.Output(m, func() ([]string, [][]string) {
					var rows [][]string
					for _, d := range m.Documents {
						rows = append(rows, []string{strconv.FormatInt(d.ID, 10), strconv.Itoa(d.Item), d.Kind, cell(d.Title), dateCell(d.Date), dateCell(d.Expires),
							d.SHA256[:min(12, len(d.SHA256))], strconv.FormatInt(d.Size, 10)})
					}
					return []string{"DOC", "§IX ITEM", "KIND", "TITLE", "DATE", "EXPIRES", "SHA-256", "BYTES"}, rows
				})
			})
		}}
	show.Flags().StringVar(&device, "device", "", "the device line whose own membership it is")

	var sf struct {
		device, since, until, contact, tlp, taxii, collection, user, passwordFile, reason string
	}
	set := &cobra.Command{Use: "set NAME [--since D] [--until D] [--contact C] [--tlp LEVEL] [--taxii URL --collection ID --user U --password-file F]",
		Short: "Create or change a membership (only the flags given); --device makes it a device line's own",
		Long: `Create or change a membership: the organization's, or with --device a device line's own, which overrides the
organization's memberships for that device (criterion 4 of its cases reads it). The TAXII password is read from
--password-file (never from the command line) and stored sealed with the secret key (--secret-key FILE or
$VIGIL_SECRET_KEY, at least 32 random bytes kept outside the database).`,
		Example: `  vigil isao set Health-ISAC --since 2019-03-01 --until 2027-02-28 --tlp amber --contact members@h-isac.example
  vigil isao set Health-ISAC --taxii https://taxii.h-isac.example/taxii2/ --collection 9cfa669c-ee94-4ece-afd2-f8edac37d8fd \
    --user acme-psirt --password-file ~/.h-isac-password --secret-key ~/.vigil-secret.key`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			in := isao.SetInput{Name: args[0], Device: sf.device, Reason: sf.reason}
			str := func(flag string, v string) *string {
				if changed(c, flag) {
					return &v
				}
				return nil
			}
			for _, d := range []struct {
				flag string
				v    string
				dst  **vigil.Date
			}{{"since", sf.since, &in.Since}, {"until", sf.until, &in.Until}} {
				if changed(c, d.flag) {
					var day vigil.Date
					if d.v != "" {
						var err error
						if day, err = vigil.ParseDate(d.v); err != nil {
							return Usage("--%s: %v", d.flag, err)
						}
					}
					*d.dst = &day
				}
			}
			in.Contact, in.TLP, in.TAXIIURL, in.Collection, in.User = str("contact", sf.contact), str("tlp", sf.tlp), str("taxii", sf.taxii),
				str("collection", sf.collection), str("user", sf.user)
			if sf.passwordFile != "" {
				b, err := os.ReadFile(sf.passwordFile)
				if err != nil {
					return Usage("--password-file: %v", err)
				}
				pw := strings.TrimRight(string(b), "\r\n")
				in.Password = &pw
			}
			return env.withApp(func(a *app.App) error {
				m, err := a.ISAO.Set(env.actx(), in)
				if err != nil {
					return err
				}
				return env.Output(m, membershipTable(a.Cases.Today(env.actx()), *m))
			})
		}}
	set.Flags().StringVar(&sf.device, "device", "", "a device line's own membership (name or id)")
	set.Flags().StringVar(&sf.since, "since", "", "first day of the membership (YYYY-MM-DD)")
	set.Flags().StringVar(&sf.until, "until", "", "last day before renewal (YYYY-MM-DD; empty: open-ended)")
	set.Flags().StringVar(&sf.contact, "contact", "", "who at the ISAO (or ours) to contact")
	set.Flags().StringVar(&sf.tlp, "tlp", "", "sharing level agreed with the ISAO: clear, green, amber, amber+strict or red (default green)")
	set.Flags().StringVar(&sf.taxii, "taxii", "", "the ISAO's TAXII 2.1 discovery or API root URL")
	set.Flags().StringVar(&sf.collection, "collection", "", "the TAXII collection id shares are added to and intelligence is read from")
	set.Flags().StringVar(&sf.user, "user", "", "TAXII user (HTTP basic authentication)")
	set.Flags().StringVar(&sf.passwordFile, "password-file", "", "file holding the TAXII password (an empty file removes it)")
	set.Flags().StringVar(&sf.reason, "reason", "", "why (recorded in the audit trail)")

	var df struct {
		device, kind, file, note, title, date, expires, reason string
		item                                                   int
	}
	doc := &cobra.Command{Use: "document NAME --item N --kind agreement|policy|evidence|note (--file F | --note TEXT) [--date D] [--expires D]",
		Short: "Attach a document (kept with its SHA-256) to a membership as evidence of §IX item N (1-4)",
		Example: `  vigil isao document Health-ISAC --item 2 --kind agreement --file participant-agreement.pdf --date 2024-02-01 --expires 2027-01-31
  vigil isao document Health-ISAC --item 4 --kind evidence --file SOP-PSIRT-03.pdf --date 2025-11-03`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			d := &vigil.ISAODocument{Item: df.item, Kind: df.kind, Title: df.title}
			switch {
			case (df.file == "") == (df.note == ""):
				return Usage("give --file or --note")
			case df.file != "":
				b, err := readBounded(df.file)
				if err != nil {
					return Usage("--file: %v", err)
				}
				d.Content, d.FileName = b, filepath.Base(df.file)
				if d.Title == "" {
					d.Title = d.FileName
				}
			default:
				d.Content = []byte(df.note)
				if d.Title == "" {
					d.Title = vigil.Clip(vigil.MaxName, df.note)
				}
			}
			for _, x := range []struct {
				flag, v string
				dst     *vigil.Date
			}{{"date", df.date, &d.Date}, {"expires", df.expires, &d.Expires}} {
				if x.v != "" {
					day, err := vigil.ParseDate(x.v)
					if err != nil {
						return Usage("--%s: %v", x.flag, err)
					}
					*x.dst = day
				}
			}
			return env.withApp(func(a *app.App) error {
				if err := a.ISAO.AddDocument(env.actx(), args[0], df.device, d, df.reason); err != nil {
					return err
				}
				return env.Output(d, func() ([]string, [][]string) {
					return []string{"DOC", "§IX ITEM", "KIND", "TITLE", "SHA-256"}, [][]string{{strconv.FormatInt(d.ID, 10), strconv.Itoa(d.Item), d.Kind, cell(d.Title), d.SHA256}}
				})
			})
		}}
	doc.Flags().IntVar(&df.item, "item", 0, "the §IX item it evidences: 1 membership, 2 the ISAO's policies, 3 sharing with it, 4 acting on its intelligence")
	doc.Flags().StringVar(&df.kind, "kind", vigil.DocEvidence, "agreement, policy, evidence or note")
	doc.Flags().StringVar(&df.file, "file", "", "the document (up to 16 MB)")
	doc.Flags().StringVar(&df.note, "note", "", "a statement in words instead of a file")
	doc.Flags().StringVar(&df.title, "title", "", "its title (default the file name)")
	doc.Flags().StringVar(&df.date, "date", "", "the document's own date (signed, issued, in force from)")
	doc.Flags().StringVar(&df.expires, "expires", "", "the day it stops being in force, if it does")
	doc.Flags().StringVar(&df.device, "device", "", "the device line whose own membership it is")
	doc.Flags().StringVar(&df.reason, "reason", "", "why (recorded in the audit trail)")

	alerts := &cobra.Command{Use: "alerts", Short: "What will cost enforcement discretion's criterion 4: lapsed or lapsing memberships, §IX items without evidence, expiring documents", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				al, err := a.ISAO.Alerts(env.actx())
				if err != nil {
					return err
				}
				if al == nil {
					al = []isao.Alert{}
				}
				return env.Output(al, func() ([]string, [][]string) {
					var rows [][]string
					for _, x := range al {
						rows = append(rows, []string{x.Severity, orDash(x.Membership), orDash(x.Device), dateCell(x.Due), x.What})
					}
					return []string{"SEVERITY", "ISAO", "DEVICE LINE", "DUE", "WHAT"}, rows
				})
			})
		}}
	var shareISAO string
	var shareCase int64
	shares := &cobra.Command{Use: "shares [--isao NAME] [--case ID]", Short: "The sharing log: what was shared with which ISAO, when, how (TAXII status or exported)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				log, err := a.ISAO.Shares(env.actx(), shareISAO, shareCase)
				if err != nil {
					return err
				}
				if log == nil {
					log = []*vigil.ISAOShare{}
				}
				return env.Output(log, shareTable(log...))
			})
		}}
	shares.Flags().StringVar(&shareISAO, "isao", "", "only shares with this ISAO")
	shares.Flags().Int64Var(&shareCase, "case", 0, "only shares of this case")
	imp := &cobra.Command{Use: "import NAME FILE", Short: "Take in a STIX 2.1 bundle an ISAO sent: indicators, vulnerabilities, notes and reports become signals linked to the cases they touch",
		Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := os.Open(args[1])
			if err != nil {
				return Usage("%v", err)
			}
			defer f.Close()
			return env.withApp(func(a *app.App) error {
				in, err := a.ISAO.ImportSTIX(env.actx(), args[0], filepath.Base(args[1]), f)
				if err != nil {
					return err
				}
				return env.Output(in, intakeTable(in))
			})
		}}
	var cursor string
	poll := &cobra.Command{Use: "poll NAME [--after TIMESTAMP]", Short: "Poll the ISAO's TAXII collection now (a taxii feed polls it on its schedule: vigil feeds)",
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				in, err := a.ISAO.Poll(env.actx(), args[0], cursor)
				if err != nil {
					return err
				}
				return env.Output(in, intakeTable(in))
			})
		}}
	poll.Flags().StringVar(&cursor, "after", "", "only objects the server added after this TAXII timestamp (default: everything)")
	var sigISAO string
	var sigCase int64
	sigs := &cobra.Command{Use: "signals [--isao NAME] [--case ID]", Short: "Intelligence received from ISAOs, with the cases each touches and the assessments that cite it", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				list, err := a.ISAO.Signals(env.actx(), sigISAO, sigCase)
				if err != nil {
					return err
				}
				if list == nil {
					list = []*vigil.ISAOSignal{}
				}
				return env.Output(list, func() ([]string, [][]string) {
					var rows [][]string
					for _, sg := range list {
						rows = append(rows, []string{strconv.FormatInt(sg.ID, 10), sg.Received.Format("2006-01-02"), orDash(sg.ISAO), sg.Type, cell(sg.Name),
							orDash(strings.Join(sg.CVEs, " ")), idList(sg.Cases), idList(sg.Assessments)})
					}
					return []string{"ID", "RECEIVED", "ISAO", "TYPE", "NAME", "CVES", "CASES", "CITED BY"}, rows
				})
			})
		}}
	sigs.Flags().StringVar(&sigISAO, "isao", "", "only from this ISAO")
	sigs.Flags().Int64Var(&sigCase, "case", 0, "only signals touching this case")
	var citeSignals []int64
	var citeReason string
	cite := &cobra.Command{Use: "cite ASSESSMENT --signals ID,ID [--reason R]", Short: "Record that an assessment considered these ISAO signals (§IX item 4: intelligence traced to the risk assessment)",
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			aid, err := parseID("ASSESSMENT", strings.TrimPrefix(strings.ToUpper(args[0]), "A"))
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				if err := a.ISAO.Cite(env.actx(), aid, citeSignals, citeReason); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Assessment A%d cites signals %s.\n", aid, idList(citeSignals))
				return nil
			})
		}}
	cite.Flags().Int64SliceVar(&citeSignals, "signals", nil, "the signals it considered (vigil isao signals)")
	cite.Flags().StringVar(&citeReason, "reason", "", "what they changed in the assessment (recorded in the audit trail)")
	var evFrom, evTo, evDevice string
	evidence := &cobra.Command{Use: "evidence NAME [--from DATE] [--to DATE] [--format json|csv|table]",
		Short: "The §IX evidence of a membership over a period: each item's documents, the shares made, the intelligence received and what it led to",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var from, to vigil.Date
			for _, d := range []struct {
				flag, v string
				dst     *vigil.Date
			}{{"from", evFrom, &from}, {"to", evTo, &to}} {
				if d.v != "" {
					day, err := vigil.ParseDate(d.v)
					if err != nil {
						return Usage("--%s: %v", d.flag, err)
					}
					*d.dst = day
				}
			}
			return env.withApp(func(a *app.App) error {
				ev, err := a.ISAO.Evidence(env.actx(), args[0], evDevice, from, to)
				if err != nil {
					return err
				}
				if env.Format == "csv" {
					return ev.WriteCSV(env.Stdout)
				}
				return env.Output(ev, func() ([]string, [][]string) {
					var rows [][]string
					for _, it := range ev.Items {
						state := "evidenced"
						if !it.Evidenced {
							state = "NOT EVIDENCED"
						}
						var docs []string
						for _, d := range it.Documents {
							docs = append(docs, d.Title)
						}
						rows = append(rows, []string{strconv.Itoa(it.N), state, cell(strings.Join(docs, "; ")), it.Records})
					}
					return []string{"§IX ITEM", "STATE", "DOCUMENTS", "RECORDS"}, rows
				})
			})
		}}
	evidence.Flags().StringVar(&evFrom, "from", "", "first day of the period (default the membership's start)")
	evidence.Flags().StringVar(&evTo, "to", "", "last day of the period (default today)")
	evidence.Flags().StringVar(&evDevice, "device", "", "the device line whose own membership it is")
	status := &cobra.Command{Use: "status [SHARE]", Short: "Ask the TAXII server again about a share still pending (or, without SHARE, every one): the sharing log moves to complete or failed",
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var id int64
			if len(args) == 1 {
				var err error
				if id, err = parseID("SHARE", args[0]); err != nil {
					return err
				}
			}
			return env.withApp(func(a *app.App) error {
				if id != 0 {
					sh, err := a.ISAO.RefreshStatus(env.actx(), id)
					if err != nil {
						return err
					}
					return env.Output(sh, shareTable(sh))
				}
				log, err := a.ISAO.RefreshPending(env.actx())
				if log == nil {
					log = []*vigil.ISAOShare{}
				}
				if oerr := env.Output(log, shareTable(log...)); oerr != nil {
					return oerr
				}
				return err // the shares asked about are printed even when a server did not answer
			})
		}}
	cmd.AddCommand(list, show, set, doc, alerts, shares, status, imp, poll, sigs, cite, evidence)
	return cmd
}

func intakeTable(in *isao.Intake) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		rows := [][]string{{orDash(in.ISAO), cell(in.Source), strconv.Itoa(in.Objects), strconv.Itoa(in.Signals), strconv.Itoa(in.Changed), idList(in.Linked),
			strconv.Itoa(len(in.Rejected)), orDash(in.Cursor)}}
		for _, r := range in.Rejected {
			rows = append(rows, []string{"", "rejected: " + cell(r), "", "", "", "", "", ""})
		}
		return []string{"ISAO", "SOURCE", "OBJECTS", "SIGNALS", "NEW OR CHANGED", "CASES TOUCHED", "REJECTED", "CURSOR"}, rows
	}
}

func idList(xs []int64) string {
	if len(xs) == 0 {
		return "-"
	}
	var s []string
	for _, x := range xs {
		s = append(s, strconv.FormatInt(x, 10))
	}
	return strings.Join(s, ",")
}

func shareTable(log ...*vigil.ISAOShare) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, s := range log {
			notice, status := "-", s.Status
			if s.NoticeID != 0 {
				notice = "N-" + strconv.FormatInt(s.NoticeID, 10)
			}
			if s.StatusText != "" {
				status += ": " + cell(s.StatusText)
			}
			rows = append(rows, []string{strconv.FormatInt(s.ID, 10), s.Date.String(), s.ISAO, strconv.FormatInt(s.CaseID, 10), notice, s.Vulnerability, cell(s.Device), s.Method,
				orDash(s.StatusID), status, "TLP:" + strings.ToUpper(s.TLP), s.BundleID, "E" + strconv.FormatInt(s.EventID, 10)})
		}
		return []string{"ID", "DATE", "ISAO", "CASE", "NOTICE", "VULNERABILITY", "DEVICE", "METHOD", "TAXII STATUS ID", "STATUS", "TLP", "BUNDLE", "EVENT"}, rows
	}
}

func shareCmd(env *Env) *cobra.Command {
	var name, export string
	var notice int64
	var dry bool
	cmd := &cobra.Command{Use: "share (CASE | --notice N) [--isao NAME] [--export FILE]",
		Short: "Share a case, or a customer notice, with an ISAO as a STIX 2.1 bundle, over its TAXII server or exported to FILE; logs it and records isao_shared on the case(s)",
		Long: `Share a case with an ISAO: a STIX 2.1 bundle (the manufacturer's identity, the vulnerability with its CVE references,
a course of action for each compensating control and for the fix, a report for each customer communication and one for
the case, under the membership's TLP marking; ids are deterministic, so sharing again updates the ISAO's objects). It
goes to the membership's TAXII 2.1 collection (vigil isao set NAME --taxii URL --collection ID ...), or with --export
to FILE for upload by hand ("-" for stdout). Either way the sharing log gets an entry and the case its isao_shared
event, which enforcement discretion's criterion 4 reads. --dry-run prints the bundle and records nothing.

With --notice, the customer notice N (sent) is shared instead: one bundle with every case it covers and the notice's
text as the customer communication (G2016 §IX item 3), logged and recorded on each case.

A TAXII server that is still taking the objects in answers "pending": the share is logged pending, and the
isao-status job of vigil serve (or vigil isao status) asks again until it is complete or failed.`,
		Example: `  vigil share 7 --isao Health-ISAC
  vigil share 7 --isao Health-ISAC --export case-7.stix.json
  vigil share --notice 3 --isao Health-ISAC`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var id int64
			switch {
			case len(args) == 1 && notice != 0:
				return Usage("give CASE or --notice, not both")
			case len(args) == 1:
				var err error
				if id, err = parseID("CASE", args[0]); err != nil {
					return err
				}
			case notice == 0:
				return Usage("give the CASE to share, or --notice N")
			case dry:
				return Usage("--dry-run shows a case's bundle: give CASE")
			}
			return env.withApp(func(a *app.App) error {
				if dry {
					b, err := a.ISAO.Bundle(env.actx(), id, name)
					if err != nil {
						return err
					}
					_, err = env.Stdout.Write(append(b, '\n'))
					return err
				}
				var res *isao.ShareResult
				var err error
				if notice != 0 {
					res, err = a.ISAO.ShareNotice(env.actx(), isao.NoticeShareInput{NoticeID: notice, ISAO: name, Export: export != ""})
				} else {
					res, err = a.ISAO.Share(env.actx(), isao.ShareInput{CaseID: id, ISAO: name, Export: export != ""})
				}
				if err != nil {
					return err
				}
				if export == "-" {
					_, err = env.Stdout.Write(append(res.Bundle, '\n'))
					return err
				}
				if export != "" {
					if err := os.WriteFile(export, append(res.Bundle, '\n'), 0o644); err != nil {
						return vigil.Errorf(vigil.EINVALID, "--export: %v (the share is logged as %d: see vigil isao shares)", err, res.Shares[0].ID)
					}
				}
				return env.Output(res.Shares, shareTable(res.Shares...))
			})
		}}
	cmd.Flags().StringVar(&name, "isao", "", "the membership to share with (default: the one covering the case's device)")
	cmd.Flags().Int64Var(&notice, "notice", 0, "share this customer notice (sent) and the cases it covers, instead of one case")
	cmd.Flags().StringVar(&export, "export", "", `write the bundle to FILE ("-" for stdout) for upload by hand instead of sending it over TAXII`)
	cmd.Flags().BoolVar(&dry, "dry-run", false, "print the case's bundle only: nothing is sent or recorded")
	return cmd
}
