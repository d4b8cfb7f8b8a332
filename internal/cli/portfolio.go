package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/risk"
)

func init() {
	register(orgCmd)
	register(deviceCmd)
	register(versionCmd)
	register(consigneeCmd)
}

// ---- vigil org

type orgFlags struct {
	name, fei, regNo, tz, contact, isaoFile string
	ack                                     int
	workingDays, reassessmentClock, matrix  string
	roll                                    bool
}

func (f *orgFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.name, "name", "", "organization name")
	c.Flags().StringVar(&f.fei, "fei", "", "FDA Establishment Identifier (FEI)")
	c.Flags().StringVar(&f.regNo, "registration", "", "FDA establishment registration number (21 CFR 807): an 806 report number starts with it")
	c.Flags().StringVar(&f.tz, "time-zone", "UTC", "IANA time zone for regulatory dates (e.g. America/Chicago)")
	c.Flags().StringVar(&f.contact, "cvd-contact", "", "where researchers report vulnerabilities (email or URL)")
	c.Flags().IntVar(&f.ack, "cvd-ack-days", 5, "business days promised to acknowledge a researcher's report")
	c.Flags().StringVar(&f.workingDays, "working-days", "federal", "how 806/803 working days are counted: federal (Mon-Fri minus US federal holidays) or weekdays (Mon-Fri)")
	c.Flags().BoolVar(&f.roll, "roll-deadlines", false, "move calendar-day deadlines falling on a non-working day to the next working day")
	c.Flags().StringVar(&f.reassessmentClock, "reassessment-clock", "reassessed", "when a controlled risk is reassessed as uncontrolled, the ED clocks run from the reassessment (reassessed) or from the first determination, the date learned (first)")
	c.Flags().StringVar(&f.matrix, "acceptance-matrix", "", `the organization's risk acceptance matrix: a JSON file, or "default" (a device's own matrix overrides it)`)
}

func (f *orgFlags) apply(c *cobra.Command, o *vigil.Organization) error {
	if changed(c, "name") {
		o.Name = f.name
	}
	if changed(c, "fei") {
		o.FEINumber = f.fei
	}
	if changed(c, "registration") {
		o.RegistrationNumber = f.regNo
	}
	if changed(c, "time-zone") || o.TimeZone == "" {
		o.TimeZone = f.tz
	}
	if changed(c, "cvd-contact") {
		o.CVDContact = f.contact
	}
	if changed(c, "cvd-ack-days") || o.CVDAckDays == 0 {
		o.CVDAckDays = f.ack
	}
	if f.isaoFile != "" {
		ms, err := readMemberships(f.isaoFile)
		if err != nil {
			return err
		}
		o.ISAOs = ms
	}
	if changed(c, "working-days") {
		o.Policy.WorkingDays = f.workingDays
	}
	if changed(c, "roll-deadlines") {
		o.Policy.RollDeadlines = f.roll
	}
	if changed(c, "reassessment-clock") {
		o.Policy.ReassessmentClock = f.reassessmentClock
	}
	if changed(c, "acceptance-matrix") {
		m, err := readMatrixFlag(c, "--acceptance-matrix", f.matrix)
		if err != nil {
			return err
		}
		o.Policy.AcceptanceMatrix = m
	}
	return nil
}

func orgTable(today vigil.Date, orgs ...*vigil.Organization) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, o := range orgs {
			var isaos []string
			for _, m := range o.ISAOs {
				s := m.Name
				if m.Device != "" {
					s += " [" + m.Device + "]"
				}
				if !m.Evidenced(today) {
					s += " (evidence incomplete)"
				}
				isaos = append(isaos, s)
			}
			rows = append(rows, []string{strconv.FormatInt(o.ID, 10), o.Name, o.FEINumber, o.RegistrationNumber, o.TimeZone, strings.Join(isaos, ", "), strconv.Itoa(o.CVDAckDays), policyText(o)})
		}
		return []string{"ID", "NAME", "FEI", "REGISTRATION", "TIME ZONE", "ISAOS", "CVD ACK DAYS", "POLICY"}, rows
	}
}

// policyText is the organization's policy in one cell: working days, roll, re-assessment clock, matrix.
func policyText(o *vigil.Organization) string {
	p, err := regulatory.OrgPolicy(o)
	if err != nil {
		return vigil.ErrorMessage(err)
	}
	roll := "no roll"
	if p.RollDeadlines {
		roll = "roll deadlines"
	}
	return fmt.Sprintf("%s days, %s, reassessment clock %s, matrix %s", p.WorkingDays, roll, p.ReassessmentClock, p.Matrix.ID())
}

func orgCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "The manufacturer: registration, time zone, ISAO memberships, CVD policy"}
	var cf orgFlags
	create := &cobra.Command{Use: "create", Short: "Create the organization", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			o := &vigil.Organization{}
			if err := cf.apply(c, o); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Portfolio.CreateOrg(env.actx(), o); err != nil {
					return err
				}
				return env.Output(o, orgTable(a.Cases.Today(env.actx()), o))
			})
		}}
	cf.bind(create)
	create.Flags().StringVar(&cf.isaoFile, "isaos", "", isaosFlagHelp)
	var uf orgFlags
	var reason string
	update := &cobra.Command{Use: "update [ID]", Short: "Change the organization's fields and regulatory policy (only the flags given)",
		Long: `Change the organization's fields and regulatory policy (only the flags given). ID may be left out when
there is one organization. A change of the policy (--working-days, --roll-deadlines, --reassessment-clock,
--acceptance-matrix, --cvd-ack-days) needs --reason: it changes every finding's determination, and the audit trail
records who changed it and why.`,
		Example: `  vigil org update --working-days weekdays --roll-deadlines=false --reassessment-clock first --reason "QMS-POL-12 rev C"`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				o, err := theOrg(env, a, args)
				if err != nil {
					return err
				}
				if err := uf.apply(c, o); err != nil {
					return err
				}
				if err := a.Portfolio.UpdateOrg(env.actx(), o, reason); err != nil {
					return err
				}
				return env.Output(o, orgTable(a.Cases.Today(env.actx()), o))
			})
		}}
	uf.bind(update)
	update.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit trail)")
	list := &cobra.Command{Use: "list", Short: "List organizations", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				orgs, err := a.Portfolio.Orgs(env.actx())
				if err != nil {
					return err
				}
				if orgs == nil {
					orgs = []*vigil.Organization{}
				}
				return env.Output(orgs, orgTable(a.Cases.Today(env.actx()), orgs...))
			})
		}}
	show := &cobra.Command{Use: "show ID", Short: "Show one organization", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				o, err := a.Portfolio.Org(env.actx(), id)
				if err != nil {
					return err
				}
				return env.Output(o, orgTable(a.Cases.Today(env.actx()), o))
			})
		}}
	cmd.AddCommand(create, update, list, show)
	return cmd
}

// theOrg reads the organization named by args[0], or the only one when args is empty.
func theOrg(env *Env, a *app.App, args []string) (*vigil.Organization, error) {
	if len(args) == 1 {
		id, err := parseID("ID", args[0])
		if err != nil {
			return nil, err
		}
		return a.Portfolio.Org(env.actx(), id)
	}
	orgs, err := a.Portfolio.Orgs(env.actx())
	if err != nil {
		return nil, err
	}
	if len(orgs) != 1 {
		return nil, Usage("ID: required: there are %d organizations (vigil org list)", len(orgs))
	}
	return orgs[0], nil
}

func parseID(name, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, vigil.Errorf(vigil.EINVALID, "%s: %q is not a positive integer id", name, s)
	}
	return id, nil
}

// ---- vigil device

type deviceFlags struct {
	name, model, class, pathway, number, use, sep, udi, pma, functions string
	cyber                                                              bool
	org                                                                int64
	matrix                                                             string
}

func (f *deviceFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.name, "name", "", "device name")
	c.Flags().StringVar(&f.model, "model", "", "model number")
	c.Flags().StringVar(&f.class, "class", "", "FDA class: I, II or III")
	c.Flags().StringVar(&f.pathway, "pathway", "", "510k, PMA, De Novo, HDE or exempt")
	c.Flags().StringVar(&f.number, "number", "", "submission number (K..., P..., DEN..., H...)")
	c.Flags().BoolVar(&f.cyber, "cyber-device", false, "a cyber device under FD&C Act 524B")
	c.Flags().StringVar(&f.use, "intended-use", "", "intended use")
	c.Flags().StringVar(&f.sep, "safety-performance", "", "safety and essential performance (free text)")
	c.Flags().StringVar(&f.functions, "functions", "", `clinical functions with severity of harm if compromised: "dose delivery=catastrophic,alarms=critical"`)
	c.Flags().StringVar(&f.udi, "udi-di", "", "UDI device identifier (GS1 GTIN, HIBCC or ICCBBA)")
	c.Flags().StringVar(&f.pma, "pma-anniversary", "", "PMA periodic-report anniversary (YYYY-MM-DD)")
	c.Flags().Int64Var(&f.org, "org", 0, "organization id (default: the only one)")
	c.Flags().StringVar(&f.matrix, "matrix", "", `JSON file with the device's risk acceptance matrix: {"name","version","uncontrolled":{"high":["serious",...],...}} (or "cells"); "default" returns to the program's`)
}

func (f *deviceFlags) apply(c *cobra.Command, d *vigil.Device) error {
	set := func(flag string, dst *string, v string) {
		if changed(c, flag) {
			*dst = v
		}
	}
	set("name", &d.Name, f.name)
	set("model", &d.Model, f.model)
	set("class", &d.Class, f.class)
	if changed(c, "pathway") {
		d.Pathway = vigil.Pathway(f.pathway)
	}
	set("number", &d.SubmissionNumber, f.number)
	set("intended-use", &d.IntendedUse, f.use)
	set("safety-performance", &d.SafetyPerformance, f.sep)
	set("udi-di", &d.UDIDI, f.udi)
	if changed(c, "cyber-device") {
		d.CyberDevice = f.cyber
	}
	if changed(c, "org") {
		d.OrgID = f.org
	}
	if changed(c, "pma-anniversary") {
		p, err := parseDateFlag("pma-anniversary", f.pma)
		if err != nil {
			return err
		}
		d.PMAAnniversary = p
	}
	if changed(c, "matrix") {
		m, err := readMatrixFlag(c, "--matrix", f.matrix)
		if err != nil {
			return err
		}
		d.AcceptanceMatrix = m
	}
	if changed(c, "functions") {
		d.Functions = []vigil.ClinicalFunction{}
		for i, part := range strings.Split(f.functions, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			name, sev, ok := strings.Cut(part, "=")
			if !ok {
				return vigil.Errorf(vigil.EINVALID, "--functions[%d]: %q: want NAME=SEVERITY", i, part)
			}
			d.Functions = append(d.Functions, vigil.ClinicalFunction{Name: strings.TrimSpace(name), Severity: strings.TrimSpace(sev)})
		}
	}
	return nil
}

// readMatrixFlag reads a matrix flag (flag is its name): a JSON file checked by the engine that will decide with it
// (so a mistake is named before anything is written), or "default" for none.
func readMatrixFlag(c *cobra.Command, flag, path string) (json.RawMessage, error) {
	if path == "default" {
		return nil, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, Usage("%s: %v", flag, err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, risk.MaxMatrixJSON+1))
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "%s %s: %v", flag, path, err)
	}
	m, err := risk.DecodeMatrix(b, flag+" "+path)
	if err != nil {
		return nil, err
	}
	if m.IsZero() {
		return nil, vigil.Errorf(vigil.EINVALID, "%s %s: empty; give a matrix, or \"default\" for the program's", flag, path)
	}
	if inc := m.Inconsistencies(); len(inc) > 0 {
		// Valid (the manufacturer owns the boundary) but most likely a slip: say so on stderr, not in the data.
		fmt.Fprintf(c.ErrOrStderr(), "vigil: warning: matrix %s accepts a risk it rejects at a lower level: %s\n", m.ID(), strings.Join(inc, "; "))
	}
	return json.Marshal(m)
}

func deviceTable(ds ...*vigil.Device) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, d := range ds {
			rows = append(rows, []string{strconv.FormatInt(d.ID, 10), d.Name, d.Model, d.Class, string(d.Pathway), d.SubmissionNumber, yesno(d.CyberDevice), d.UDIDI})
		}
		return []string{"ID", "NAME", "MODEL", "CLASS", "PATHWAY", "NUMBER", "524B", "UDI-DI"}, rows
	}
}

// lookupDevice finds a device by name or id.
func lookupDevice(env *Env, a *app.App, ref string) (*vigil.Device, error) {
	return a.Portfolio.DeviceByName(env.actx(), ref)
}

func deviceCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "device", Short: "Devices: class, pathway, 524B, safety and essential performance"}
	var cf deviceFlags
	create := &cobra.Command{Use: "create", Short: "Create a device", Args: exactArgs(0),
		Example: `  vigil device create --name "Infusion Pump IP-3" --class II --pathway 510k --number K201234 --cyber-device \
    --functions "dose delivery=catastrophic,occlusion alarm=critical"`,
		RunE: func(c *cobra.Command, _ []string) error {
			d := &vigil.Device{}
			if err := cf.apply(c, d); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Portfolio.CreateDevice(env.actx(), d); err != nil {
					return err
				}
				return env.Output(d, deviceTable(d))
			})
		}}
	cf.bind(create)
	var uf deviceFlags
	var reason string
	update := &cobra.Command{Use: "update DEVICE", Short: "Change a device's fields (only the flags given)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				d, err := lookupDevice(env, a, args[0])
				if err != nil {
					return err
				}
				if err := uf.apply(c, d); err != nil {
					return err
				}
				if err := a.Portfolio.UpdateDevice(env.actx(), d, reason); err != nil {
					return err
				}
				return env.Output(d, deviceTable(d))
			})
		}}
	uf.bind(update)
	update.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit trail)")
	list := &cobra.Command{Use: "list", Short: "List devices", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				ds, err := a.Portfolio.Devices(env.actx())
				if err != nil {
					return err
				}
				if ds == nil {
					ds = []*vigil.Device{}
				}
				return env.Output(ds, deviceTable(ds...))
			})
		}}
	show := &cobra.Command{Use: "show DEVICE", Short: "Show a device with its functions and versions", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				d, err := lookupDevice(env, a, args[0])
				if err != nil {
					return err
				}
				vs, err := a.Portfolio.Versions(env.actx(), d.ID)
				if err != nil {
					return err
				}
				if vs == nil {
					vs = []*vigil.DeviceVersion{}
				}
				out := struct {
					*vigil.Device
					Versions []*vigil.DeviceVersion `json:"versions"`
				}{d, vs}
				return env.Output(out, func() ([]string, [][]string) {
					rows := [][]string{{"name", d.Name}, {"model", d.Model}, {"class", d.Class}, {"pathway", string(d.Pathway) + " " + d.SubmissionNumber},
						{"cyber device (524B)", yesno(d.CyberDevice)}, {"intended use", d.IntendedUse}, {"safety & essential performance", d.SafetyPerformance},
						{"UDI-DI", d.UDIDI}, {"PMA anniversary", dateStr(d.PMAAnniversary)}}
					for _, f := range d.Functions {
						rows = append(rows, []string{"function", f.Name + " (harm if compromised: " + f.Severity + ")"})
					}
					for _, v := range vs {
						rows = append(rows, []string{"version", fmt.Sprintf("%s  %s  released %s  %d units", v.Version, v.Status, dateStr(v.ReleaseDate), v.UnitsFielded)})
					}
					return []string{"FIELD", "VALUE"}, rows
				})
			})
		}}
	cmd.AddCommand(create, update, list, show)
	return cmd
}

// ---- vigil version

type versionFlags struct {
	device, release, status, statusDate string
	units                               int
}

func (f *versionFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.device, "device", "", "device name or id (required)")
	c.Flags().StringVar(&f.release, "released", "", "release date (YYYY-MM-DD)")
	c.Flags().StringVar(&f.status, "status", "", "in_development, marketed, fielded (no longer marketed) or end_of_support")
	c.Flags().StringVar(&f.statusDate, "status-date", "", "date the status began (YYYY-MM-DD)")
	c.Flags().IntVar(&f.units, "units", 0, "units in the field")
}

func (f *versionFlags) apply(c *cobra.Command, v *vigil.DeviceVersion) error {
	var err error
	if changed(c, "released") {
		if v.ReleaseDate, err = parseDateFlag("released", f.release); err != nil {
			return err
		}
	}
	if changed(c, "status-date") {
		if v.StatusDate, err = parseDateFlag("status-date", f.statusDate); err != nil {
			return err
		}
	}
	if changed(c, "status") {
		v.Status = f.status
	}
	if changed(c, "units") {
		v.UnitsFielded = f.units
	}
	return nil
}

func versionTable(vs ...*vigil.DeviceVersion) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, v := range vs {
			rows = append(rows, []string{strconv.FormatInt(v.ID, 10), strconv.FormatInt(v.DeviceID, 10), v.Version, dateStr(v.ReleaseDate), v.Status, dateStr(v.StatusDate), strconv.Itoa(v.UnitsFielded)})
		}
		return []string{"ID", "DEVICE", "VERSION", "RELEASED", "STATUS", "SINCE", "UNITS"}, rows
	}
}

func needDevice(f *versionFlags) error {
	if f.device == "" {
		return Usage("--device is required")
	}
	return nil
}

func versionCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "version", Short: "Device versions (and `version compare` for package version order)"}
	var cf versionFlags
	create := &cobra.Command{Use: "create VERSION --device DEVICE", Short: "Create a device version", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := needDevice(&cf); err != nil {
				return err
			}
			v := &vigil.DeviceVersion{Version: args[0]}
			if err := cf.apply(c, v); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				d, err := lookupDevice(env, a, cf.device)
				if err != nil {
					return err
				}
				v.DeviceID = d.ID
				if err := a.Portfolio.CreateVersion(env.actx(), v); err != nil {
					return err
				}
				return env.Output(v, versionTable(v))
			})
		}}
	cf.bind(create)
	var uf versionFlags
	var reason string
	update := &cobra.Command{Use: "update VERSION --device DEVICE", Short: "Change a version's release date, status or units", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := needDevice(&uf); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				v, err := lookupVersion(env, a, uf.device, args[0])
				if err != nil {
					return err
				}
				if err := uf.apply(c, v); err != nil {
					return err
				}
				if err := a.Portfolio.UpdateVersion(env.actx(), v, reason); err != nil {
					return err
				}
				return env.Output(v, versionTable(v))
			})
		}}
	uf.bind(update)
	update.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit trail)")
	var lf versionFlags
	list := &cobra.Command{Use: "list [--device DEVICE]", Short: "List versions", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				var id int64
				if lf.device != "" {
					d, err := lookupDevice(env, a, lf.device)
					if err != nil {
						return err
					}
					id = d.ID
				}
				vs, err := a.Portfolio.Versions(env.actx(), id)
				if err != nil {
					return err
				}
				if vs == nil {
					vs = []*vigil.DeviceVersion{}
				}
				return env.Output(vs, versionTable(vs...))
			})
		}}
	list.Flags().StringVar(&lf.device, "device", "", "device name or id")
	var sf versionFlags
	show := &cobra.Command{Use: "show VERSION --device DEVICE", Short: "Show a version and its components", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := needDevice(&sf); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				v, err := lookupVersion(env, a, sf.device, args[0])
				if err != nil {
					return err
				}
				comps, err := a.Portfolio.Components(env.actx(), v.ID)
				if err != nil {
					return err
				}
				if comps == nil {
					comps = []vigil.Component{}
				}
				out := struct {
					*vigil.DeviceVersion
					Components []vigil.Component `json:"components"`
				}{v, comps}
				return env.Output(out, func() ([]string, [][]string) {
					var rows [][]string
					for _, c := range comps {
						rows = append(rows, []string{c.Name, c.Version, c.Purl, c.CPE, c.Support, dateStr(c.EndOfSupport)})
					}
					return []string{"COMPONENT", "VERSION", "PURL", "CPE", "SUPPORT", "END OF SUPPORT"}, rows
				})
			})
		}}
	show.Flags().StringVar(&sf.device, "device", "", "device name or id (required)")
	cmd.AddCommand(create, update, list, show)
	if versionCompare != nil {
		cmd.AddCommand(versionCompare(env))
	}
	return cmd
}

// versionCompare builds `vigil version compare`; set by versioncmp.go when present.
var versionCompare func(*Env) *cobra.Command

func lookupVersion(env *Env, a *app.App, device, version string) (*vigil.DeviceVersion, error) {
	d, err := lookupDevice(env, a, device)
	if err != nil {
		return nil, err
	}
	return a.Portfolio.VersionByName(env.actx(), d.ID, version)
}

// ---- vigil consignee

type consigneeFlags struct {
	name, contact, address string
	units, emails          []string
}

func (f *consigneeFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.name, "name", "", "consignee (customer site) name")
	c.Flags().StringVar(&f.contact, "contact", "", "contact person, email or phone")
	c.Flags().StringVar(&f.address, "address", "", "postal address")
	c.Flags().StringArrayVar(&f.emails, "email", nil, "a contact's e-mail address, where customer notices go (repeatable; replaces all)")
	c.Flags().StringArrayVar(&f.units, "units", nil, `units of a device version: "DEVICE@VERSION=N[:LOT1;LOT2][@SHIPPED]", SHIPPED the day they were shipped to it, YYYY-MM-DD (repeatable; replaces all)`)
}

func (f *consigneeFlags) apply(c *cobra.Command, env *Env, a *app.App, k *vigil.Consignee) error {
	if changed(c, "name") {
		k.Name = f.name
	}
	if changed(c, "contact") {
		k.Contact = f.contact
	}
	if changed(c, "address") {
		k.Address = f.address
	}
	if changed(c, "email") {
		k.Emails = append([]string{}, f.emails...)
	}
	if changed(c, "units") {
		k.Units = []vigil.ConsigneeUnit{}
		for i, u := range f.units {
			ref, rest, ok := strings.Cut(u, "=")
			dev, ver, ok2 := strings.Cut(ref, "@")
			if !ok || !ok2 {
				return vigil.Errorf(vigil.EINVALID, "--units[%d]: %q: want DEVICE@VERSION=N[:LOTS][@SHIPPED]", i, u)
			}
			rest, shipped, hasShipped := strings.Cut(rest, "@")
			nstr, lots, _ := strings.Cut(rest, ":")
			n, err := strconv.Atoi(nstr)
			if err != nil {
				return vigil.Errorf(vigil.EINVALID, "--units[%d]: %q is not a number", i, nstr)
			}
			v, err := lookupVersion(env, a, dev, ver)
			if err != nil {
				return vigil.Errorf(vigil.EINVALID, "--units[%d]: %s", i, vigil.ErrorMessage(err))
			}
			cu := vigil.ConsigneeUnit{VersionID: v.ID, Units: n}
			if hasShipped {
				d, err := vigil.ParseDate(shipped)
				if err != nil {
					return vigil.Errorf(vigil.EINVALID, "--units[%d]: shipped %q is not a date (YYYY-MM-DD)", i, shipped)
				}
				cu.Shipped = &d
			}
			if lots != "" {
				cu.Lots = strings.Split(lots, ";")
			}
			k.Units = append(k.Units, cu)
		}
	}
	return nil
}

func consigneeTable(cs ...*vigil.Consignee) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, c := range cs {
			total := 0
			for _, u := range c.Units {
				total += u.Units
			}
			rows = append(rows, []string{strconv.FormatInt(c.ID, 10), c.Name, c.Contact, strings.Join(c.Emails, ", "), c.Address, strconv.Itoa(total)})
		}
		return []string{"ID", "NAME", "CONTACT", "EMAILS", "ADDRESS", "UNITS"}, rows
	}
}

func consigneeCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "consignee", Short: "Installed base: customer sites, units per version, lots/serials"}
	var cf consigneeFlags
	create := &cobra.Command{Use: "create", Short: "Create a consignee", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				k := &vigil.Consignee{}
				if err := cf.apply(c, env, a, k); err != nil {
					return err
				}
				if err := a.Portfolio.CreateConsignee(env.actx(), k); err != nil {
					return err
				}
				return env.Output(k, consigneeTable(k))
			})
		}}
	cf.bind(create)
	var uf consigneeFlags
	var reason string
	update := &cobra.Command{Use: "update ID", Short: "Change a consignee (only the flags given)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				k, err := a.Portfolio.Consignee(env.actx(), id)
				if err != nil {
					return err
				}
				if err := uf.apply(c, env, a, k); err != nil {
					return err
				}
				if err := a.Portfolio.UpdateConsignee(env.actx(), k, reason); err != nil {
					return err
				}
				return env.Output(k, consigneeTable(k))
			})
		}}
	uf.bind(update)
	update.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit trail)")
	list := &cobra.Command{Use: "list", Short: "List consignees", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				cs, err := a.Portfolio.Consignees(env.actx())
				if err != nil {
					return err
				}
				if cs == nil {
					cs = []*vigil.Consignee{}
				}
				return env.Output(cs, consigneeTable(cs...))
			})
		}}
	show := &cobra.Command{Use: "show ID", Short: "Show a consignee", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				k, err := a.Portfolio.Consignee(env.actx(), id)
				if err != nil {
					return err
				}
				return env.Output(k, consigneeTable(k))
			})
		}}
	var delReason string
	del := &cobra.Command{Use: "delete ID --reason TEXT", Short: "Delete a consignee and its units (the audit trail keeps it as it was)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				k, err := a.Portfolio.Consignee(env.actx(), id)
				if err != nil {
					return err
				}
				if err := a.Portfolio.DeleteConsignee(env.actx(), id, delReason); err != nil {
					return err
				}
				return env.Output(k, consigneeTable(k))
			})
		}}
	del.Flags().StringVar(&delReason, "reason", "", "why (required; recorded in the audit trail)")
	cmd.AddCommand(create, update, list, show, del)
	return cmd
}
