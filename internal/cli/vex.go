package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/publish/csaf"
	vexdoc "github.com/vigil-dev/vigil/internal/vex"
)

func init() { register(vexCmd) }

func vexTable(ps []*vigil.VEXProposal) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, p := range ps {
			rows = append(rows, []string{strconv.FormatInt(p.ID, 10), strconv.FormatInt(p.FindingID, 10), p.Statement.Vulnerability,
				p.Statement.Product.String(), string(p.Statement.Status), p.Statement.Justification, string(p.State), p.Document})
		}
		return []string{"ID", "FINDING", "VULNERABILITY", "PRODUCT", "STATUS", "JUSTIFICATION", "STATE", "DOCUMENT"}, rows
	}
}

func vexCmd(env *Env) *cobra.Command {
	var exDevice, exVersion, namespace string
	cmd := &cobra.Command{Use: "vex --device D --version V --format openvex|cyclonedx|csaf",
		Short: "A device version's VEX from its assessed cases (OpenVEX 0.2.0, CycloneDX 1.6, CSAF VEX); supplier VEX documents: import, list, accept or reject",
		Example: "  vigil vex --device \"Infusion Pump IP-3\" --version 3.2.1 --format openvex > ip3-3.2.1.openvex.json\n" +
			"  vigil vex --device \"Infusion Pump IP-3\" --version 3.2.1 --format cyclonedx",
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if exDevice == "" || exVersion == "" {
				return Usage("--device and --version are required (or a subcommand: import, list, accept, reject)")
			}
			if !slices.Contains(vexFormats, env.Format) {
				return Usage("--format: %q is not one of %s", env.Format, strings.Join(vexFormats, ", "))
			}
			return env.withApp(func(a *app.App) error {
				v, err := lookupVersion(env, a, exDevice, exVersion)
				if err != nil {
					return err
				}
				d, err := a.Remediation.DeviceVEX(env.actx(), v.DeviceID, v.ID)
				if err != nil {
					return err
				}
				if env.Format == "csaf" && namespace == "" {
					if p, err := a.Intake.Policy(env.actx()); err == nil {
						namespace = p.BaseURL
					}
					if namespace == "" {
						return Usage("--namespace: required for csaf (the manufacturer's https URL), or publish the CVD policy's base URL")
					}
				}
				return writeDeviceVEX(env, d, namespace)
			})
		}}
	cmd.Flags().StringVar(&exDevice, "device", "", "the device (name or id)")
	cmd.Flags().StringVar(&exVersion, "version", "", "the device version")
	cmd.Flags().StringVar(&namespace, "namespace", "", "csaf: the publisher's namespace, the manufacturer's https URL (default: the CVD policy's base URL)")
	var device, version string
	imp := &cobra.Command{Use: "import FILE", Short: "Import a CycloneDX VEX, OpenVEX or CSAF VEX document as proposals on the open findings it matches", Args: exactArgs(1),
		Example: "  vigil vex import supplier-vex.json                       # every matching open finding\n" +
			"  vigil vex import acme.openvex.json --device Pump --version 3.2.1",
		RunE: func(c *cobra.Command, args []string) error {
			if version != "" && device == "" {
				return Usage("--version needs --device")
			}
			f, err := os.Open(args[0])
			if err != nil {
				return vigil.Errorf(vigil.EINVALID, "%s: %v", args[0], err)
			}
			defer f.Close()
			return env.withApp(func(a *app.App) error {
				var versionID int64
				if device != "" {
					d, err := lookupDevice(env, a, device)
					if err != nil {
						return err
					}
					if version == "" {
						return Usage("--device needs --version (or neither, for the whole portfolio)")
					}
					v, err := a.Portfolio.VersionByName(env.actx(), d.ID, version)
					if err != nil {
						return err
					}
					versionID = v.ID
				}
				res, err := a.VEX.ImportVEX(env.actx(), filepath.Base(args[0]), f, versionID)
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(res)
				}
				d := res.Document
				fmt.Fprintf(env.Stderr, "%s: %s VEX by %s, %d statement(s): %d proposal(s), %d matching no open finding, %d without a status\n",
					d.Name, d.Format, orDash(d.Author), d.Statements, len(res.Proposals), res.Unmatched, res.Skipped)
				if len(res.Proposals) > 0 {
					fmt.Fprintln(env.Stderr, "Accept or reject each: vigil vex accept ID --reason ... (accepting not_affected or fixed closes the finding)")
				}
				return env.Output(res, vexTable(res.Proposals))
			})
		}}
	imp.Flags().StringVar(&device, "device", "", "only findings of this device (name or id; with --version)")
	imp.Flags().StringVar(&version, "version", "", "only findings of this version of --device")
	var states []string
	var finding int64
	list := &cobra.Command{Use: "list", Short: "List proposals (default: those waiting for a decision)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			f := vigil.VEXFilter{FindingID: finding}
			for _, s := range states {
				if s == "all" {
					f.States = nil
					break
				}
				f.States = append(f.States, vigil.VEXProposalState(s))
			}
			if states == nil {
				f.States = []vigil.VEXProposalState{vigil.VEXProposed}
			}
			return env.withApp(func(a *app.App) error {
				ps, err := a.VEX.VEXProposals(env.actx(), f)
				if err != nil {
					return err
				}
				return env.Output(ps, vexTable(ps))
			})
		}}
	list.Flags().StringSliceVar(&states, "state", nil, "proposed, accepted, rejected or all (default proposed)")
	list.Flags().Int64Var(&finding, "finding", 0, "only proposals on this finding")
	cmd.AddCommand(imp, list, vexDecideCmd(env, true), vexDecideCmd(env, false))
	return cmd
}

func vexDecideCmd(env *Env, accept bool) *cobra.Command {
	verb, short := "reject", "Reject a proposed VEX status, with the reason"
	if accept {
		verb, short = "accept", "Accept a proposed VEX status, with the reason (not_affected and fixed close the finding)"
	}
	var reason string
	c := &cobra.Command{Use: verb + " ID --reason TEXT", Short: short, Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			if err := needReason(reason); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				p, err := a.VEX.DecideVEX(env.actx(), id, accept, reason)
				if err != nil {
					return err
				}
				return env.Output(p, vexTable([]*vigil.VEXProposal{p}))
			})
		}}
	c.Flags().StringVar(&reason, "reason", "", "why (required; it goes into the audit trail)")
	return c
}

// vexFormats are the outputs of `vigil vex --device D --version V`: the documents, or the statements for people.
var vexFormats = []string{"openvex", "cyclonedx", "csaf", "json", "table"}

// writeDeviceVEX writes a device version's VEX in the --format asked for.
func writeDeviceVEX(env *Env, d *vigil.DeviceVEX, namespace string) error {
	switch env.Format {
	case "openvex":
		return vexdoc.WriteOpenVEX(env.Stdout, d, toolVersion)
	case "cyclonedx":
		return vexdoc.WriteCycloneDX(env.Stdout, d, toolVersion)
	case "csaf":
		return vexdoc.WriteCSAF(env.Stdout, d, csaf.Publisher{Name: d.Author, Namespace: namespace})
	case "json":
		return env.JSON(d)
	}
	rows := [][]string{}
	for _, s := range d.Statements {
		why := s.ActionStatement
		switch s.Status {
		case vigil.VEXNotAffected:
			why = strings.TrimSpace(string(s.Justification) + " " + s.ImpactStatement)
		case vigil.VEXFixed, vigil.VEXUnderInvestigation:
			why = s.Detail
		}
		rows = append(rows, []string{strconv.FormatInt(s.CaseID, 10), s.Vulnerability, string(s.Status), why})
	}
	return env.Table([]string{"CASE", "VULNERABILITY", "STATUS", "JUSTIFICATION / ACTION / DETAIL"}, rows)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
