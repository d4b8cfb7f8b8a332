package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/risk"
)

func init() {
	register(findingCmd)
	register(findingsCmd)
	register(deadlinesCmd)
}

// findingTable lists findings with their device and version by name (an id means nothing at a glance); a version
// that cannot be read shows its id.
func findingTable(env *Env, a *app.App, fs []*vigil.Finding) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		names := map[int64][2]string{}
		name := func(versionID int64) [2]string {
			n, ok := names[versionID]
			if !ok {
				n = [2]string{"", strconv.FormatInt(versionID, 10)}
				if v, err := a.Portfolio.Version(env.actx(), versionID); err == nil {
					n[1] = v.Version
					if d, err := a.Portfolio.Device(env.actx(), v.DeviceID); err == nil {
						n[0] = d.Name
					}
				}
				names[versionID] = n
			}
			return n
		}
		var rows [][]string
		for _, f := range fs {
			comp := f.Component.Name
			if f.Component.Version != "" {
				comp += "@" + f.Component.Version
			}
			n := name(f.VersionID)
			rows = append(rows, []string{strconv.FormatInt(f.ID, 10), n[0], n[1], comp, f.Vulnerability, string(f.State), f.Evidence.Fixed, f.Learned.String()})
		}
		return []string{"ID", "DEVICE", "VERSION", "COMPONENT", "VULNERABILITY", "STATE", "FIXED IN", "LEARNED"}, rows
	}
}

type listFlags struct {
	device, version string
	states          []string
	vuln            string
	kev, ids        bool
	limit           int
}

func (f *listFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.device, "device", "", "only this device (name or id)")
	c.Flags().StringVar(&f.version, "version", "", "only this version of --device")
	c.Flags().StringSliceVar(&f.states, "state", nil, "states: open, could_not_evaluate, needs_review, resolved, closed or all (default open, could_not_evaluate and needs_review)")
	c.Flags().StringVar(&f.vuln, "vuln", "", "only this vulnerability (its id or any alias)")
	c.Flags().BoolVar(&f.kev, "kev", false, "only vulnerabilities in CISA's KEV catalog")
	c.Flags().IntVar(&f.limit, "limit", 0, "at most this many")
	c.Flags().BoolVar(&f.ids, "ids", false, "print only the ids, one a line (for scripts: ID=$(vigil findings --vuln CVE-... --ids))")
}

func listFindings(env *Env, f *listFlags) error {
	return env.withApp(func(a *app.App) error {
		flt := vigil.FindingFilter{Vuln: f.vuln, Limit: f.limit}
		states, err := vigil.ParseFindingStates(f.states)
		if err != nil {
			return Usage("--state: %s", vigil.ErrorMessage(err))
		}
		flt.States = states
		if f.version != "" && f.device == "" {
			return Usage("--version needs --device")
		}
		if f.device != "" {
			d, err := lookupDevice(env, a, f.device)
			if err != nil {
				return err
			}
			flt.DeviceID = d.ID
			if f.version != "" {
				v, err := a.Portfolio.VersionByName(env.actx(), d.ID, f.version)
				if err != nil {
					return err
				}
				flt.VersionID = v.ID
			}
		}
		fs, err := a.Cases.Findings(env.actx(), flt)
		if err != nil {
			return err
		}
		if f.kev {
			intel := a.Cases.Intel
			kept := fs[:0]
			for _, x := range fs {
				if intel == nil {
					break
				}
				if vu, err := intel.Vuln(env.actx(), x.Vulnerability); err == nil && vu.KEV != nil {
					kept = append(kept, x)
				}
			}
			fs = kept
		}
		if f.ids {
			for _, x := range fs {
				fmt.Fprintln(env.Stdout, x.ID)
			}
			return nil
		}
		if fs == nil {
			fs = []*vigil.Finding{}
		}
		return env.Output(fs, findingTable(env, a, fs))
	})
}

func findingsCmd(env *Env) *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{Use: "findings", Short: "List findings across the portfolio (same as `finding list`)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error { return listFindings(env, &f) }}
	f.bind(cmd)
	return cmd
}

func findingCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "finding", Short: "A finding's FDA flow: assess, record events, see the live determination and clocks"}
	var lf listFlags
	list := &cobra.Command{Use: "list", Short: "List findings", Args: exactArgs(0), RunE: func(c *cobra.Command, _ []string) error { return listFindings(env, &lf) }}
	lf.bind(list)

	var cdev, cver, learned, reason, comp string
	create := &cobra.Command{Use: "create VULN --device D --version V --reason TEXT", Short: "Record a finding that did not come from matching (researcher, complaint, advisory about our product)",
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if cdev == "" || cver == "" {
				return Usage("--device and --version are required")
			}
			l, err := parseDateFlag("learned", learned)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				v, err := lookupVersion(env, a, cdev, cver)
				if err != nil {
					return err
				}
				f := &vigil.Finding{VersionID: v.ID, Vulnerability: args[0], Source: "manual"}
				if l != nil {
					f.Learned = *l
				}
				if comp != "" {
					name, ver, _ := strings.Cut(comp, "@")
					f.Component = vigil.Component{Name: name, Version: ver}
				}
				if err := a.Cases.CreateFinding(env.actx(), f, reason); err != nil {
					return err
				}
				return env.Output(f, findingTable(env, a, []*vigil.Finding{f}))
			})
		}}
	create.Flags().StringVar(&cdev, "device", "", "device name or id")
	create.Flags().StringVar(&cver, "version", "", "device version")
	create.Flags().StringVar(&learned, "learned", "", "when the manufacturer learned of it (YYYY-MM-DD; default today): D0 of the ED clocks")
	create.Flags().StringVar(&reason, "reason", "", "how it was learned of (required)")
	create.Flags().StringVar(&comp, "component", "", "the component concerned, NAME[@VERSION]")

	var asOf string
	show := &cobra.Command{Use: "show ID", Short: "Show a finding with its assessments, events and live determination", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			d, err := parseDateFlag("as-of", asOf)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				var at vigil.Date
				if d != nil {
					at = *d
				}
				v, err := a.Cases.View(env.actx(), id, at)
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(v)
				}
				return printView(env, v, env.zone(a))
			})
		}}
	show.Flags().StringVar(&asOf, "as-of", "", "determine as of this date (default today)")

	var in cases.AssessInput
	var rubricFile, ssvc string
	assess := &cobra.Command{Use: "assess ID --rationale TEXT", Short: "Assess a finding: vector (or rubric), functions reached, controls → controlled/uncontrolled",
		Example: `  vigil finding assess 12 --cvss CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H --functions "dose delivery" \
    --controls "network segmentation per IFU §7" --rationale "remote dose change possible without authentication"`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			in.FindingID = id
			if rubricFile != "" {
				b, err := os.ReadFile(rubricFile)
				if err != nil {
					return Usage("--rubric: %v", err)
				}
				var r risk.RubricAnswers
				if err := json.Unmarshal(b, &r); err != nil {
					return vigil.Errorf(vigil.EINVALID, "--rubric %s: %v", rubricFile, err)
				}
				in.Rubric = r
			}
			if ssvc != "" {
				p := strings.Split(ssvc, ",")
				if len(p) != 4 {
					return Usage("--ssvc: want EXPLOITATION,UTILITY,TECHNICAL_IMPACT,PUBLIC_SAFETY_IMPACT")
				}
				in.SSVC = &risk.SSVCInput{Exploitation: p[0], Utility: p[1], TechnicalImpact: p[2], PublicSafetyImpact: p[3]}
			}
			return env.withApp(func(a *app.App) error {
				as, err := a.Cases.Assess(env.actx(), in)
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(as)
				}
				fmt.Fprintf(env.Stdout, "risk: %s\n%s\n", as.Risk, as.Rationale)
				return nil
			})
		}}
	assess.Flags().StringVar(&in.CVSS, "cvss", "", "the assessed CVSS vector (v3.0 is FDA's named scale)")
	assess.Flags().StringVar(&rubricFile, "rubric", "", "JSON file of medical-device rubric answers (produces the vector)")
	assess.Flags().TextVar(&in.Exploitability, "exploitability", vigil.Exploitability(""), "override the derived level (low, medium, high) — needs --exploitability-reason")
	assess.Flags().StringVar(&in.ExploitabilityReason, "exploitability-reason", "", "why the override")
	assess.Flags().StringSliceVar(&in.Threats, "threats", nil, "threats of the device's threat model it realizes, e.g. T-1,T-4 (functions default to theirs)")
	assess.Flags().StringSliceVar(&in.Functions, "functions", nil, "clinical functions the vulnerability can reach (severity follows from them)")
	assess.Flags().StringVar(&in.Severity, "severity", "", "override the severity of patient harm — needs --severity-reason")
	assess.Flags().StringVar(&in.SeverityReason, "severity-reason", "", "why the override")
	assess.Flags().StringArrayVar(&in.Controls, "controls", nil, "controls in place (repeatable): a threat-model id (M-1, CC-2) or a description of several words")
	assess.Flags().BoolVar(&in.ConfidentialityOnly, "confidentiality-only", false, "only PHI confidentiality is at stake (not patient harm)")
	assess.Flags().TextVar(&in.VEXStatus, "vex", vigil.VEXStatus(""), "VEX status: affected, not_affected, fixed, under_investigation")
	assess.Flags().BoolVar(&in.Interim, "interim", false, "a reassessment after interim controls")
	assess.Flags().StringVar(&ssvc, "ssvc", "", "SSVC decision points: EXPLOITATION,UTILITY,TECHNICAL_IMPACT,PUBLIC_SAFETY_IMPACT")
	assess.Flags().StringVar(&in.Rationale, "rationale", "", "the assessor's reasoning (required)")

	cmd.AddCommand(list, create, show, assess, eventCmd(env), closeCmd(env), summaryCmd(env))
	return cmd
}

// summaryCmd is `vigil finding summary ID`: the per-vulnerability summary (G2016 §VIII items known at assessment
// time), as Markdown for people (the default, also for --format table) or JSON.
func summaryCmd(env *Env) *cobra.Command {
	var asOf string
	cmd := &cobra.Command{Use: "summary ID [--format markdown|json] [--as-of YYYY-MM-DD]",
		Short: "The per-vulnerability summary for the PMA periodic report and the file: vulnerability, exploitability, functions, threats, controls, determination, clocks, events",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			d, err := parseDateFlag("as-of", asOf)
			if err != nil {
				return err
			}
			switch env.Format {
			case "json", "markdown", "table", "":
			default:
				return Usage("--format: %q is not one of markdown, json", env.Format)
			}
			return env.withApp(func(a *app.App) error {
				var at vigil.Date
				if d != nil {
					at = *d
				}
				sm, err := a.Cases.Summary(env.actx(), id, at)
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(sm)
				}
				return sm.Markdown(env.Stdout)
			})
		}}
	cmd.Flags().StringVar(&asOf, "as-of", "", "determine as of this date (default today)")
	return cmd
}

func eventCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "event", Short: "Record dated regulatory events on a finding"}
	var e vigil.FindingEvent
	var date string
	add := &cobra.Command{Use: "add ID TYPE --date YYYY-MM-DD --note EVIDENCE",
		Short: "Record an event: customer_notified, interim_controls, remediation_plan, isao_shared, correction_initiated, fix_distributed, reassessed, serious_adverse_event, mdr_filed, part806_filed",
		Args:  exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			d, err := parseDateFlag("date", date)
			if err != nil {
				return err
			}
			if d == nil {
				return Usage("--date is required")
			}
			e.FindingID, e.Type, e.Date = id, args[1], *d
			return env.withApp(func(a *app.App) error {
				svc := a.Cases
				if err := svc.RecordEvent(env.actx(), &e); err != nil {
					return err
				}
				v, err := svc.View(env.actx(), id, vigil.Date{})
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(map[string]any{"event": e, "determination": v.Determination})
				}
				return printView(env, v, env.zone(a))
			})
		}}
	add.Flags().StringVar(&date, "date", "", "the day it happened (YYYY-MM-DD, organization time zone)")
	add.Flags().StringVar(&e.Note, "note", "", "where the evidence is: document number, ticket, link (required)")
	add.Flags().StringSliceVar(&e.Details.Elements, "elements", nil, "customer_notified: notice elements present (a,b,c,d of G2016 §VII.B)")
	add.Flags().BoolVar(&e.Details.Validated, "validated", false, "fix_distributed: the fix was validated (21 CFR 820.30(g))")
	add.Flags().StringVar(&e.Details.Remediation, "remediation", "", "fix_distributed: patch or compensating_control")
	add.Flags().BoolVar(&e.Details.RemedialAction, "remedial-action", false, "serious_adverse_event: remedial action needed (803.53)")
	add.Flags().BoolVar(&e.Details.IncludesCorrection, "includes-correction", false, "mdr_filed: the MDR reports the correction (806.10(f))")
	cmd.AddCommand(add)
	return cmd
}

func closeCmd(env *Env) *cobra.Command {
	var reason string
	var reopen bool
	cmd := &cobra.Command{Use: "close ID --reason TEXT", Short: "Close a finding (or --reopen it); the record and its clocks stay", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			state := vigil.FindingClosed
			if reopen {
				state = vigil.FindingOpen
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Cases.SetFindingState(env.actx(), id, state, reason); err != nil {
					return err
				}
				f, err := a.Cases.Finding(env.actx(), id)
				if err != nil {
					return err
				}
				return env.Output(f, findingTable(env, a, []*vigil.Finding{f}))
			})
		}}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	cmd.Flags().BoolVar(&reopen, "reopen", false, "reopen instead of closing")
	return cmd
}

func printView(env *Env, v *cases.View, zone *time.Location) error {
	w := env.Stdout
	f := v.Finding
	fmt.Fprintf(w, "Finding %d: %s in %s %s (%s), state %s, learned %s\n", f.ID, cell(f.Vulnerability), cell(v.Device.Name), cell(v.Version.Version), cell(f.Component.Name+" "+f.Component.Version), f.State, f.Learned)
	if f.Evidence.Matcher != "" {
		fmt.Fprintf(w, "  matched by %s: %s (fixed: %s)\n", f.Evidence.Matcher, cell(f.Evidence.Range), cell(f.Evidence.Fixed))
	}
	for _, a := range v.Assessments {
		fmt.Fprintf(w, "  assessed %s by %s: %s — %s\n", vigil.DateOf(a.CreatedAt, zone), a.Actor, a.Risk, cell(a.Rationale))
	}
	for _, e := range v.Events {
		fmt.Fprintf(w, "  %s %s (%s)\n", e.Date, e.Type, cell(e.Note))
	}
	d := v.Determination
	if d == nil {
		fmt.Fprintf(w, "Determination: %s\n", v.Problem)
		return nil
	}
	fmt.Fprintf(w, "Determination as of %s: risk %s (now %s), %s\n", d.AsOf, d.Risk, d.CurrentRisk, d.Change)
	if len(d.EnforcementDiscretion.Criteria) > 0 {
		fmt.Fprintf(w, "  enforcement discretion: %s\n", d.EnforcementDiscretion.Status)
		for _, c := range d.EnforcementDiscretion.Criteria {
			fmt.Fprintf(w, "    %d %-8s %s\n", c.N, c.Status, c.Reason)
		}
	}
	due := "none"
	if !d.Part806.Due.IsZero() {
		due = d.Part806.Due.String()
	}
	fmt.Fprintf(w, "  21 CFR 806: %s (due %s)\n", d.Part806.Status, due)
	for _, c := range cases.Clocks(v) {
		flag := ""
		if c.Overdue {
			flag = "  OVERDUE"
		}
		fmt.Fprintf(w, "  clock %-17s due %s (%d days)%s\n", c.Clock, c.Due, c.DaysLeft, flag)
	}
	for _, x := range d.Warnings {
		fmt.Fprintf(w, "  WARNING %s: %s\n", x.Code, x.Message)
	}
	return nil
}

func deadlinesCmd(env *Env) *cobra.Command {
	var f cases.DeadlineFilter
	var within, device, asOf string
	cmd := &cobra.Command{Use: "deadlines [--as-of DATE] [--within 14d] [--overdue]", Short: "Every open regulatory clock across the portfolio, soonest first", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if d, err := parseDateFlag("as-of", asOf); err != nil {
				return err
			} else if d != nil {
				f.AsOf = *d
			}
			if within != "" {
				n, err := strconv.Atoi(strings.TrimSuffix(within, "d"))
				if err != nil || n < 0 {
					return Usage("--within: %q: want a number of days like 14d", within)
				}
				f.Within = n
			}
			return env.withApp(func(a *app.App) error {
				if device != "" {
					d, err := lookupDevice(env, a, device)
					if err != nil {
						return err
					}
					f.DeviceID = d.ID
				}
				ds, err := a.Cases.Deadlines(env.actx(), f)
				if err != nil {
					return err
				}
				if ds, err = withAckClocks(env, a, ds, f); err != nil {
					return err
				}
				return env.Output(ds, func() ([]string, [][]string) {
					var rows [][]string
					for _, d := range ds {
						left := fmt.Sprintf("%d", d.DaysLeft)
						if d.Overdue {
							left = fmt.Sprintf("OVERDUE %d", -d.DaysLeft)
						}
						subject := strconv.FormatInt(d.FindingID, 10)
						if d.Report != "" {
							subject = d.Report
						}
						rows = append(rows, []string{d.Due.String(), left, d.Clock, subject, d.Device + " " + d.Version, d.Vulnerability, d.Status})
					}
					return []string{"DUE", "DAYS", "CLOCK", "FINDING/REPORT", "DEVICE", "VULNERABILITY", "STATUS"}, rows
				})
			})
		}}
	cmd.Flags().BoolVar(&f.OverdueOnly, "overdue", false, "only clocks already overdue")
	cmd.Flags().StringVar(&within, "within", "", "only clocks due within this many days (e.g. 14d)")
	cmd.Flags().StringVar(&device, "device", "", "only this device")
	cmd.Flags().StringVar(&asOf, "as-of", "", "compute the clocks as of this date, YYYY-MM-DD (default today): what was open, due and overdue that day")
	return cmd
}
