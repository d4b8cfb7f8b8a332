package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(threatCmd) }

// threatCmd is `vigil threat`: a device's threat model (G2016 §V.B), which assessments trace to.
func threatCmd(env *Env) *cobra.Command {
	var device string
	cmd := &cobra.Command{Use: "threat", Short: "A device's threat model: assets, STRIDE threats, mitigations and compensating controls",
		Long: `The threat model of a device's safety and essential performance. Threats reach assets and clinical functions
through entry points; designed-in mitigations and compensating controls (configured by users in the field, with
their IFU reference) address them. Assessments name threats (vigil case assess --threats T-1) and controls
(--controls CC-1): the functions reached, and so the severity of patient harm, follow from the threats.

Every object has a ref, unique per device: given with --id, or assigned (A-1, T-1, M-1, CC-1).`,
		Example: `  vigil threat asset add --device Pump --id IF-WIFI --name "Wi-Fi interface" --kind interface
  vigil threat add --device Pump --title "Remote change of the infusion rate" --stride tampering \
    --assets IF-WIFI --functions "dose delivery" --entry-points Wi-Fi
  vigil threat mitigation add --device Pump --name "Signed rate-change messages" --reference "SDS-41 §3" --threats T-1
  vigil threat control add --device Pump --name "Pumps on a dedicated VLAN" --reference "IFU §7.3" --threats T-1
  vigil threat list --device Pump`}
	cmd.PersistentFlags().StringVar(&device, "device", "", "the device (name or id); required")
	withDevice := func(fn func(a *app.App, d *vigil.Device) error) error {
		if device == "" {
			return Usage("--device is required")
		}
		return env.withApp(func(a *app.App) error {
			d, err := lookupDevice(env, a, device)
			if err != nil {
				return err
			}
			return fn(a, d)
		})
	}

	list := &cobra.Command{Use: "list --device D", Short: "Show the device's whole threat model", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return withDevice(func(a *app.App, d *vigil.Device) error {
				m, err := a.Threats.ThreatModel(env.actx(), d.ID)
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(m)
				}
				if err := checkTableFormat(env); err != nil {
					return err
				}
				return printThreatModel(env, m)
			})
		}}

	show := &cobra.Command{Use: "show REF --device D", Short: "Show one threat with the controls that address it", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withDevice(func(a *app.App, d *vigil.Device) error {
				m, err := a.Threats.ThreatModel(env.actx(), d.ID)
				if err != nil {
					return err
				}
				t := m.Threat(args[0])
				if t == nil {
					return vigil.Errorf(vigil.ENOTFOUND, "threat %q is not in the threat model of %s (%s)", args[0], d.Name, refsOf(m))
				}
				out := struct {
					*vigil.Threat
					Controls []*vigil.Control `json:"controls"`
				}{t, addressing(m, t.Ref)}
				return env.Output(out, func() ([]string, [][]string) {
					rows := [][]string{{"ref", t.Ref}, {"title", t.Title}, {"STRIDE", strideLabel(t.Category)}, {"description", t.Description},
						{"assets", assetNames(m, t.Assets)}, {"clinical functions", functionsWithSeverity(d, t.Functions)}, {"entry points", strings.Join(t.EntryPoints, ", ")}}
					for _, c := range out.Controls {
						rows = append(rows, []string{kindLabel(c.Kind), c.Ref + " " + c.Name + refNote(c.Reference)})
					}
					return []string{"FIELD", "VALUE"}, rows
				})
			})
		}}

	var tf threatFlags
	add := &cobra.Command{Use: "add --device D --title TEXT --stride CATEGORY", Short: "Add a threat", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return withDevice(func(a *app.App, d *vigil.Device) error {
				t := &vigil.Threat{DeviceID: d.ID, Ref: tf.id}
				if err := tf.apply(c, t); err != nil {
					return err
				}
				if err := a.Threats.CreateThreat(env.actx(), t); err != nil {
					return err
				}
				return env.Output(t, threatTable(t))
			})
		}}
	tf.bind(add, true)

	var uf threatFlags
	var reason string
	upd := &cobra.Command{Use: "update REF --device D --reason TEXT", Short: "Change a threat (only the flags given; lists are replaced)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withDevice(func(a *app.App, d *vigil.Device) error {
				t, err := a.Threats.Threat(env.actx(), d.ID, args[0])
				if err != nil {
					return err
				}
				if err := uf.apply(c, t); err != nil {
					return err
				}
				if err := a.Threats.UpdateThreat(env.actx(), t, reason); err != nil {
					return err
				}
				return env.Output(t, threatTable(t))
			})
		}}
	uf.bind(upd, false)
	upd.Flags().StringVar(&reason, "reason", "", "why the threat model changes (required; recorded in the audit trail)")

	cmd.AddCommand(list, show, add, upd, assetCmd(env, withDevice),
		controlCmd(env, withDevice, vigil.ControlMitigation), controlCmd(env, withDevice, vigil.ControlCompensating))
	return cmd
}

type threatFlags struct {
	id, title, stride, description string
	assets, functions, entry       []string
}

func (f *threatFlags) bind(c *cobra.Command, create bool) {
	if create {
		c.Flags().StringVar(&f.id, "id", "", "the threat's ref, e.g. one from the premarket threat model (default: the next T-n)")
	}
	c.Flags().StringVar(&f.title, "title", "", "what the attacker does, in a line")
	c.Flags().StringVar(&f.stride, "stride", "", "STRIDE category: spoofing, tampering, repudiation, information_disclosure, denial_of_service, elevation_of_privilege (or S, T, R, I, D, E)")
	c.Flags().StringVar(&f.description, "description", "", "details: preconditions, attack path")
	c.Flags().StringSliceVar(&f.assets, "assets", nil, "refs of the assets it reaches (comma-separated)")
	c.Flags().StringSliceVar(&f.functions, "functions", nil, "the device's clinical functions it can corrupt or deny (comma-separated)")
	c.Flags().StringSliceVar(&f.entry, "entry-points", nil, "interfaces it enters through, e.g. Wi-Fi,USB service port")
}

func (f *threatFlags) apply(c *cobra.Command, t *vigil.Threat) error {
	if changed(c, "title") {
		t.Title = f.title
	}
	if changed(c, "stride") {
		s, err := parseStride(f.stride)
		if err != nil {
			return err
		}
		t.Category = s
	}
	if changed(c, "description") {
		t.Description = f.description
	}
	if changed(c, "assets") {
		t.Assets = f.assets
	}
	if changed(c, "functions") {
		t.Functions = f.functions
	}
	if changed(c, "entry-points") {
		t.EntryPoints = f.entry
	}
	return nil
}

// parseStride reads a STRIDE category as people write it: the name (any case, spaces or hyphens for
// underscores) or its letter.
func parseStride(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.NewReplacer("-", "_", " ", "_").Replace(v)
	if len(v) == 1 {
		for _, c := range vigil.StrideCategories {
			if c[0] == v[0] {
				return c, nil
			}
		}
	}
	if slices.Contains(vigil.StrideCategories, v) {
		return v, nil
	}
	return "", vigil.Errorf(vigil.EINVALID, "--stride: %q is not a STRIDE category (%s, or S, T, R, I, D, E)", s, strings.Join(vigil.StrideCategories, ", "))
}

func assetCmd(env *Env, withDevice func(func(*app.App, *vigil.Device) error) error) *cobra.Command {
	cmd := &cobra.Command{Use: "asset", Short: "Assets of the threat model: data, functions, interfaces, components"}
	var id, name, kind, desc, reason string
	bind := func(c *cobra.Command) {
		c.Flags().StringVar(&name, "name", "", "what it is, e.g. therapy parameters")
		c.Flags().StringVar(&kind, "kind", "", "data, function, interface or component")
		c.Flags().StringVar(&desc, "description", "", "details")
	}
	apply := func(c *cobra.Command, a *vigil.Asset) {
		if changed(c, "name") {
			a.Name = name
		}
		if changed(c, "kind") {
			a.Kind = strings.ToLower(strings.TrimSpace(kind))
		}
		if changed(c, "description") {
			a.Description = desc
		}
	}
	add := &cobra.Command{Use: "add --device D --name TEXT --kind KIND", Short: "Add an asset", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return withDevice(func(a *app.App, d *vigil.Device) error {
				x := &vigil.Asset{DeviceID: d.ID, Ref: id}
				apply(c, x)
				if err := a.Threats.CreateAsset(env.actx(), x); err != nil {
					return err
				}
				return env.Output(x, assetTable(x))
			})
		}}
	bind(add)
	add.Flags().StringVar(&id, "id", "", "the asset's ref (default: the next A-n)")
	upd := &cobra.Command{Use: "update REF --device D --reason TEXT", Short: "Change an asset (only the flags given)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withDevice(func(a *app.App, d *vigil.Device) error {
				m, err := a.Threats.ThreatModel(env.actx(), d.ID)
				if err != nil {
					return err
				}
				x := m.Asset(args[0])
				if x == nil {
					return vigil.Errorf(vigil.ENOTFOUND, "asset %q is not in the threat model of %s", args[0], d.Name)
				}
				apply(c, x)
				if err := a.Threats.UpdateAsset(env.actx(), x, reason); err != nil {
					return err
				}
				return env.Output(x, assetTable(x))
			})
		}}
	bind(upd)
	upd.Flags().StringVar(&reason, "reason", "", "why the threat model changes (required)")
	cmd.AddCommand(add, upd)
	return cmd
}

// controlCmd is `vigil threat mitigation` or `vigil threat control` (compensating controls).
func controlCmd(env *Env, withDevice func(func(*app.App, *vigil.Device) error) error, kind string) *cobra.Command {
	use, short, refHelp := "mitigation", "Designed-in mitigations and the threats they address", "where it is specified, e.g. SDS-41 §3"
	if kind == vigil.ControlCompensating {
		use, short, refHelp = "control", "Compensating controls users configure in the field, with their IFU reference", "the IFU or customer-document section that tells users how (required)"
	}
	cmd := &cobra.Command{Use: use, Short: short}
	var id, name, desc, ref, reason string
	var threats []string
	bind := func(c *cobra.Command) {
		c.Flags().StringVar(&name, "name", "", "what it does, in a line")
		c.Flags().StringVar(&ref, "reference", "", refHelp)
		c.Flags().StringVar(&desc, "description", "", "details")
		c.Flags().StringSliceVar(&threats, "threats", nil, "refs of the threats it addresses (comma-separated)")
	}
	apply := func(c *cobra.Command, x *vigil.Control) {
		if changed(c, "name") {
			x.Name = name
		}
		if changed(c, "reference") {
			x.Reference = ref
		}
		if changed(c, "description") {
			x.Description = desc
		}
		if changed(c, "threats") {
			x.Threats = threats
		}
	}
	prefix := "M"
	if kind == vigil.ControlCompensating {
		prefix = "CC"
	}
	add := &cobra.Command{Use: "add --device D --name TEXT", Short: "Add a " + kindLabel(kind), Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return withDevice(func(a *app.App, d *vigil.Device) error {
				x := &vigil.Control{DeviceID: d.ID, Ref: id, Kind: kind}
				apply(c, x)
				if err := a.Threats.CreateControl(env.actx(), x); err != nil {
					return err
				}
				return env.Output(x, controlTable(x))
			})
		}}
	bind(add)
	add.Flags().StringVar(&id, "id", "", "its ref (default: the next "+prefix+"-n)")
	upd := &cobra.Command{Use: "update REF --device D --reason TEXT", Short: "Change a " + kindLabel(kind) + " (only the flags given; --threats replaces the list)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withDevice(func(a *app.App, d *vigil.Device) error {
				m, err := a.Threats.ThreatModel(env.actx(), d.ID)
				if err != nil {
					return err
				}
				x := m.Control(args[0])
				if x == nil || x.Kind != kind {
					return vigil.Errorf(vigil.ENOTFOUND, "%s %q is not in the threat model of %s", kindLabel(kind), args[0], d.Name)
				}
				apply(c, x)
				if err := a.Threats.UpdateControl(env.actx(), x, reason); err != nil {
					return err
				}
				return env.Output(x, controlTable(x))
			})
		}}
	bind(upd)
	upd.Flags().StringVar(&reason, "reason", "", "why the threat model changes (required)")
	cmd.AddCommand(add, upd)
	return cmd
}

// checkTableFormat refuses formats the hand-made tables do not speak.
func checkTableFormat(env *Env) error {
	if env.Format != "table" && env.Format != "" {
		return Usage("--format: %q is not one of json, table", env.Format)
	}
	return nil
}

func printThreatModel(env *Env, m *vigil.ThreatModel) error {
	w := env.Stdout
	fmt.Fprintf(w, "Threat model of %s: %d threat(s), %d asset(s), %d control(s)\n\n", cell(m.Device), len(m.Threats), len(m.Assets), len(m.Controls))
	if len(m.Threats) > 0 {
		var rows [][]string
		for _, t := range m.Threats {
			var cs []string
			for _, c := range addressing(m, t.Ref) {
				cs = append(cs, c.Ref)
			}
			rows = append(rows, []string{t.Ref, strideLabel(t.Category), t.Title, strings.Join(t.Functions, ", "), strings.Join(t.Assets, ", "), strings.Join(t.EntryPoints, ", "), strings.Join(cs, ", ")})
		}
		if err := env.Table([]string{"THREAT", "STRIDE", "TITLE", "CLINICAL FUNCTIONS", "ASSETS", "ENTRY POINTS", "CONTROLS"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if len(m.Assets) > 0 {
		var rows [][]string
		for _, a := range m.Assets {
			rows = append(rows, []string{a.Ref, a.Kind, a.Name, a.Description})
		}
		if err := env.Table([]string{"ASSET", "KIND", "NAME", "DESCRIPTION"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if len(m.Controls) > 0 {
		var rows [][]string
		for _, c := range m.Controls {
			rows = append(rows, []string{c.Ref, kindLabel(c.Kind), c.Name, c.Reference, strings.Join(c.Threats, ", ")})
		}
		if err := env.Table([]string{"CONTROL", "KIND", "NAME", "DOCUMENTED IN", "ADDRESSES"}, rows); err != nil {
			return err
		}
	}
	if len(m.Threats)+len(m.Assets)+len(m.Controls) == 0 {
		fmt.Fprintf(w, "Empty. Start with: vigil threat asset add --device %q --name ... --kind interface\n", m.Device)
	}
	return nil
}

func addressing(m *vigil.ThreatModel, ref string) []*vigil.Control {
	out := []*vigil.Control{}
	for _, c := range m.Controls {
		if slices.Contains(c.Threats, ref) {
			out = append(out, c)
		}
	}
	return out
}

func refsOf(m *vigil.ThreatModel) string {
	var refs []string
	for _, t := range m.Threats {
		refs = append(refs, t.Ref)
	}
	if len(refs) == 0 {
		return "it has none"
	}
	return "threats: " + strings.Join(refs, ", ")
}

func assetNames(m *vigil.ThreatModel, refs []string) string {
	var out []string
	for _, r := range refs {
		if a := m.Asset(r); a != nil {
			out = append(out, r+" "+a.Name)
		}
	}
	return strings.Join(out, ", ")
}

func functionsWithSeverity(d *vigil.Device, names []string) string {
	var out []string
	for _, n := range names {
		s := n
		for _, f := range d.Functions {
			if f.Name == n {
				s += " (" + f.Severity + ")"
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func strideLabel(c string) string { return strings.ReplaceAll(c, "_", " ") }

func kindLabel(k string) string {
	if k == vigil.ControlCompensating {
		return "compensating control"
	}
	return "mitigation"
}

func refNote(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}

func threatTable(t *vigil.Threat) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		return []string{"REF", "STRIDE", "TITLE", "CLINICAL FUNCTIONS", "ASSETS", "ENTRY POINTS"},
			[][]string{{t.Ref, strideLabel(t.Category), t.Title, strings.Join(t.Functions, ", "), strings.Join(t.Assets, ", "), strings.Join(t.EntryPoints, ", ")}}
	}
}

func assetTable(a *vigil.Asset) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		return []string{"REF", "KIND", "NAME", "DESCRIPTION"}, [][]string{{a.Ref, a.Kind, a.Name, a.Description}}
	}
}

func controlTable(c *vigil.Control) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		return []string{"REF", "KIND", "NAME", "DOCUMENTED IN", "ADDRESSES"}, [][]string{{c.Ref, kindLabel(c.Kind), c.Name, c.Reference, strings.Join(c.Threats, ", ")}}
	}
}
