package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/sbom"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
)

func init() {
	register(sbomCmd)
	register(whereCmd)
}

func sbomCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "sbom", Short: "A device version's SBOM: import it (with the diff against the previous one; findings re-matched at once)"}
	var device, version string
	var allowShrink bool
	imp := &cobra.Command{Use: "import --device D --version V FILE", Short: "Import a CycloneDX (JSON/XML) or SPDX (JSON/tag-value) SBOM onto a device version",
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if device == "" || version == "" {
				return Usage("--device and --version are required")
			}
			f, err := os.Open(args[0])
			if err != nil {
				return Usage("%v", err)
			}
			defer f.Close()
			return env.withApp(func(a *app.App) error {
				v, err := lookupVersion(env, a, device, version)
				if err != nil {
					return err
				}
				res, err := a.Portfolio.ImportSBOM(env.actx(), v.ID, f, args[0], portfolio.SBOMOptions{AllowShrink: allowShrink})
				var shrink *sbom.ShrinkError
				if errors.As(err, &shrink) {
					return fmt.Errorf("%w: confirm with --allow-shrink to import it anyway", err)
				} else if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(res)
				}
				fmt.Fprintf(env.Stdout, "%s: %s %s, %d components (sha256 %s)\n", args[0], res.Format, res.Spec, res.Components, res.Digest[:16])
				printDiff(env, res.Diff)
				if res.Matched {
					fmt.Fprintf(env.Stdout, "findings: %d opened, %d resolved\n", res.Opened, res.Resolved)
				} else {
					fmt.Fprintln(env.Stdout, "findings: not matched (no vulnerability data imported yet: see `vigil import`)")
				}
				return nil
			})
		}}
	imp.Flags().StringVar(&device, "device", "", "device name or id")
	imp.Flags().StringVar(&version, "version", "", "device version")
	imp.Flags().BoolVar(&allowShrink, "allow-shrink", false, "import an SBOM that has no components or drops more than half the current SBOM's (refused otherwise)")
	cmd.AddCommand(imp)
	return cmd
}

func printDiff(env *Env, d sbom.DiffResult) {
	if d.Empty() {
		fmt.Fprintf(env.Stdout, "no change from the previous SBOM (%d components unchanged)\n", d.Unchanged)
		return
	}
	rows := [][]string{}
	for _, c := range d.Added {
		rows = append(rows, []string{"+", c.Name, "", c.Version, c.Purl})
	}
	for _, c := range d.Removed {
		rows = append(rows, []string{"-", c.Name, c.Version, "", c.Purl})
	}
	for _, c := range d.Changed {
		rows = append(rows, []string{"~", c.New.Name, c.Old.Version, c.New.Version, c.New.Purl})
	}
	env.Table([]string{"", "COMPONENT", "WAS", "NOW", "PURL"}, rows)
	fmt.Fprintf(env.Stdout, "%d added, %d removed, %d changed, %d unchanged\n", len(d.Added), len(d.Removed), len(d.Changed), d.Unchanged)
}

func whereCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "where COMPONENT[@VERSION]", Short: "Every device version whose current SBOM contains a component (by name or purl)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				rows, err := a.Portfolio.Where(env.actx(), args[0])
				if err != nil {
					return err
				}
				if rows == nil {
					rows = []vigil.Where{}
				}
				return env.Output(rows, func() ([]string, [][]string) {
					var out [][]string
					for _, r := range rows {
						out = append(out, []string{r.Device, r.Version, r.Status, strconv.Itoa(r.Units), r.Component.Name, r.Component.Version, r.Component.Purl})
					}
					return []string{"DEVICE", "VERSION", "STATUS", "UNITS", "COMPONENT", "COMP VERSION", "PURL"}, out
				})
			})
		}}
	return cmd
}
