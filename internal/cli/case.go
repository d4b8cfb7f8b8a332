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

func init() { register(caseCmd) }

func caseTable(cs []*vigil.Case) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, c := range cs {
			rows = append(rows, []string{strconv.FormatInt(c.ID, 10), cell(c.Device), cell(c.Vulnerability), string(c.State), c.Learned.String(), c.LearnedHow, cell(c.Owner)})
		}
		return []string{"ID", "DEVICE", "VULNERABILITY", "STATE", "LEARNED", "HOW", "OWNER"}, rows
	}
}

func caseCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "case", Short: "Cases: one vulnerability on one device across its versions — assessment, dated events, corrections, determination and clocks"}

	var states []string
	var ldev, lvuln, lowner string
	var ids, unowned bool
	list := &cobra.Command{Use: "list [--state open|needs_review|closed|all] [--device NAME]", Short: "List cases (open and needs_review by default)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			st, err := vigil.ParseCaseStates(states)
			if err != nil {
				return Usage("--state: %s", vigil.ErrorMessage(err))
			}
			return env.withApp(func(a *app.App) error {
				f := vigil.CaseFilter{States: st, Vuln: lvuln, Owner: lowner, NoOwner: unowned}
				if ldev != "" {
					d, err := lookupDevice(env, a, ldev)
					if err != nil {
						return err
					}
					f.DeviceID = d.ID
				}
				cs, err := a.Cases.Cases(env.actx(), f)
				if err != nil {
					return err
				}
				if ids {
					for _, c := range cs {
						fmt.Fprintln(env.Stdout, c.ID)
					}
					return nil
				}
				if cs == nil {
					cs = []*vigil.Case{}
				}
				return env.Output(cs, caseTable(cs))
			})
		}}
	list.Flags().StringSliceVar(&states, "state", nil, "states: open, needs_review, closed or all")
	list.Flags().StringVar(&ldev, "device", "", "only this device (name or id)")
	list.Flags().StringVar(&lvuln, "vuln", "", "only this vulnerability (its id or any alias)")
	list.Flags().StringVar(&lowner, "owner", "", "only the cases this user owns")
	list.Flags().BoolVar(&unowned, "unowned", false, "only the cases nobody owns")
	list.Flags().BoolVar(&ids, "ids", false, "print only the ids, one a line (for scripts: CASE=$(vigil case list --vuln CVE-... --ids))")

	var odev, ovuln, olearned, oreason, ohow string
	var provisional bool
	open := &cobra.Command{Use: "open --device NAME --vuln ID --learned DATE --reason TEXT", Short: "Open a case not from matching (a report, an advisory about the device)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if odev == "" || ovuln == "" {
				return Usage("--device and --vuln are required")
			}
			l, err := parseDateFlag("learned", olearned)
			if err != nil {
				return err
			}
			if l == nil {
				return Usage("--learned is required: the day the vulnerability was learned of (D0)")
			}
			return env.withApp(func(a *app.App) error {
				d, err := lookupDevice(env, a, odev)
				if err != nil {
					return err
				}
				cs := &vigil.Case{DeviceID: d.ID, Vulnerability: ovuln, Learned: *l, LearnedHow: ohow, LearnedEvidence: oreason, Provisional: provisional}
				if err := a.Cases.OpenCase(env.actx(), cs, oreason); err != nil {
					return err
				}
				return env.Output(cs, caseTable([]*vigil.Case{cs}))
			})
		}}
	open.Flags().StringVar(&odev, "device", "", "device name or id")
	open.Flags().StringVar(&ovuln, "vuln", "", "the vulnerability id (a CVE, or a provisional id for a report with none yet)")
	open.Flags().BoolVar(&provisional, "provisional", false, "the id is provisional (no CVE yet)")
	open.Flags().StringVar(&olearned, "learned", "", "D0: the day the manufacturer learned of it (YYYY-MM-DD)")
	open.Flags().StringVar(&oreason, "reason", "", "how it was learned of (required; kept as the evidence of D0)")
	open.Flags().StringVar(&ohow, "how", vigil.LearnedManual, "how it was learned: report, advisory, manual")

	var asOf string
	show := &cobra.Command{Use: "show ID [--as-of DATE]", Short: "Show a case: versions, records (retracted ones struck), live determination and clocks", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			at, err := parseAsOf(asOf)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				return printCase(env, a, id, at)
			})
		}}
	show.Flags().StringVar(&asOf, "as-of", "", "determine as of this date (default today)")

	cmd.AddCommand(list, open, show, caseDisclosureCmd(env), caseSignCmd(env), caseAssessCmd(env), caseEventCmd(env), caseRetractCmd(env), caseLearnedCmd(env), caseStateCmd(env), caseMergeCmd(env),
		caseSplitCmd(env), caseAssignCmd(env), caseVEXCmd(env))
	return cmd
}

func caseAssessCmd(env *Env) *cobra.Command {
	var in cases.AssessInput
	var rubricFile, ssvc, date, riskFlag string
	var sf signFlags
	assess := &cobra.Command{Use: "assess ID --date DATE --rationale TEXT", Short: "Assess a case (or re-assess it, dated when it was done): vector (or rubric), functions reached, controls → controlled/uncontrolled",
		Example: `  vigil case assess 12 --date 2026-03-02 --cvss CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H --functions "dose delivery" \
    --controls "network segmentation per IFU §7" --rationale "remote dose change possible without authentication"`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			in.CaseID = id
			d, err := parseDateFlag("date", date)
			if err != nil {
				return err
			}
			if d != nil {
				in.Date = *d
			}
			in.Risk = vigil.Risk(riskFlag)
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
			if in.Signature, err = sf.actSignature(env); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				as, err := a.Cases.Assess(env.actx(), in)
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(as)
				}
				fmt.Fprintf(env.Stdout, "A%d %s: risk %s\n%s\n", as.ID, as.Date, as.Risk, as.Rationale)
				if len(as.Signals) > 0 {
					fmt.Fprintf(env.Stdout, "Cites ISAO signals %s.\n", idList(as.Signals))
				}
				return nil
			})
		}}
	f := assess.Flags()
	f.StringVar(&date, "date", "", "the day the assessment was made (YYYY-MM-DD; default today)")
	f.StringVar(&riskFlag, "risk", "", "record this risk (controlled, uncontrolled) instead of the matrix's — needs --risk-reason")
	f.StringVar(&in.RiskReason, "risk-reason", "", "what decided the risk given with --risk")
	f.StringVar(&in.CVSS, "cvss", "", "the assessed CVSS vector (v3.0 is FDA's named scale)")
	f.StringVar(&rubricFile, "rubric", "", "JSON file of medical-device rubric answers (produces the vector)")
	f.TextVar(&in.Exploitability, "exploitability", vigil.Exploitability(""), "override the derived level (low, medium, high) — needs --exploitability-reason")
	f.StringVar(&in.ExploitabilityReason, "exploitability-reason", "", "why the override")
	f.StringSliceVar(&in.Threats, "threats", nil, "threats of the device's threat model it realizes, e.g. T-1,T-4 (functions default to theirs)")
	f.StringSliceVar(&in.Functions, "functions", nil, "clinical functions the vulnerability can reach (severity follows from them)")
	f.StringVar(&in.Severity, "severity", "", "override the severity of patient harm — needs --severity-reason")
	f.StringVar(&in.SeverityReason, "severity-reason", "", "why the override")
	f.StringArrayVar(&in.Controls, "controls", nil, "controls in place (repeatable): a threat-model id (M-1, CC-2) or a description of several words")
	f.BoolVar(&in.ConfidentialityOnly, "confidentiality-only", false, "only PHI confidentiality is at stake (not patient harm)")
	f.TextVar(&in.VEXStatus, "vex", vigil.VEXStatus(""), "VEX status: affected, not_affected, fixed, under_investigation")
	f.BoolVar(&in.Interim, "interim", false, "a reassessment after interim controls")
	f.StringVar(&ssvc, "ssvc", "", "SSVC decision points: EXPLOITATION,UTILITY,TECHNICAL_IMPACT,PUBLIC_SAFETY_IMPACT")
	f.StringVar(&in.Rationale, "rationale", "", "the assessor's reasoning (required)")
	f.Int64SliceVar(&in.Signals, "signals", nil, "ISAO signals the assessment considered, cited with it (vigil isao signals --case ID)")
	sf.addAct(assess)
	return assess
}

func caseEventCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "event", Short: "Record dated regulatory events of a case"}
	var e vigil.CaseEvent
	var date string
	var sf signFlags
	add := &cobra.Command{Use: "add ID TYPE --date YYYY-MM-DD --note EVIDENCE [--meaning M --user NAME [--code]]",
		Short: "Record an event: customer_notified, interim_controls, remediation_plan, isao_shared, correction_initiated, fix_distributed, serious_adverse_event, mdr_filed, part806_filed (a reassessment is `case assess --date`); customer_notified, part806_filed and a --validated fix_distributed are Part 11 signed acts (--meaning, --user, the password or --code on stdin)",
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
			e.CaseID, e.Type, e.Date = id, args[1], *d
			sig, err := sf.actSignature(env)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Cases.AddEvent(env.actx(), &e, sig); err != nil {
					return err
				}
				v, err := a.Cases.CaseView(env.actx(), id, vigil.Date{})
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(map[string]any{"event": e, "determination": v.Determination})
				}
				fmt.Fprintf(env.Stdout, "E%d recorded.\n", e.ID)
				return printView(env, a, v)
			})
		}}
	add.Flags().StringVar(&date, "date", "", "the day it happened (YYYY-MM-DD, organization time zone)")
	add.Flags().StringVar(&e.Note, "note", "", "where the evidence is: document number, ticket, link (required)")
	add.Flags().StringSliceVar(&e.Details.Elements, "elements", nil, "customer_notified: notice elements present (a,b,c,d of G2016 §VII.B)")
	add.Flags().BoolVar(&e.Details.Validated, "validated", false, "fix_distributed: the fix was validated (21 CFR 820.30(g))")
	add.Flags().StringVar(&e.Details.Remediation, "remediation", "", "fix_distributed: patch or compensating_control")
	add.Flags().BoolVar(&e.Details.RemedialAction, "remedial-action", false, "serious_adverse_event: remedial action needed (803.53)")
	add.Flags().BoolVar(&e.Details.IncludesCorrection, "includes-correction", false, "mdr_filed: the MDR reports the correction (806.10(f))")
	sf.addAct(add)
	cmd.AddCommand(add)
	return cmd
}

func caseRetractCmd(env *Env) *cobra.Command {
	var reason, by string
	cmd := &cobra.Command{Use: "retract ID RECORD --reason TEXT [--superseded-by A<id>|E<id>]", Short: "Withdraw a record of the case (A<id> an assessment, E<id> an event, as `case show` lists them); it stays, struck through, and the determination goes without it",
		Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			ref, err := vigil.ParseRecordRef(args[1])
			if err != nil {
				return Usage("RECORD: %s", vigil.ErrorMessage(err))
			}
			return env.withApp(func(a *app.App) error {
				r := &vigil.Retraction{CaseID: id, Record: ref, Reason: reason, SupersededBy: by}
				if err := a.Cases.Retract(env.actx(), r); err != nil {
					return err
				}
				v, err := a.Cases.CaseView(env.actx(), id, vigil.Date{})
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(map[string]any{"retraction": r, "determination": v.Determination})
				}
				return printView(env, a, v)
			})
		}}
	cmd.Flags().StringVar(&reason, "reason", "", "why the record is withdrawn (required)")
	cmd.Flags().StringVar(&by, "superseded-by", "", "the corrected record that replaces it (enter the correction first: `case assess --date` or `case event add`; both stay on the timeline)")
	return cmd
}

func caseLearnedCmd(env *Env) *cobra.Command {
	var date, reason, evidence string
	cmd := &cobra.Command{Use: "learned ID --date DATE --reason TEXT --evidence TEXT", Short: "Correct D0, the day the vulnerability was learned of (the clocks move with it)", Args: exactArgs(1),
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
			return env.withApp(func(a *app.App) error {
				if err := a.Cases.SetLearned(env.actx(), id, *d, reason, evidence); err != nil {
					return err
				}
				return printCase(env, a, id, vigil.Date{})
			})
		}}
	cmd.Flags().StringVar(&date, "date", "", "the corrected D0 (YYYY-MM-DD)")
	cmd.Flags().StringVar(&reason, "reason", "", "why it is corrected (required)")
	cmd.Flags().StringVar(&evidence, "evidence", "", "where the evidence of the date is (required)")
	return cmd
}

func caseStateCmd(env *Env) *cobra.Command {
	var reason, state string
	var sf signFlags
	cmd := &cobra.Command{Use: "state ID open|needs_review|closed --reason TEXT", Short: "Close a case, reopen it or mark it for review; a closed case keeps every unmet obligation in `deadlines`", Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			state = args[1]
			if err := vigil.CaseState(state).Validate(); err != nil {
				return Usage("%s", vigil.ErrorMessage(err))
			}
			sig, err := sf.actSignature(env)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Cases.SetCaseState(env.actx(), id, vigil.CaseState(state), reason, sig); err != nil {
					return err
				}
				return printCaseRow(env, a, id)
			})
		}}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	sf.addAct(cmd)
	return cmd
}

func caseMergeCmd(env *Env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{Use: "merge INTO DUPLICATE --reason TEXT", Short: "Merge a duplicate case into another of the same device: its versions and records count there; D0 is the earlier", Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			into, err := parseID("INTO", args[0])
			if err != nil {
				return err
			}
			dup, err := parseID("DUPLICATE", args[1])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Cases.MergeCases(env.actx(), into, dup, reason); err != nil {
					return err
				}
				return printCase(env, a, into, vigil.Date{})
			})
		}}
	cmd.Flags().StringVar(&reason, "reason", "", "why they are one case (required)")
	return cmd
}

// printView prints a case for people: its versions, its records in date order (retracted ones marked), the
// determination and every open obligation.
func printView(env *Env, a *app.App, v *cases.View) error {
	zone := env.zone(a)
	sigs, err := caseSignatures(env, a, v)
	if err != nil {
		return err
	}
	w := env.Stdout
	c := v.Case
	fmt.Fprintf(w, "Case %d: %s on %s, state %s, learned (D0) %s (%s)\n", c.ID, cell(c.Vulnerability), cell(v.Device.Name), c.State, c.Learned, c.LearnedHow)
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "  also known as %s\n", cell(strings.Join(c.Aliases, ", ")))
	}
	if f := v.Finding; f != nil {
		fmt.Fprintf(w, "  finding %d: %s %s in %s %s", f.ID, cell(f.Component.Name), cell(f.Component.Version), cell(v.Device.Name), cell(v.Version.Version))
		if f.Evidence.Matcher != "" {
			fmt.Fprintf(w, ", matched by %s: %s (fixed: %s)", f.Evidence.Matcher, cell(f.Evidence.Range), cell(f.Evidence.Fixed))
		}
		fmt.Fprintln(w)
	}
	if c.Owner != "" {
		fmt.Fprintf(w, "  owner %s\n", cell(c.Owner))
	}
	for _, vs := range v.Versions {
		fmt.Fprintf(w, "  version %s: %s (finding %d, %s %s)%s\n", cell(vs.Version), vs.Status, vs.FindingID, cell(vs.Component.Name), cell(vs.Component.Version), prefixedText(", fixed in ", vs.FixedIn))
	}
	for _, x := range v.VEX {
		fmt.Fprintf(w, "  VEX %s: %s%s%s (%s, %s)\n", cell(x.Version), x.Status, prefixedText(" ", string(x.Justification)), prefixedText(" — ", cell(x.ImpactStatement+x.ActionStatement)), x.Actor, cell(x.Reason))
	}
	for _, a := range v.Assessments {
		fmt.Fprintf(w, "  A%d %s assessed by %s (entered %s): %s — %s\n", a.ID, a.Date, a.Actor, vigil.DateOf(a.CreatedAt, zone), a.Risk, cell(a.Rationale))
		printSignatures(env, sigs["assessment"][a.ID], zone)
	}
	for _, d := range v.Disclosures {
		fmt.Fprintf(w, "  disclosure %s by %s: %s (%s)\n", vigil.DateOf(d.CreatedAt, zone), d.Actor, cell(d.Summary()), cell(d.Reason))
	}
	for _, e := range v.Events {
		fmt.Fprintf(w, "  E%d %s %s (%s; entered %s)\n", e.ID, e.Date, e.Type, cell(e.Note), vigil.DateOf(e.CreatedAt, zone))
		printSignatures(env, sigs["case_event"][e.ID], zone)
	}
	for _, x := range v.Acts {
		fmt.Fprintf(w, "  %s %s by %s: %s\n", x.Act, x.CreatedAt.In(zone).Format(time.RFC3339), x.Actor, cell(string(x.Body)))
		printSignatures(env, sigs[string(x.Act)][x.ID], zone)
	}
	for _, x := range v.Withdrawn {
		what := ""
		if x.Assessment != nil {
			what = fmt.Sprintf("A%d %s assessment (%s)", x.Assessment.ID, x.Assessment.Date, x.Assessment.Risk)
		} else {
			what = fmt.Sprintf("E%d %s %s", x.Event.ID, x.Event.Date, x.Event.Type)
		}
		fmt.Fprintf(w, "  RETRACTED %s by %s%s: %s\n", what, x.Retraction.Actor, prefixedText(", superseded by ", x.Retraction.SupersededBy), cell(x.Retraction.Reason))
		if x.Assessment != nil {
			printSignatures(env, sigs["assessment"][x.Assessment.ID], zone)
		} else {
			printSignatures(env, sigs["case_event"][x.Event.ID], zone)
		}
	}
	d := v.Determination
	if d == nil {
		fmt.Fprintf(w, "Determination: %s\n", v.Problem)
		return nil
	}
	prov := ""
	if v.Provisional {
		prov = " PROVISIONAL (not assessed: as if uncontrolled)"
	}
	fmt.Fprintf(w, "Determination as of %s%s: risk %s (now %s), %s\n", d.AsOf, prov, d.Risk, d.CurrentRisk, d.Change)
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
		switch {
		case c.Urgent:
			flag = "  NOW: " + c.What
		case c.Overdue:
			flag = "  OVERDUE"
		}
		fmt.Fprintf(w, "  clock %-17s due %s (%d days)%s\n", c.Clock, c.Due, c.DaysLeft, flag)
	}
	for _, x := range d.Warnings {
		fmt.Fprintf(w, "  WARNING %s: %s\n", x.Code, x.Message)
	}
	return nil
}

func prefixedText(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

func caseSplitCmd(env *Env) *cobra.Command {
	var in vigil.SplitInput
	var device string
	cmd := &cobra.Command{Use: "split ID --findings F1,F2 [--vuln ID] | --device NAME --reason TEXT",
		Short: "Take findings out of a case into a new one (another vulnerability wrongly united by an alias), or open the case on another device (a report covering two); D0 is kept",
		Example: `  vigil case split 12 --findings 31,32 --vuln CVE-2024-5678 --reason "GHSA-xxxx names two CVEs; 31 and 32 are the second"
  vigil case split 12 --device "Infusion Pump IP-4" --reason "VR-7 covers both pumps"`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			in.CaseID = id
			return env.withApp(func(a *app.App) error {
				if device != "" {
					d, err := lookupDevice(env, a, device)
					if err != nil {
						return err
					}
					in.DeviceID = d.ID
				}
				nc, err := a.Cases.SplitCase(env.actx(), in)
				if err != nil {
					return err
				}
				v, err := a.Cases.CaseView(env.actx(), nc.ID, vigil.Date{})
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(cases.NewOut(v))
				}
				fmt.Fprintf(env.Stdout, "Case %d split from case %d.\n", nc.ID, id)
				return printView(env, a, v)
			})
		}}
	cmd.Flags().Int64SliceVar(&in.Findings, "findings", nil, "the findings that move to the new case")
	cmd.Flags().StringVar(&in.Vulnerability, "vuln", "", "the new case's vulnerability id (default the case's; an alias of the case named here leaves it)")
	cmd.Flags().StringVar(&device, "device", "", "open the case's vulnerability on this device instead (no findings move)")
	cmd.Flags().StringVar(&in.Reason, "reason", "", "why these are another case (required)")
	return cmd
}

func caseAssignCmd(env *Env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{Use: "assign ID USER|- --reason TEXT", Short: "Give a case to the user who works it (- for nobody)", Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			owner := args[1]
			if owner == "-" {
				owner = ""
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Cases.SetCaseOwner(env.actx(), id, owner, reason); err != nil {
					return err
				}
				return printCaseRow(env, a, id)
			})
		}}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	return cmd
}

func caseVEXCmd(env *Env) *cobra.Command {
	var x vigil.VersionVEX
	var version string
	cmd := &cobra.Command{Use: "vex ID --version V|--all --status S [--justification J | --impact TEXT] --reason TEXT",
		Short: "Record the VEX status of a version on the case (or of every version it affects): affected, not_affected (with a justification), fixed, under_investigation",
		Example: `  vigil case vex 12 --version 3.1.0 --status not_affected --justification vulnerable_code_not_in_execute_path \
    --impact "the TLS client is never enabled in 3.1.x" --reason "code review CR-88"`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			all, _ := c.Flags().GetBool("all")
			if (version == "") == !all {
				return Usage("give --version V or --all")
			}
			return env.withApp(func(a *app.App) error {
				x.CaseID = id
				if all {
					if _, err := a.Cases.SetCaseVEX(env.actx(), id, x); err != nil {
						return err
					}
				} else {
					v, err := a.Cases.CaseView(env.actx(), id, vigil.Date{})
					if err != nil {
						return err
					}
					ver, err := a.Portfolio.VersionByName(env.actx(), v.Device.ID, version)
					if err != nil {
						return err
					}
					x.VersionID = ver.ID
					if err := a.Cases.SetVersionVEX(env.actx(), &x); err != nil {
						return err
					}
				}
				return printCase(env, a, id, vigil.Date{})
			})
		}}
	f := cmd.Flags()
	f.StringVar(&version, "version", "", "the device version, as named")
	f.Bool("all", false, "every version the case affects")
	f.TextVar(&x.Status, "status", vigil.VEXStatus(""), "affected, not_affected, fixed or under_investigation")
	f.TextVar(&x.Justification, "justification", vigil.VEXJustification(""), "not_affected: why, in OpenVEX/CSAF or CycloneDX words (vulnerable_code_not_in_execute_path, code_not_reachable, ...)")
	f.StringVar(&x.ImpactStatement, "impact", "", "not_affected: why, in words")
	f.StringVar(&x.ActionStatement, "action", "", "affected: what users should do")
	f.StringVar(&x.FixedIn, "fixed-in", "", "fixed: the version that fixes it")
	f.StringVar(&x.Reason, "reason", "", "what the status rests on (required)")
	return cmd
}

// caseDisclosureCmd records a case's disclosure coordination. It starts from the coordination as it stands and
// changes what the flags give (an empty value clears a field), so a CVE assigned later is one flag.
func caseDisclosureCmd(env *Env) *cobra.Command {
	var d vigil.Disclosure
	var embargo, published, reason string
	cmd := &cobra.Command{Use: "disclosure ID --reason TEXT [--embargo DATE] [--partners cisa,isao,reporter,NAME] [--cve-requested-from CNA] [--cve ID --cve-assigned-by CNA] [--published DATE] [--advisory ID] [--credit TEXT]",
		Short: "Record the case's disclosure coordination (ISO/IEC 29147): embargo, partners, CVE request and assignment, publication, credit line",
		Example: `  vigil case disclosure 12 --embargo 2026-03-01 --partners cisa,reporter --cve-requested-from CISA --credit "Rae Searcher (Lab)" \
    --reason "agreed with the reporter on the call of 2026-01-10"
  vigil case disclosure 12 --cve CVE-2026-1234 --cve-assigned-by CISA --reason "CVE assigned"`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				v, err := a.Cases.CaseView(env.actx(), id, vigil.Date{})
				if err != nil {
					return err
				}
				next := vigil.Disclosure{Partners: []string{}}
				if n := len(v.Disclosures); n > 0 {
					next = v.Disclosures[n-1].Disclosure
				}
				set := c.Flags().Changed
				if set("embargo") {
					if next.Embargo, err = parseDateFlag("embargo", embargo); err != nil {
						return err
					}
				}
				if set("published") {
					if next.Published, err = parseDateFlag("published", published); err != nil {
						return err
					}
				}
				if set("partners") {
					next.Partners = d.Partners
				}
				for _, f := range []struct {
					name string
					to   *string
					from string
				}{{"cve-requested-from", &next.CVERequestedFrom, d.CVERequestedFrom}, {"cve-assigned-by", &next.CVEAssignedBy, d.CVEAssignedBy},
					{"cve", &next.CVE, d.CVE}, {"advisory", &next.Advisory, d.Advisory}, {"credit", &next.Credit, d.Credit}} {
					if set(f.name) {
						*f.to = f.from
					}
				}
				if _, err := a.Cases.SetDisclosure(env.actx(), v.Case.ID, next, reason); err != nil {
					return err
				}
				return printCase(env, a, v.Case.ID, vigil.Date{})
			})
		}}
	f := cmd.Flags()
	f.StringVar(&embargo, "embargo", "", "the embargo agreed (YYYY-MM-DD; empty clears it)")
	f.StringSliceVar(&d.Partners, "partners", nil, "the coordination partners: cisa, isao, reporter, or others by name (replaces the list)")
	f.StringVar(&d.CVERequestedFrom, "cve-requested-from", "", "the CNA a CVE was requested from")
	f.StringVar(&d.CVEAssignedBy, "cve-assigned-by", "", "the CNA that assigned the CVE")
	f.StringVar(&d.CVE, "cve", "", "the CVE id")
	f.StringVar(&published, "published", "", "the publication date (YYYY-MM-DD)")
	f.StringVar(&d.Advisory, "advisory", "", "our advisory's id or URL")
	f.StringVar(&d.Credit, "credit", "", "the credit line, as the reporter chose it")
	f.StringVar(&reason, "reason", "", "what was agreed or done (required; recorded with the record and in the audit trail)")
	return cmd
}

// printCase prints a case as it stands on at (zero: today): the `case show` document with --format json, else its
// page. Every case command that changes a case answers with it.
func printCase(env *Env, a *app.App, id int64, at vigil.Date) error {
	v, err := a.Cases.CaseView(env.actx(), id, at)
	if err != nil {
		return err
	}
	if env.Format == "json" {
		return env.JSON(cases.NewOut(v))
	}
	return printView(env, a, v)
}

// printCaseRow answers a change to a case (its state, its owner) with the case: its JSON view, or its queue row.
func printCaseRow(env *Env, a *app.App, id int64) error {
	v, err := a.Cases.CaseView(env.actx(), id, vigil.Date{})
	if err != nil {
		return err
	}
	return env.Output(cases.NewOut(v), caseTable([]*vigil.Case{v.Case}))
}
