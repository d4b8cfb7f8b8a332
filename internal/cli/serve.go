package cli

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/jobs"
	"github.com/vigil-dev/vigil/internal/service/accounts"
)

func init() { register(serveCmd) }

func serveCmd(env *Env) *cobra.Command {
	var opt app.ServeOptions
	var sched jobs.Options
	var sso accounts.SSOConfig
	var ssoRoles string
	var demo, sync bool
	var proxies []string
	var cpFile string
	var cpEvery time.Duration
	cmd := &cobra.Command{Use: "serve", Short: "Run the server: web UI, JSON API and scheduled jobs", Args: exactArgs(0),
		Example: "  vigil serve --demo                 # a demo portfolio on the embedded SQLite store\n" +
			"  VIGIL_DB=postgres://vigil@db/vigil vigil serve --addr 0.0.0.0:8443 --tls-cert c.pem --tls-key k.pem",
		RunE: func(c *cobra.Command, _ []string) error {
			if opt.SessionIdle < time.Minute {
				return Usage("--session-idle: at least 1m (got %s)", opt.SessionIdle)
			}
			if sched.Lease < 3*time.Second {
				return Usage("--job-lease: at least 3s (got %s)", sched.Lease)
			}
			if cpFile != "" && env.AuditKey == "" {
				return Usage("--checkpoint-file: checkpoints are signed: give the audit key with --audit-key FILE or $VIGIL_AUDIT_KEY")
			}
			if cpEvery < time.Minute {
				return Usage("--checkpoint-every: at least 1m (got %s)", cpEvery)
			}
			if (opt.TLSCert == "") != (opt.TLSKey == "") {
				return Usage("--tls-cert and --tls-key go together")
			}
			var err error
			if opt.TrustedProxies, err = parsePrefixes("--trusted-proxy", proxies); err != nil {
				return err
			}
			if opt.TrustedProxyTLS && len(opt.TrustedProxies) == 0 {
				env.Log.Warn("behind a proxy without --trusted-proxy: every client shares the proxy's address and so its sign-in limit")
			}
			return env.withApp(func(a *app.App) error {
				if sso.Issuer != "" {
					// The secret is read from the environment only: a flag would show in ps and shell history.
					sso.ClientSecret = os.Getenv("VIGIL_OIDC_CLIENT_SECRET")
					if sso.Roles, err = accounts.ParseRoleMappings(ssoRoles); err != nil {
						return err
					}
					if err := a.EnableSSO(env.Ctx, sso); err != nil {
						return err
					}
					env.Log.Info("single sign-on on; password sign-in is for admins only (break-glass)", "sso", a.SSO)
				}
				if a.OpenPGP != nil {
					env.Log.Info("OpenPGP signing on: security.txt and the CSAF provider's documents", "fingerprint", a.OpenPGP.Fingerprint())
				}
				if demo {
					// Seeding imports and matches the embedded intelligence: say so before the pause.
					fmt.Fprintln(env.Stderr, "Loading the demo portfolio (three devices, their SBOMs, real intelligence)...")
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
				if users, err := a.Accounts.Users(env.actx()); err != nil {
					return err
				} else if len(users) == 0 {
					// Nobody could sign in: say how to make the first admin rather than only "listening".
					// The DSN is not echoed: a PostgreSQL one may hold a password.
					fmt.Fprint(env.Stderr, "\nNo users yet. Set up this store (same --db as here), then sign in:\n  vigil init                          (the organization and its first admin; asks for each value)\n  vigil user add NAME --role admin    (an admin only; the password is read from stdin)\n(or start with --demo for a demo store)\n\n")
				}
				opt.Log = env.Log
				// Feeds sync on their schedules; --demo runs offline unless --sync is given. Notifications run either way.
				feeds := sync && (!demo || c.Flags().Changed("sync"))
				s, err := a.Scheduler(env.Ctx, sched, feeds)
				if err != nil {
					return err
				}
				if feeds {
					env.Log.Info("feed sync on", "instance", s.Owner(), "lease", sched.Lease)
				} else {
					env.Log.Info("feed sync off", "hint", "vigil import PATH|URL, or serve --sync")
				}
				go s.Run(env.Ctx)
				// E-mail queued by any instance is delivered by whichever claims it first, once.
				a.Outbox.Owner = s.Owner()
				go a.Outbox.Run(env.Ctx)
				if cpFile != "" {
					// Published outside the database, so that a copy rolled back behind it is caught.
					go a.Audit.ExportEvery(vigil.WithActor(env.Ctx, vigil.Actor{System: true, Name: "checkpoint"}), cpFile, cpEvery, env.Log)
				}
				scheme := "http"
				if opt.TLSCert != "" {
					scheme = "https"
				}
				opt.Ready = func(addr string) {
					env.Log.Info("vigil listening", "url", scheme+"://"+addr, "db_engine", a.Engine())
				}
				return a.Serve(env.Ctx, opt)
			})
		}}
	cmd.Flags().StringVar(&opt.Addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().BoolVar(&demo, "demo", false, "seed a demo organization, admin and three devices when the store is empty")
	cmd.Flags().BoolVar(&sync, "sync", true, "sync the configured feeds on their schedules (default off with --demo)")
	cmd.Flags().StringVar(&sched.Owner, "instance", "", "this server's name in the job leases, unique among servers sharing the database (default host/pid/random)")
	cmd.Flags().DurationVar(&sched.Lease, "job-lease", jobs.DefaultLease, "how long a killed server's scheduled job waits before another server sharing the database takes it over")
	cmd.Flags().StringVar(&sso.Issuer, "oidc-issuer", os.Getenv("VIGIL_OIDC_ISSUER"), "OpenID Connect issuer URL for single sign-on ($VIGIL_OIDC_ISSUER); the client secret is read from $VIGIL_OIDC_CLIENT_SECRET")
	cmd.Flags().StringVar(&sso.ClientID, "oidc-client-id", os.Getenv("VIGIL_OIDC_CLIENT_ID"), "this server's client id at the provider ($VIGIL_OIDC_CLIENT_ID)")
	cmd.Flags().StringVar(&sso.RedirectURL, "oidc-redirect-url", os.Getenv("VIGIL_OIDC_REDIRECT_URL"), "https://HOST/login/sso/callback as browsers reach this server ($VIGIL_OIDC_REDIRECT_URL)")
	cmd.Flags().StringVar(&ssoRoles, "oidc-roles", os.Getenv("VIGIL_OIDC_ROLES"), "claim values to roles, most privileged first: vigil-admins=admin,psirt=psirt,... ($VIGIL_OIDC_ROLES)")
	cmd.Flags().StringVar(&sso.RoleClaim, "oidc-role-claim", "groups", "the ID token claim holding the user's groups or roles (a dotted path reaches into objects: realm_access.roles)")
	cmd.Flags().StringVar(&sso.NameClaim, "oidc-name-claim", "preferred_username", "the ID token claim that is the user's Vigil name")
	cmd.Flags().StringVar(&cpFile, "checkpoint-file", os.Getenv("VIGIL_AUDIT_CHECKPOINT"), "publish a signed audit checkpoint to this file or http(s) URL (PUT), outside the database, at start and every --checkpoint-every (default $VIGIL_AUDIT_CHECKPOINT)")
	cmd.Flags().DurationVar(&cpEvery, "checkpoint-every", time.Hour, "how often --checkpoint-file is published")
	cmd.Flags().StringVar(&opt.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	cmd.Flags().StringVar(&opt.TLSKey, "tls-key", "", "TLS key file (PEM)")
	cmd.Flags().DurationVar(&opt.SessionIdle, "session-idle", vigil.DefaultSessionIdle, "end a browser session unused for this long (e.g. 15m, 1h)")
	cmd.Flags().IntVar(&opt.ReportsPerAddr, "reports-per-address", 10, "public reports and replies one client address may send per hour (/report, /api/v1/intake), counted for every server on the database together")
	cmd.Flags().IntVar(&opt.ReportsPerHour, "reports-per-hour", 200, "public reports and replies everyone together may send per hour")
	cmd.Flags().BoolVar(&opt.TrustedProxyTLS, "behind-tls-proxy", false, "a TLS-terminating proxy is in front: mark cookies Secure")
	cmd.Flags().StringSliceVar(&proxies, "trusted-proxy", nil, "CIDR,... of reverse proxies whose X-Forwarded-For names the client (sign-in limits are per client)")
	return cmd
}

// parsePrefixes reads a flag of networks (--trusted-proxy, --allow-net): CIDR prefixes, or single addresses.
func parsePrefixes(flag string, list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, Usage("%s: %q is neither a CIDR prefix (10.0.0.0/8) nor an address", flag, s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
