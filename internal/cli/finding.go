package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cases"
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
	cmd := &cobra.Command{Use: "finding", Short: "Findings (component × version matches), each evidence of its case (`vigil case` assesses and records events)"}
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
	show := &cobra.Command{Use: "show ID", Short: "Show a finding as evidence of its case: the case's records, live determination and clocks", Args: exactArgs(1),
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
				v, err := a.Cases.FindingView(env.actx(), id, at)
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(v)
				}
				return printView(env, a, v)
			})
		}}
	show.Flags().StringVar(&asOf, "as-of", "", "determine as of this date (default today)")

	cmd.AddCommand(list, create, show, closeCmd(env), summaryCmd(env))
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
			at, err := parseAsOf(asOf)
			if err != nil {
				return err
			}
			switch env.Format {
			case "json", "markdown", "table", "":
			default:
				return Usage("--format: %q is not one of markdown, json", env.Format)
			}
			return env.withApp(func(a *app.App) error {
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

func deadlinesCmd(env *Env) *cobra.Command {
	var f cases.DeadlineFilter
	var within, device, asOf string
	cmd := &cobra.Command{Use: "deadlines [--as-of DATE] [--within 14d] [--overdue]", Short: "Every open obligation across the portfolio's cases (closed ones keep theirs): urgent first, then soonest", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) (err error) {
			if f.AsOf, err = parseAsOf(asOf); err != nil {
				return err
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
						if d.Urgent {
							left = "NOW"
						}
						subject := strconv.FormatInt(d.CaseID, 10)
						if d.Report != "" {
							subject = d.Report
						}
						rows = append(rows, []string{d.Due.String(), left, d.Clock, subject, d.Device, d.Vulnerability, string(d.CaseState), d.Status})
					}
					return []string{"DUE", "DAYS", "CLOCK", "CASE/REPORT", "DEVICE", "VULNERABILITY", "CASE STATE", "STATUS"}, rows
				})
			})
		}}
	cmd.Flags().BoolVar(&f.OverdueOnly, "overdue", false, "only clocks already overdue")
	cmd.Flags().StringVar(&within, "within", "", "only clocks due within this many days (e.g. 14d)")
	cmd.Flags().StringVar(&device, "device", "", "only this device")
	cmd.Flags().StringVar(&asOf, "as-of", "", "compute the clocks as of this date, YYYY-MM-DD (default today): what was open, due and overdue that day")
	return cmd
}
