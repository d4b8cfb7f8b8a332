package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/report"
	"github.com/vigil-dev/vigil/internal/service/regdocs"
)

func init() { register(reportCmd) }

// reportFlags are the flags every document takes.
type reportFlags struct {
	caseID int64
	device string
	period int
	out    string
}

func reportCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Regulatory documents: 806 report draft and amendment, 806.20 record, premarket decision, PMA periodic report, 524B statements, Cybersecurity Management Plan",
		Long: `Each document is built from live data, states its data cut-off and the audit head it was generated from, and
its generation is recorded in the audit trail. --format md (default), html, pdf or json; the document goes to stdout,
or to -o FILE.`}

	doc := func(kind, short, example string, extra func(c *cobra.Command, f *reportFlags) func(a *app.App, t regdocs.Target) (bool, error)) *cobra.Command {
		var f reportFlags
		c := &cobra.Command{Use: kind, Short: short, Example: example, Args: exactArgs(0)}
		var act func(a *app.App, t regdocs.Target) (bool, error)
		if extra != nil {
			act = extra(c, &f)
		}
		c.RunE = func(c *cobra.Command, _ []string) error {
			format := env.Format
			if format == "table" {
				format = report.Markdown
			}
			if err := report.CheckFormat(format); err != nil {
				return Usage("--format: %q: want md, html, pdf or json", env.Format)
			}
			return env.withApp(func(a *app.App) error {
				t := regdocs.Target{CaseID: f.caseID, Period: f.period}
				if f.device != "" {
					d, err := reportDevice(env, a, f.device)
					if err != nil {
						return err
					}
					t.DeviceID = d.ID
				}
				if act != nil {
					if done, err := act(a, t); err != nil || done {
						return err
					}
				}
				var buf bytes.Buffer
				if _, err := a.Reports.Render(env.actx(), kind, t, format, &buf); err != nil {
					return err
				}
				return env.writeDocument(f.out, buf.Bytes())
			})
		}
		if kind == regdocs.KindPMA || kind == regdocs.Kind524B || kind == regdocs.KindCMP {
			c.Flags().StringVar(&f.device, "device", "", "the device (name or id)")
			c.MarkFlagRequired("device")
		} else {
			c.Flags().Int64Var(&f.caseID, "case", 0, "the case id")
			c.MarkFlagRequired("case")
		}
		if kind == regdocs.KindPMA {
			c.Flags().IntVar(&f.period, "period", 0, "the year the reporting period ends in (it ends the day before the approval anniversary)")
			c.MarkFlagRequired("period")
		}
		c.Flags().StringVarP(&f.out, "output", "o", "", "write the document to FILE instead of stdout")
		return c
	}

	filing := func(what string, file func(a *app.App, t regdocs.Target, date vigil.Date, reason string, sig *vigil.SignRequest) (*vigil.RegRecord, error)) func(c *cobra.Command, f *reportFlags) func(a *app.App, t regdocs.Target) (bool, error) {
		return func(c *cobra.Command, f *reportFlags) func(a *app.App, t regdocs.Target) (bool, error) {
			var mark bool
			var date, reason string
			var sf signFlags
			sf.addAct(c)
			c.Flags().BoolVar(&mark, "file", false, "mark the "+what+" filed (assigns its number; records part806_filed on the case for a report)")
			c.Flags().StringVar(&date, "date", "", "the day it was filed (YYYY-MM-DD, default today)")
			c.Flags().StringVar(&reason, "reason", "", "why, for the audit trail")
			return func(a *app.App, t regdocs.Target) (bool, error) {
				if !mark {
					return false, nil
				}
				var d vigil.Date
				if date != "" {
					var err error
					if d, err = vigil.ParseDate(date); err != nil {
						return true, Usage("--date: %s", vigil.ErrorMessage(err))
					}
				}
				sig, err := sf.actSignature(env)
				if err != nil {
					return true, err
				}
				r, err := file(a, t, d, reason, sig)
				if err != nil {
					return true, err
				}
				if env.Format == "json" {
					return true, env.JSON(r)
				}
				fmt.Fprintf(env.Stdout, "%s %s marked filed on %s\n", what, r.ReportNumber, r.Date)
				return true, nil
			}
		}
	}

	cmd.AddCommand(
		doc(regdocs.KindPart806, "The 21 CFR 806.10 report draft of a case whose correction is reportable; --file marks it filed", "  vigil report 806 --case 7 --format pdf -o 806.pdf\n  vigil report 806 --case 7 --file --date 2026-03-02",
			filing("806 report", func(a *app.App, t regdocs.Target, d vigil.Date, reason string, sig *vigil.SignRequest) (*vigil.RegRecord, error) {
				return a.Reports.File806(env.actx(), t.CaseID, d, reason, sig)
			})),
		doc(regdocs.KindPart806Amendment, "The 806.10(d) amendment of a filed report when the correction extends to more lots; --file marks it filed", "  vigil report 806-amendment --case 7",
			filing("806 amendment of", func(a *app.App, t regdocs.Target, d vigil.Date, reason string, sig *vigil.SignRequest) (*vigil.RegRecord, error) {
				return a.Reports.File806Amendment(env.actx(), t.CaseID, d, reason, sig)
			})),
		doc(regdocs.KindPart806Record, "The 806.20 record of a correction not reported (ED met, controlled risk, or covered by an MDR); --sign-off signs it off", "  vigil report 806.20 --case 7 --sign-off",
			func(c *cobra.Command, f *reportFlags) func(a *app.App, t regdocs.Target) (bool, error) {
				var sign bool
				var reason string
				var sf signFlags
				c.Flags().BoolVar(&sign, "sign-off", false, "sign off the record as it stands (its justification's digest, you, now)")
				sf.addAct(c)
				c.Flags().StringVar(&reason, "reason", "", "why, for the audit trail")
				return func(a *app.App, t regdocs.Target) (bool, error) {
					if !sign {
						return false, nil
					}
					sig, err := sf.actSignature(env)
					if err != nil {
						return true, err
					}
					so, err := a.Reports.SignOff80620(env.actx(), t.CaseID, reason, sig)
					if err != nil {
						return true, err
					}
					if env.Format == "json" {
						return true, env.JSON(so)
					}
					fmt.Fprintf(env.Stdout, "806.20 record of case %d signed off by %s on %s (record %d, justification %s)\n", t.CaseID, so.By, so.Date, so.ID, so.JustificationSHA256[:16])
					for _, m := range so.Signatures {
						fmt.Fprintln(env.Stdout, m)
					}
					if len(so.Signatures) == 0 {
						fmt.Fprintf(env.Stdout, "not signed electronically yet: vigil sign %s %d --meaning approval --user NAME\n", regdocs.SignKind, so.ID)
					}
					return true, nil
				}
			}),
		doc(regdocs.KindPremarket, "The premarket decision record of a case; --decide records the decision with its --basis", "  vigil report premarket --case 7 --decide none --basis \"software patch within the cleared design; no change to intended use\"",
			func(c *cobra.Command, f *reportFlags) func(a *app.App, t regdocs.Target) (bool, error) {
				var p regdocs.PremarketDecision
				var date, reason string
				var sf signFlags
				sf.addAct(c)
				c.Flags().StringVar(&p.Decision, "decide", "", "pma_supplement (814.39), 30_day_notice (814.39(f)), 510k (807.81(a)(3)) or none")
				c.Flags().StringVar(&p.Basis, "basis", "", "why (required with --decide)")
				c.Flags().StringVar(&p.Submission, "submission", "", "the submission's number, once known")
				c.Flags().StringVar(&date, "date", "", "the day it was decided (YYYY-MM-DD, default today)")
				c.Flags().StringVar(&reason, "reason", "", "why, for the audit trail (default: the basis)")
				return func(a *app.App, t regdocs.Target) (bool, error) {
					if p.Decision == "" {
						return false, nil
					}
					if date != "" {
						var err error
						if p.Date, err = vigil.ParseDate(date); err != nil {
							return true, Usage("--date: %s", vigil.ErrorMessage(err))
						}
					}
					sig, err := sf.actSignature(env)
					if err != nil {
						return true, err
					}
					r, err := a.Reports.DecidePremarket(env.actx(), t.CaseID, p, reason, sig)
					if err != nil {
						return true, err
					}
					if env.Format == "json" {
						return true, env.JSON(r)
					}
					fmt.Fprintf(env.Stdout, "premarket decision of case %d: %s (%s)\n", t.CaseID, r.Decision, r.Date)
					for _, m := range r.Signatures {
						fmt.Fprintln(env.Stdout, m)
					}
					return true, nil
				}
			}),
		doc(regdocs.KindPMA, "The PMA periodic report section (21 CFR 814.84) of a device for the period ending in --period", "  vigil report pma --device \"ICD-7\" --period 2026 --format pdf -o pma-2026.pdf", nil),
		doc(regdocs.Kind524B, "The 524B statements of a cyber device for a new submission", "  vigil report 524b --device \"Infusion Pump IP-3\"", nil),
		doc(regdocs.KindCMP, "The Cybersecurity Management Plan of a device line", "  vigil report cmp --device \"Infusion Pump IP-3\" --format html -o cmp.html", nil),
		reportSettingsCmd(env),
	)
	return cmd
}

func reportSettingsCmd(env *Env) *cobra.Command {
	var device, set, reason string
	c := &cobra.Command{Use: "settings [--device D] [--set FILE.json --reason TEXT]", Short: "The documents' settings (address, responsible person, people, listing number, plan text) of the organization or a device line",
		Example: `  vigil report settings --set org-settings.json --reason "regulatory affairs contacts"
  vigil report settings --device "Infusion Pump IP-3"`, Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				var id int64
				if device != "" {
					d, err := reportDevice(env, a, device)
					if err != nil {
						return err
					}
					id = d.ID
				}
				if set != "" {
					b, err := readInput(env, set)
					if err != nil {
						return err
					}
					var st regdocs.Settings
					dec := json.NewDecoder(bytes.NewReader(b))
					dec.DisallowUnknownFields()
					if err := dec.Decode(&st); err != nil {
						return vigil.Errorf(vigil.EINVALID, "%s: %v", set, err)
					}
					if err := a.Reports.SetSettings(env.actx(), id, st, reason); err != nil {
						return err
					}
				}
				st, err := a.Reports.Settings(env.actx(), id)
				if err != nil {
					return err
				}
				return env.JSON(st)
			})
		}}
	c.Flags().StringVar(&device, "device", "", "a device line (name or id): its own settings over the organization's")
	c.Flags().StringVar(&set, "set", "", "record these settings (a JSON file, - for stdin) replacing the previous ones")
	c.Flags().StringVar(&reason, "reason", "", "why, for the audit trail")
	return c
}

// reportDevice finds a device by name, or by id when the name is a number no device has.
func reportDevice(env *Env, a *app.App, ref string) (*vigil.Device, error) {
	d, err := lookupDevice(env, a, ref)
	if vigil.ErrorCode(err) == vigil.ENOTFOUND {
		if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
			return a.Portfolio.Device(env.actx(), id)
		}
	}
	return d, err
}

func readInput(env *Env, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(env.Stdin, 1<<20))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: %v", path, err)
	}
	return b, nil
}

// writeDocument writes a document to out, or to stdout when out is empty.
func (e *Env) writeDocument(out string, b []byte) error {
	if out == "" {
		_, err := e.Stdout.Write(b)
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return vigil.Errorf(vigil.EINVALID, "-o %s: %v", out, err)
	}
	return nil
}
