package cli

import (
	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(jobsCmd) }

func jobsCmd(env *Env) *cobra.Command {
	return &cobra.Command{Use: "jobs", Short: "The scheduled jobs the servers sharing this database run: who holds each, until when, when it last completed",
		Long: `Each scheduled job (a feed's sync "feed:NAME", the periodic re-match "rematch") runs on one server at a time,
under a lease the server renews while the job runs. A killed server's job is taken over once its lease expires.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				ls, err := a.Intel.JobLeases(env.actx())
				if err != nil {
					return err
				}
				return env.Output(ls, func() ([]string, [][]string) {
					var rows [][]string
					now, zone := a.Clock.Now(), env.zone(a)
					for _, l := range ls {
						state := "free"
						if l.Held(now) {
							state = "running until " + stamp(l.Expires, zone)
						}
						rows = append(rows, []string{l.Name, state, l.Owner, stamp(l.Renewed, zone), stamp(l.Completed, zone)})
					}
					return []string{"JOB", "STATE", "SERVER (HOLDS OR LAST HELD)", "LAST HEARTBEAT", "LAST COMPLETED"}, rows
				})
			})
		}}
}
