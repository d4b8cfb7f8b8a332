package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cases"
)

func init() { register(intakeCmd) }

// intakeCmd is `vigil intake`: the report queue (ISO/IEC 30111). `vigil report` stays for the regulatory documents.
func intakeCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "intake", Short: "The report queue: researchers' reports, complaints, service records, ISAO/CISA tips, CSAF signals",
		Long: `Every way a possible vulnerability reaches the manufacturer lands in one queue. Researchers report through the
public page /report (or POST /api/v1/intake) and follow up through a secret link; the PSIRT files the rest with
'vigil intake add'. Each report goes received -> acknowledged -> triaged (linked to findings or cases) ->
remediation -> disclosure -> closed, or is closed early with a resolution; every step is a message the reporter
reads. The acknowledgement is due the CVD policy's working days after receipt (vigil deadlines shows the clock).

Reports are named VR-N (or just N).`,
		Example: `  vigil intake list --status received
  vigil intake show VR-3
  vigil intake ack VR-3 --message "Thank you; we are reproducing it."
  vigil intake triage VR-3 --finding 42 --message "Confirmed on 3.2.1."
  vigil intake triage VR-4 --new-case - --message "Confirmed; CVE requested from CISA."
  vigil intake close VR-4 --resolution duplicate --reason "Same as VR-3, reported on 2025-06-01."
  vigil intake add --source complaint --device "Infusio IP-3" --title "Pump rebooted during a network scan" \
    --description "Complaint CMP-88: ..." --reference CMP-88`}

	withReport := func(args []string, fn func(a *app.App, id int64) error) error {
		id, err := vigil.ParseReportNumber(args[0])
		if err != nil {
			return err
		}
		return env.withApp(func(a *app.App) error { return fn(a, id) })
	}

	var statuses []string
	var source string
	list := &cobra.Command{Use: "list", Short: "The inbox: reports awaiting acknowledgement first (with their clock), then newest", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			f := vigil.ReportFilter{Source: vigil.ReportSource(source)}
			for _, s := range statuses {
				f.Statuses = append(f.Statuses, vigil.ReportStatus(s))
			}
			return env.withApp(func(a *app.App) error {
				rs, err := a.Intake.Reports(env.actx(), f)
				if err != nil {
					return err
				}
				today := a.Cases.Today(env.actx())
				return env.Output(rs, func() ([]string, [][]string) {
					var rows [][]string
					for _, r := range rs {
						ack := ""
						if r.Status == vigil.ReportReceived {
							ack = ackClock(r.AckDue, today)
						}
						rows = append(rows, []string{r.Number, r.ReceivedOn.String(), string(r.Source), string(r.Status), ack, r.Product, r.Title})
					}
					return []string{"REPORT", "RECEIVED", "SOURCE", "STATUS", "ACK DUE", "PRODUCT", "TITLE"}, rows
				})
			})
		}}
	list.Flags().StringSliceVar(&statuses, "status", nil, "only these statuses (received, acknowledged, triaged, remediation, disclosure, closed)")
	list.Flags().StringVar(&source, "source", "", "only this source")

	show := &cobra.Command{Use: "show REPORT", Short: "A report with its thread", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withReport(args, func(a *app.App, id int64) error {
				r, err := a.Intake.Report(env.actx(), id)
				if err != nil {
					return err
				}
				ms, err := a.Intake.Messages(env.actx(), id)
				if err != nil {
					return err
				}
				out := struct {
					*vigil.Report
					Messages []vigil.ReportMessage `json:"messages"`
				}{r, ms}
				return env.Output(out, func() ([]string, [][]string) {
					rows := [][]string{{"report", r.Number}, {"source", string(r.Source)}, {"status", string(r.Status) + " " + string(r.Resolution)},
						{"received", r.Received.In(env.zone(a)).Format(time.RFC3339) + " (D0 " + r.ReceivedOn.String() + ")"}, {"ack due", r.AckDue.String()},
						{"product", strings.TrimSpace(r.Product + " " + r.Version)}, {"title", r.Title}, {"description", r.Description},
						{"impact", r.Impact}, {"steps", r.Steps}, {"cvss", r.CVSS}, {"reporter", strings.TrimSpace(r.ReporterName + " " + r.ReporterEmail)},
						{"disclosure", string(r.Disclosure)}, {"embargo requested", dateOrEmpty(r.EmbargoRequested)}, {"credit", r.Credit},
						{"reference", r.Reference}, {"follow-up link", map[bool]string{true: "active", false: "none"}[r.LinkActive]}}
					for _, d := range r.Coordination {
						rows = append(rows, []string{"disclosure", fmt.Sprintf("case %d: %s", d.CaseID, d.Summary())})
					}
					for _, l := range r.Links {
						rows = append(rows, []string{"linked", fmt.Sprintf("%s %d", l.Kind, l.ID)})
					}
					for _, at := range r.Attachments {
						rows = append(rows, []string{"attachment", fmt.Sprintf("%s (%s, %d bytes, sha256 %s)", at.Name, at.ContentType, at.Size, at.SHA256)})
					}
					for _, m := range ms {
						who := m.From
						if m.Author != "" {
							who += " " + m.Author
						}
						if m.Status != "" {
							who += " -> " + string(m.Status)
						}
						rows = append(rows, []string{m.At.In(env.zone(a)).Format(time.RFC3339) + " " + who, m.Body})
					}
					return []string{"FIELD", "VALUE"}, rows
				})
			})
		}}

	var msg string
	step := func(use, short string, fn func(a *app.App, id int64) error) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: exactArgs(1), RunE: func(c *cobra.Command, args []string) error {
			return withReport(args, func(a *app.App, id int64) error {
				if err := fn(a, id); err != nil {
					return err
				}
				r, err := a.Intake.Report(env.actx(), id)
				if err != nil {
					return err
				}
				return env.Output(r, func() ([]string, [][]string) {
					return []string{"REPORT", "STATUS", "TITLE"}, [][]string{{r.Number, string(r.Status) + " " + string(r.Resolution), r.Title}}
				})
			})
		}}
		return c
	}
	ack := step("ack REPORT --message TEXT", "Acknowledge a received report (the message goes to the reporter)", func(a *app.App, id int64) error {
		return a.Intake.Acknowledge(env.actx(), id, msg)
	})
	var findings, cases []int64
	var newCases []string
	triage := step("triage REPORT (--finding ID | --case ID)... --message TEXT", "Link an acknowledged report to findings or cases", func(a *app.App, id int64) error {
		var links []vigil.ReportLink
		for _, f := range findings {
			links = append(links, vigil.ReportLink{Kind: vigil.LinkFinding, ID: f})
		}
		for _, c := range cases {
			links = append(links, vigil.ReportLink{Kind: vigil.LinkCase, ID: c})
		}
		for _, v := range newCases {
			if v == "-" {
				v = ""
			}
			links = append(links, vigil.ReportLink{Kind: vigil.LinkCase, Vulnerability: v})
		}
		return a.Intake.Triage(env.actx(), id, links, msg)
	})
	triage.Flags().Int64SliceVar(&findings, "finding", nil, "a finding id (repeatable)")
	triage.Flags().Int64SliceVar(&cases, "case", nil, "a case id (repeatable); its D0 moves to the report's receipt when the report came first")
	triage.Flags().StringArrayVar(&newCases, "new-case", nil, "open the report's device's case of this vulnerability (- for the report number as a provisional id), learned the day the report was received; an existing case of it is linked instead (repeatable)")
	var to string
	advance := step("advance REPORT --to remediation|disclosure --message TEXT", "Move a triaged report on to remediation, then disclosure", func(a *app.App, id int64) error {
		return a.Intake.Advance(env.actx(), id, vigil.ReportStatus(to), msg)
	})
	advance.Flags().StringVar(&to, "to", "", "remediation or disclosure")
	message := step("message REPORT --message TEXT", "Send the reporter a message", func(a *app.App, id int64) error {
		return a.Intake.Message(env.actx(), id, msg)
	})
	var resolution, reason string
	closeC := step("close REPORT --resolution R --reason TEXT", "Close a report: not_vulnerability, duplicate, out_of_scope, resolved or withdrawn (the reason goes to the reporter)", func(a *app.App, id int64) error {
		return a.Intake.Close(env.actx(), id, vigil.ReportResolution(resolution), reason)
	})
	closeC.Flags().StringVar(&resolution, "resolution", "", "not_vulnerability, duplicate, out_of_scope, resolved or withdrawn")
	closeC.Flags().StringVar(&reason, "reason", "", "why; the reporter reads it")
	for _, c := range []*cobra.Command{ack, triage, advance, message} {
		c.Flags().StringVar(&msg, "message", "", "the message to the reporter")
	}

	var revoke bool
	link := &cobra.Command{Use: "link REPORT (--revoke | --new) --reason TEXT", Short: "Revoke the reporter's follow-up link, or replace it with a new one (printed once)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withReport(args, func(a *app.App, id int64) error {
				if revoke {
					return a.Intake.RevokeLink(env.actx(), id, reason)
				}
				tok, err := a.Intake.NewLink(env.actx(), id, reason)
				if err != nil {
					return err
				}
				return env.Output(map[string]string{"report": vigil.ReportNumber(id), "token": tok, "path": "/report/follow/" + tok}, func() ([]string, [][]string) {
					return []string{"REPORT", "FOLLOW-UP PATH (send it to the reporter; shown once)"}, [][]string{{vigil.ReportNumber(id), "/report/follow/" + tok}}
				})
			})
		}}
	link.Flags().BoolVar(&revoke, "revoke", false, "revoke the link (otherwise a new one replaces it)")
	link.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit trail)")

	var in vigil.ReportInput
	var src, device, embargo string
	add := &cobra.Command{Use: "add --source complaint|service|isao|cisa|internal --title T --description D (--device D | --product P)",
		Short: "File a report from another source into the queue", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			in.Source = vigil.ReportSource(src)
			var err error
			if in.EmbargoRequested, err = parseDateFlag("embargo", embargo); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				if device != "" {
					d, err := lookupDevice(env, a, device)
					if err != nil {
						return err
					}
					in.DeviceID = d.ID
				}
				r, err := a.Intake.Add(env.actx(), &in)
				if err != nil {
					return err
				}
				return env.Output(r, func() ([]string, [][]string) {
					return []string{"REPORT", "RECEIVED", "ACK DUE", "TITLE"}, [][]string{{r.Number, r.ReceivedOn.String(), r.AckDue.String(), r.Title}}
				})
			})
		}}
	add.Flags().StringVar(&src, "source", "", "complaint, service, isao, cisa or internal")
	add.Flags().StringVar(&device, "device", "", "the device (name)")
	add.Flags().StringVar(&in.Product, "product", "", "the product, when it is not one of our devices by name")
	add.Flags().StringVar(&in.Version, "version", "", "the product version")
	add.Flags().StringVar(&in.Title, "title", "", "a one-line summary")
	add.Flags().StringVar(&in.Description, "description", "", "what was reported")
	add.Flags().StringVar(&in.Impact, "impact", "", "the possible impact")
	add.Flags().StringVar(&in.Reference, "reference", "", "the source's own id: complaint or service record number, ISAO or CISA reference")
	add.Flags().StringVar(&in.CVSS, "cvss", "", "a CVSS vector, when the source gave one")
	add.Flags().StringVar(&embargo, "embargo", "", "an embargo date asked for (YYYY-MM-DD)")

	signals := &cobra.Command{Use: "signals", Short: "File a report for each CSAF signal (an advisory naming our device) that has none (every import does this itself)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				rs, err := a.Intake.FileSignals(env.actx())
				if err != nil {
					return err
				}
				return env.Output(rs, func() ([]string, [][]string) {
					var rows [][]string
					for _, r := range rs {
						rows = append(rows, []string{r.Number, r.Reference, r.Product, r.Title})
					}
					return []string{"REPORT", "ADVISORY", "DEVICE", "TITLE"}, rows
				})
			})
		}}

	cmd.AddCommand(list, show, ack, triage, advance, message, closeC, link, add, signals, policyCmd(env))
	return cmd
}

// ackClock says when an acknowledgement is due, relative to today.
func ackClock(due, today vigil.Date) string {
	left := due.Sub(today)
	if left < 0 {
		return fmt.Sprintf("%s OVERDUE %d", due, -left)
	}
	return fmt.Sprintf("%s (%dd)", due, left)
}

func dateOrEmpty(d *vigil.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// policyCmd is `vigil intake policy`: the published CVD policy behind /.well-known/security.txt.
func policyCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "The published CVD policy: security.txt (RFC 9116) and the policy page", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				p, err := a.Intake.Policy(env.actx())
				if err != nil {
					return err
				}
				return env.Output(p, func() ([]string, [][]string) {
					exp := "not set: /.well-known/security.txt is not served until it is"
					if !p.Expires.IsZero() {
						exp = p.Expires.UTC().Format(time.RFC3339)
					}
					return []string{"SETTING", "VALUE"}, [][]string{{"contact (org)", p.Contact}, {"ack working days (org)", strconv.Itoa(p.AckDays)},
						{"expires", exp}, {"languages", strings.Join(p.Languages, ", ")}, {"base URL", p.BaseURL}, {"queue cap", strconv.Itoa(p.QueueCap)},
						{"statement", p.Statement}}
				})
			})
		}}
	var expires, reason string
	var p vigil.CVDPolicy
	set := &cobra.Command{Use: "set --expires DATE --base-url URL --reason TEXT", Short: "Change the published policy (the contact and acknowledgement days are organization settings)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if expires != "" {
				d, err := vigil.ParseDate(expires)
				if err != nil {
					return vigil.Errorf(vigil.EINVALID, "--expires: %q is not a date (YYYY-MM-DD)", expires)
				}
				p.Expires = d.Time()
			}
			return env.withApp(func(a *app.App) error {
				old, err := a.Intake.Policy(env.actx())
				if err != nil {
					return err
				}
				// Flags not given keep their stored value.
				if !c.Flags().Changed("expires") {
					p.Expires = old.Expires
				}
				if !c.Flags().Changed("languages") {
					p.Languages = old.Languages
				}
				if !c.Flags().Changed("base-url") {
					p.BaseURL = old.BaseURL
				}
				if !c.Flags().Changed("statement") {
					p.Statement = old.Statement
				}
				if !c.Flags().Changed("queue-cap") {
					p.QueueCap = old.QueueCap
				}
				if err := a.Intake.SetPolicy(env.actx(), &p, reason); err != nil {
					return err
				}
				return env.JSON(p)
			})
		}}
	set.Flags().StringVar(&expires, "expires", "", "when security.txt expires (YYYY-MM-DD, at most a year away)")
	set.Flags().StringSliceVar(&p.Languages, "languages", nil, "Preferred-Languages (en,de)")
	set.Flags().StringVar(&p.BaseURL, "base-url", "", "the https URL this Vigil is reached at from outside (Canonical and Policy)")
	set.Flags().StringVar(&p.Statement, "statement", "", "the policy page's own text: scope, safe harbour")
	set.Flags().IntVar(&p.QueueCap, "queue-cap", 0, "reports waiting for an acknowledgement beyond which new ones are refused (default 500)")
	set.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit trail)")
	cmd.AddCommand(set)
	return cmd
}

// withAckClocks adds the intake reports' acknowledgement clocks and the 806.10(d) amendment clocks to the
// regulatory clocks, under the same filter, soonest first: `vigil deadlines` shows every clock the program runs.
func withAckClocks(env *Env, a *app.App, ds []cases.Deadline, f cases.DeadlineFilter) ([]cases.Deadline, error) {
	for _, more := range a.MoreDeadlines() {
		more, err := more(env.actx(), f)
		if err != nil {
			return nil, err
		}
		ds = append(ds, more...)
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Due.Before(ds[j].Due) })
	return ds, nil
}
