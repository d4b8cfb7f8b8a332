package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(serveCmd) }

func serveCmd(env *Env) *cobra.Command {
	var opt app.ServeOptions
	var demo, sync bool
	cmd := &cobra.Command{Use: "serve", Short: "Run the server: web UI, JSON API and scheduled jobs", Args: exactArgs(0),
		Example: "  vigil serve --demo                 # a demo portfolio on the embedded SQLite store\n" +
			"  VIGIL_DB=postgres://vigil@db/vigil vigil serve --addr 0.0.0.0:8443 --tls-cert c.pem --tls-key k.pem",
		RunE: func(c *cobra.Command, _ []string) error {
			if opt.SessionIdle < time.Minute {
				return Usage("--session-idle: at least 1m (got %s)", opt.SessionIdle)
			}
			if (opt.TLSCert == "") != (opt.TLSKey == "") {
				return Usage("--tls-cert and --tls-key go together")
			}
			return env.withApp(func(a *app.App) error {
				if demo {
					pw, err := a.SeedDemo(env.Ctx)
					if err != nil {
						return err
					}
					if pw != "" {
						// Printed once, on stderr only: it is never logged or stored in clear.
						fmt.Fprintf(env.Stderr, "\nDemo data loaded. Sign in as  admin  with password  %s\n\n", pw)
					} else {
						fmt.Fprintln(env.Stderr, "Demo data already present (reset the admin password with `vigil user passwd admin`).")
					}
				}
				opt.Log = env.Log
				// Feeds sync on their schedules; --demo runs offline unless --sync is given.
				if sync && (!demo || c.Flags().Changed("sync")) {
					sched, err := a.IntelJobs(env.Ctx, app.IntelOptions{Log: env.Log})
					if err != nil {
						return err
					}
					go sched.Run(env.Ctx)
				} else {
					env.Log.Info("feed sync off", "hint", "vigil import PATH|URL, or serve --sync")
				}
				scheme := "http"
				if opt.TLSCert != "" {
					scheme = "https"
				}
				opt.Ready = func(addr string) {
					env.Log.Info("vigil listening", "url", scheme+"://"+addr, "db_engine", a.Store.Engine())
				}
				return a.Serve(env.Ctx, opt)
			})
		}}
	cmd.Flags().StringVar(&opt.Addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().BoolVar(&demo, "demo", false, "seed a demo organization, admin and three devices when the store is empty")
	cmd.Flags().BoolVar(&sync, "sync", true, "sync the configured feeds on their schedules (default off with --demo)")
	cmd.Flags().StringVar(&opt.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	cmd.Flags().StringVar(&opt.TLSKey, "tls-key", "", "TLS key file (PEM)")
	cmd.Flags().DurationVar(&opt.SessionIdle, "session-idle", app.DefaultSessionIdle, "end a browser session unused for this long (e.g. 15m, 1h)")
	cmd.Flags().BoolVar(&opt.TrustedProxyTLS, "behind-tls-proxy", false, "a TLS-terminating proxy is in front: mark cookies Secure")
	return cmd
}
