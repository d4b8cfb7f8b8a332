package cli

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
)

func init() { register(portfolioCmd) }

// ---- vigil portfolio

func portfolioCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "portfolio", Short: "The whole portfolio of device versions"}
	var device, version string
	rematch := &cobra.Command{Use: "rematch [--device DEVICE [--version VERSION]]", Args: exactArgs(0),
		Short: "Match device versions' components against the intelligence store again (after an upgrade changes matching rules)",
		Long: `Re-match every device version (or one device's, or one version) against the intelligence store and sync the
findings: new matches open, matches that no longer hold resolve (their assessments and events stay). Imports
re-match what they change by themselves; this is for after an upgrade of Vigil changes matching rules.
Prints {"versions","findings","opened","resolved","seconds"}; shows progress on a terminal.`,
		Example: `  vigil portfolio rematch
  vigil portfolio rematch --device "Infusion Pump IP-3" --version 3.2.1 --format json`,
		RunE: func(c *cobra.Command, _ []string) error {
			if version != "" && device == "" {
				return Usage("--version needs --device")
			}
			return env.withApp(func(a *app.App) error {
				var opt portfolio.RematchOptions
				switch {
				case version != "":
					v, err := lookupVersion(env, a, device, version)
					if err != nil {
						return err
					}
					opt.VersionIDs = []int64{v.ID}
				case device != "":
					d, err := lookupDevice(env, a, device)
					if err != nil {
						return err
					}
					vs, err := a.Portfolio.Versions(env.actx(), d.ID)
					if err != nil {
						return err
					}
					opt.VersionIDs = make([]int64, len(vs))
					for i, v := range vs {
						opt.VersionIDs[i] = v.ID
					}
				}
				var bar *progressbar.ProgressBar
				if f, ok := env.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					opt.Progress = func(done, total int) {
						if bar == nil {
							bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetPredictTime(true),
								progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetDescription("re-matching versions"),
								progressbar.OptionShowCount(), progressbar.OptionFullWidth(), progressbar.OptionClearOnFinish())
						}
						bar.Set(done)
					}
				}
				res, err := a.Portfolio.Rematch(env.actx(), opt)
				if bar != nil {
					bar.Finish()
				}
				if err != nil {
					return err
				}
				return env.Output(res, func() ([]string, [][]string) {
					return []string{"VERSIONS", "FINDINGS", "OPENED", "RESOLVED", "SECONDS"}, [][]string{{strconv.Itoa(res.Versions),
						strconv.Itoa(res.Findings), strconv.Itoa(res.Opened), strconv.Itoa(res.Resolved), fmt.Sprintf("%.2f", res.Seconds)}}
				})
			})
		}}
	rematch.Flags().StringVar(&device, "device", "", "re-match only this device's versions")
	rematch.Flags().StringVar(&version, "version", "", "re-match only this version of --device")
	cmd.AddCommand(rematch)
	return cmd
}
