package cli

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(signalsCmd) }

func signalsCmd(env *Env) *cobra.Command {
	var device string
	cmd := &cobra.Command{Use: "signals [--device NAME|ID]",
		Short: "Cybersecurity signals: CSAF advisories naming our devices (product, model number, or us as vendor)",
		Long: `A CSAF advisory (a CISA ICSMA, a vendor's own advisory) whose products name one of our devices by product name
or model number, or whose vendor is our organization, is recorded as a cybersecurity signal on that device when
it is imported, dated with the advisory's release date (in the organization's time zone) so the clock can start
on it.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				var id int64
				if device != "" {
					if n, err := strconv.ParseInt(device, 10, 64); err == nil && n > 0 {
						id = n
					} else {
						d, err := a.Portfolio.DeviceByName(env.actx(), device)
						if err != nil {
							return err
						}
						id = d.ID
					}
				}
				sigs, err := a.Intel.Signals(env.actx(), id)
				if err != nil {
					return err
				}
				return env.Output(sigs, func() ([]string, [][]string) {
					var rows [][]string
					for _, s := range sigs {
						rows = append(rows, []string{s.ReleaseDate.String(), s.Device, s.Document, s.Vuln, s.MatchedBy, s.Matched})
					}
					return []string{"RELEASED", "DEVICE", "ADVISORY", "VULNERABILITY", "MATCHED BY", "MATCHED"}, rows
				})
			})
		}}
	cmd.Flags().StringVar(&device, "device", "", "only signals on this device (name or id)")
	return cmd
}
