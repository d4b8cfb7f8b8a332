package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/service/remediation"
)

func init() { register(planCmd) }

// parseControl reads --control "WHAT|WHERE DOCUMENTED|SINCE".
func parseControl(s string) (vigil.CompensatingControl, error) {
	parts := strings.Split(s, "|")
	if len(parts) != 3 {
		return vigil.CompensatingControl{}, vigil.Errorf(vigil.EINVALID, "--control: %q: want WHAT|WHERE DOCUMENTED|SINCE (e.g. \"pumps on a dedicated VLAN|IFU §7.3|2025-06-05\")", vigil.Clip(60, s))
	}
	since, err := vigil.ParseDate(strings.TrimSpace(parts[2]))
	if err != nil {
		return vigil.CompensatingControl{}, vigil.Errorf(vigil.EINVALID, "--control: since: %s", vigil.ErrorMessage(err))
	}
	return vigil.CompensatingControl{What: strings.TrimSpace(parts[0]), Documented: strings.TrimSpace(parts[1]), Since: since}, nil
}

// requiredDate parses a date flag that must be given.
func requiredDate(name, s string) (vigil.Date, error) {
	d, err := parseDateFlag(name, s)
	if err != nil {
		return vigil.Date{}, err
	}
	if d == nil {
		return vigil.Date{}, Usage("--%s: required", name)
	}
	return *d, nil
}

func planCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "plan", Short: "Remediation of a case: the versioned plan, fix releases with their V&V and distribution, deployment in the field, PM2025 metrics",
		Long: `A case's remediation (G2016 §VII.B, 524B, 21 CFR 820.30(g)).

  plan set CASE        the next version of the plan: compensating controls, the planned fix, cycle, rationale
  plan show CASE       the plan in force and every earlier version, fixes, the field per version, metrics
  plan fix CASE        a release that fixes the case
  plan vv FIX          its verification and validation record
  plan distribute FIX  its distribution (a passed V&V first)
  plan deploy CASE     units updated at a consignee
  plan metrics DEVICE  the PM2025 metrics of every case of a device

The first plan records remediation_plan on the case, the first naming compensating controls interim_controls, and
a distributed fix records a validated fix_distributed (ED criterion 3): nobody types those events.`}

	var p vigil.RemediationPlan
	var controls []string
	var date, target string
	set := &cobra.Command{Use: "set CASE --rationale TEXT [--fix-release R --target DATE --cycle regular|out-of-cycle] [--control WHAT|WHERE|SINCE]...",
		Short: "Record the next version of a case's remediation plan (a change is a new version, with --reason)", Args: exactArgs(1),
		Example: `  vigil plan set 7 --fix-release 3.2.2 --target 2026-02-15 --cycle out-of-cycle \
    --control "pumps on a dedicated VLAN|IFU §7.3|2026-01-05" \
    --rationale "the wolfSSL update needs the full regression suite (15 working days) and a 510(k) assessment"`,
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("CASE", args[0])
			if err != nil {
				return err
			}
			in := p
			in.CaseID = id
			for _, s := range controls {
				ctl, err := parseControl(s)
				if err != nil {
					return err
				}
				in.Controls = append(in.Controls, ctl)
			}
			if d, err := parseDateFlag("date", date); err != nil {
				return err
			} else if d != nil {
				in.Date = *d
			}
			if d, err := parseDateFlag("target", target); err != nil {
				return err
			} else if d != nil {
				in.TargetDate = *d
			}
			return env.withApp(func(a *app.App) error {
				r, err := a.Remediation.SetPlan(env.actx(), &in)
				if err != nil {
					return err
				}
				return printRemediation(env, r)
			})
		}}
	set.Flags().StringVar(&p.Rationale, "rationale", "", "the timeline rationale: why the fix takes the time it does (required)")
	set.Flags().StringVar(&p.FixRelease, "fix-release", "", "the release that will carry the fix")
	set.Flags().StringVar(&target, "target", "", "the day the fix is planned to be distributed (with --fix-release)")
	set.Flags().StringVar(&p.Cycle, "cycle", "", "524B(b)(2) cycle: regular or out-of-cycle")
	set.Flags().StringVar(&p.SSVC, "ssvc", "", "the SSVC decision that justifies the cycle (default: the latest assessment's)")
	set.Flags().StringArrayVar(&controls, "control", nil, "an interim compensating control: WHAT|WHERE DOCUMENTED|SINCE (repeatable)")
	set.Flags().StringVar(&date, "date", "", "the day this version was decided (default today)")
	set.Flags().StringVar(&p.Reason, "reason", "", "why this version replaces the one before (required after the first)")

	show := &cobra.Command{Use: "show CASE", Short: "Show a case's remediation: the plan and its history, fixes, field deployment, PM2025 metrics", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("CASE", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				r, err := a.Remediation.Remediation(env.actx(), id)
				if err != nil {
					return err
				}
				return printRemediation(env, r)
			})
		}}

	var f vigil.FixRelease
	fix := &cobra.Command{Use: "fix CASE --release R", Short: "Record a release that fixes the case (then `plan vv` and `plan distribute` it)", Args: exactArgs(1),
		Example: "  vigil plan fix 7 --release 3.2.2 --description \"wolfSSL 5.5.0\"",
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("CASE", args[0])
			if err != nil {
				return err
			}
			in := f
			in.CaseID = id
			return env.withApp(func(a *app.App) error {
				r, err := a.Remediation.AddFix(env.actx(), &in)
				if err != nil {
					return err
				}
				return printRemediation(env, r)
			})
		}}
	fix.Flags().StringVar(&f.Release, "release", "", "the device version that carries the fix (required)")
	fix.Flags().StringVar(&f.Remediation, "remediation", vigil.RemediationPatch, "patch or compensating_control (a validated control as the long-term remediation)")
	fix.Flags().StringVar(&f.Description, "description", "", "what the release changes")

	var vv vigil.VVRecord
	var validated, vvReason string
	var vvSign signFlags
	vvCmd := &cobra.Command{Use: "vv FIX --protocol P --report R --result passed|failed --approver NAME --validated DATE",
		Short: "Record a fix's verification and validation record (21 CFR 820.30(g))", Args: exactArgs(1),
		Example: "  vigil plan vv 3 --protocol VVP-2026-031 --report VVR-2026-031 --result passed --approver \"J. Smith, QA\" --validated 2026-02-10",
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("FIX", args[0])
			if err != nil {
				return err
			}
			in := vv
			if in.Validated, err = requiredDate("validated", validated); err != nil {
				return err
			}
			sig, err := vvSign.actSignature(env)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				r, err := a.Remediation.SetVV(env.actx(), id, in, vvReason, sig)
				if err != nil {
					return err
				}
				return printRemediation(env, r)
			})
		}}
	vvCmd.Flags().StringVar(&vv.Protocol, "protocol", "", "the V&V protocol's reference")
	vvCmd.Flags().StringVar(&vv.Report, "report", "", "the V&V report's reference")
	vvCmd.Flags().StringVar(&vv.Result, "result", "", "passed or failed")
	vvCmd.Flags().StringVar(&vv.Approver, "approver", "", "who approved the report")
	vvCmd.Flags().StringVar(&validated, "validated", "", "the day the fix was validated")
	vvCmd.Flags().StringVar(&vvReason, "reason", "", "why a recorded V&V record is replaced")
	vvSign.addAct(vvCmd)

	var dist vigil.Distribution
	var distDate, distReason string
	distribute := &cobra.Command{Use: "distribute FIX --date DATE --channel CHANNEL",
		Short: "Record a validated fix's distribution; it records the case's fix_distributed event (ED criterion 3)", Args: exactArgs(1),
		Example: "  vigil plan distribute 3 --date 2026-02-12 --channel \"remote update (service bulletin SB-2026-04)\"",
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("FIX", args[0])
			if err != nil {
				return err
			}
			in := dist
			if in.Date, err = requiredDate("date", distDate); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				r, err := a.Remediation.Distribute(env.actx(), id, in, distReason)
				if err != nil {
					return err
				}
				return printRemediation(env, r)
			})
		}}
	distribute.Flags().StringVar(&distDate, "date", "", "the day it was distributed")
	distribute.Flags().StringVar(&dist.Channel, "channel", "", "how: remote update, service bulletin, field service visit, ...")
	distribute.Flags().StringVar(&distReason, "reason", "", "a note for the audit trail")

	var retractVV, retractRelease bool
	var retractReason string
	retract := &cobra.Command{Use: "retract FIX (--vv | --release) --reason TEXT",
		Short: "Withdraw a fix's V&V record (a distributed fix then no longer meets criterion 3) or the fix release itself, with a reason; both stay on record",
		Args:  exactArgs(1),
		Example: "  vigil plan retract 3 --vv --reason \"VVR-2026-031 tested the wrong build\"\n" +
			"  vigil plan retract 3 --release --reason \"Release 3.2.2 recalled (field action FA-7)\"",
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("FIX", args[0])
			if err != nil {
				return err
			}
			if retractVV == retractRelease {
				return Usage("one of --vv (the V&V record) or --release (the fix release)")
			}
			return env.withApp(func(a *app.App) error {
				retract := a.Remediation.RetractFix
				if retractVV {
					retract = a.Remediation.RetractVV
				}
				r, err := retract(env.actx(), id, retractReason)
				if err != nil {
					return err
				}
				return printRemediation(env, r)
			})
		}}
	retract.Flags().BoolVar(&retractVV, "vv", false, "withdraw the fix's V&V record")
	retract.Flags().BoolVar(&retractRelease, "release", false, "withdraw the fix release")
	retract.Flags().StringVar(&retractReason, "reason", "", "why (required; recorded in the audit trail and on the case)")

	var dep vigil.Deployment
	var consignee, version, depDate string
	deploy := &cobra.Command{Use: "deploy CASE --consignee C --version V --units N --date DATE",
		Short: "Record units updated at a consignee (a running total for that consignee and version)", Args: exactArgs(1),
		Example: "  vigil plan deploy 7 --consignee 2 --version 3.2.1 --units 40 --date 2026-02-20 --note \"biomed confirmed by e-mail\"",
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("CASE", args[0])
			if err != nil {
				return err
			}
			in := dep
			in.CaseID = id
			if in.ConsigneeID, err = parseID("--consignee", consignee); err != nil {
				return err
			}
			if in.Date, err = requiredDate("date", depDate); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				cv, err := a.Cases.CaseView(env.actx(), id, vigil.Date{})
				if err != nil {
					return err
				}
				v, err := a.Portfolio.VersionByName(env.actx(), cv.Device.ID, version)
				if err != nil {
					return err
				}
				in.VersionID = v.ID
				r, err := a.Remediation.AddDeployment(env.actx(), &in)
				if err != nil {
					return err
				}
				return printRemediation(env, r)
			})
		}}
	deploy.Flags().StringVar(&consignee, "consignee", "", "the consignee's id (vigil consignee list)")
	deploy.Flags().StringVar(&version, "version", "", "the affected version the units run")
	deploy.Flags().IntVar(&dep.Units, "units", 0, "how many of its units of that version now carry the fix")
	deploy.Flags().StringVar(&depDate, "date", "", "as of which day")
	deploy.Flags().StringVar(&dep.Note, "note", "", "where the report is (e-mail, service record)")

	sync := &cobra.Command{Use: "sync CASE", Short: "Record any case event the remediation records call for and the case lacks (after a failed write)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("CASE", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				r, err := a.Remediation.Sync(env.actx(), id)
				if err != nil {
					return err
				}
				return printRemediation(env, r)
			})
		}}

	metrics := &cobra.Command{Use: "metrics DEVICE", Short: "The PM2025 remediation metrics of every case of a device", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				d, err := lookupDevice(env, a, args[0])
				if err != nil {
					return err
				}
				m, err := a.Remediation.DeviceMetrics(env.actx(), d.ID)
				if err != nil {
					return err
				}
				return env.Output(m, func() ([]string, [][]string) {
					var rows [][]string
					for _, c := range m.Cases {
						rows = append(rows, []string{strconv.FormatInt(c.CaseID, 10), c.Vulnerability, string(c.Risk), c.Metrics.Distributed.String(),
							days(c.Metrics.DaysToPatch), days(c.Metrics.DaysToField), fmt.Sprintf("%d/%d (%.1f%%)", c.Metrics.Remediated, c.Metrics.Units, c.Metrics.Percent)})
					}
					return []string{"CASE", "VULNERABILITY", "RISK", "DISTRIBUTED", "DAYS TO PATCH", "DAYS TO FIELD", "REMEDIATED"}, rows
				})
			})
		}}
	cmd.AddCommand(set, show, fix, vvCmd, distribute, retract, deploy, sync, metrics)
	return cmd
}

func days(n *int) string {
	if n == nil {
		return "-"
	}
	return strconv.Itoa(*n)
}

// printRemediation prints a remediation as JSON, or as sections for people.
func printRemediation(env *Env, r *remediation.Remediation) error {
	if env.Format == "json" {
		return env.JSON(r)
	}
	if env.Format != "table" && env.Format != "" {
		return Usage("--format: %q is not one of json, table", env.Format)
	}
	w := env.Stdout
	fmt.Fprintf(w, "%s\n\n", r.Case)
	if r.Plan == nil {
		fmt.Fprintln(w, "Plan: none yet (vigil plan set).")
	} else {
		p := r.Plan
		fmt.Fprintf(w, "Plan version %d of %s by %s\n", p.Version, p.Date, p.Actor)
		if p.FixRelease != "" {
			fmt.Fprintf(w, "  Fix: %s by %s, %s cycle; SSVC %s\n", p.FixRelease, p.TargetDate, orDash(p.Cycle), orDash(p.SSVC))
		}
		for _, c := range p.Controls {
			fmt.Fprintf(w, "  Control: %s (%s), in place since %s\n", cell(c.What), cell(c.Documented), c.Since)
		}
		fmt.Fprintf(w, "  Rationale: %s\n", cell(p.Rationale))
		if len(r.History) > 1 {
			fmt.Fprintln(w, "  History:")
			for _, h := range r.History {
				fmt.Fprintf(w, "    v%d %s %s: fix %s by %s; %d control(s)%s\n", h.Version, h.Date, h.Actor, orDash(h.FixRelease), dateOrDash(h.TargetDate), len(h.Controls), reasonSuffix(h.Reason))
			}
		}
	}
	fmt.Fprintln(w)
	if len(r.Fixes) > 0 {
		rows := [][]string{}
		for _, f := range r.Fixes {
			vv, dist, ev := "-", "-", "-"
			if f.VV != nil {
				vv = fmt.Sprintf("%s %s %s (%s)", f.VV.Report, f.VV.Result, f.VV.Validated, f.VV.Approver)
			} else if n := len(f.VVRetractions); n > 0 {
				vv = fmt.Sprintf("%s retracted: %s", f.VVRetractions[n-1].VV.Report, f.VVRetractions[n-1].Reason)
			}
			if f.Distribution != nil {
				dist = f.Distribution.Date.String() + " " + f.Distribution.Channel
			}
			if f.EventID != 0 {
				ev = "E" + strconv.FormatInt(f.EventID, 10)
			}
			rows = append(rows, []string{strconv.FormatInt(f.ID, 10), f.Release, f.Remediation, vv, dist, ev})
		}
		if err := env.Table([]string{"FIX", "RELEASE", "REMEDIATION", "V&V", "DISTRIBUTED", "EVENT"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	for _, f := range r.Retracted {
		fmt.Fprintf(w, "Fix %d (%s) retracted %s by %s: %s\n", f.ID, f.Release, f.Retraction.At.UTC().Format("2006-01-02"), f.Retraction.Actor, f.Retraction.Reason)
	}
	rows := [][]string{}
	for _, f := range r.Field {
		rows = append(rows, []string{f.Version, strconv.Itoa(f.Units), strconv.Itoa(f.Remediated), orDash(f.Source)})
	}
	if err := env.Table([]string{"VERSION", "UNITS", "REMEDIATED", "FROM"}, rows); err != nil {
		return err
	}
	m := r.Metrics
	_, err := fmt.Fprintf(w, "\nDays to patch: %s; days from patch to field: %s; fielded units remediated: %d of %d (%.1f%%)\n",
		days(m.DaysToPatch), days(m.DaysToField), m.Remediated, m.Units, m.Percent)
	return err
}

func dateOrDash(d vigil.Date) string {
	if d.IsZero() {
		return "-"
	}
	return d.String()
}

func reasonSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " — " + cell(s)
}
