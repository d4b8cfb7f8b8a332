package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(initCmd) }

// initCmd makes an empty store usable: the organization and its first admin, then the next steps. Without it a new
// store had no way in (serve printed only "listening") and the README's `org create` landed in the demo's store.
func initCmd(env *Env) *cobra.Command {
	var of orgFlags
	var admin string
	cmd := &cobra.Command{Use: "init", Short: "Start a new store: create the organization and its first admin, print next steps", Args: exactArgs(0),
		Long: `Start a new store: create the organization and its first admin user, then print the next steps.

Missing values are asked for on the terminal; the admin's password is always read from stdin (one line, not echoed
on a terminal), so a script can pipe it: printf '%s\n' "$PW" | vigil init --org NAME --admin alice.
A store that already has an organization or a user is refused (use vigil org update / vigil user add there).`,
		Example: `  printf '%s\n' "$PW" | vigil init --org "Acme Medical" --time-zone America/Chicago --admin alice
  vigil --db sqlite:acme.db init          # asks for each value`,
		RunE: func(c *cobra.Command, _ []string) error {
			in := bufio.NewReader(env.Stdin)
			tty := isTerminal(env.Stdin)
			ask := func(flag, prompt, def string, val *string) error {
				if changed(c, flag) || (!tty && def != "") {
					if *val == "" {
						*val = def
					}
					return nil
				}
				if !tty {
					return Usage("--%s is required when stdin is not a terminal", flag)
				}
				if def != "" {
					prompt += " [" + def + "]"
				}
				fmt.Fprint(env.Stderr, prompt+": ")
				line, err := in.ReadString('\n')
				if err != nil && line == "" {
					return Usage("--%s: no answer on stdin", flag)
				}
				if *val = strings.TrimSpace(line); *val == "" {
					*val = def
				}
				return nil
			}
			if err := ask("org", "Organization name", "", &of.name); err != nil {
				return err
			}
			if err := ask("time-zone", "Time zone for regulatory dates (IANA)", "UTC", &of.tz); err != nil {
				return err
			}
			if err := ask("admin", "First admin's user name", "admin", &admin); err != nil {
				return err
			}
			o := &vigil.Organization{}
			if err := of.apply(c, o); err != nil {
				return err
			}
			o.Name, o.TimeZone = of.name, of.tz
			// Checked before anything is written, so that a refused field leaves the store empty and init can be re-run.
			if err := o.Validate(); err != nil {
				return err
			}
			if tty {
				fmt.Fprintf(env.Stderr, "Password for %s (at least 12 characters): ", admin)
			}
			pw, err := readPassword(in, env.Stdin, tty)
			if tty {
				fmt.Fprintln(env.Stderr)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stderr, "Opening the store (applying migrations on first use)...")
			return env.withApp(func(a *app.App) error {
				ctx := env.actx()
				orgs, err := a.Portfolio.Orgs(ctx)
				if err != nil {
					return err
				}
				users, err := a.Accounts.Users(ctx)
				if err != nil {
					return err
				}
				if len(orgs) > 0 || len(users) > 0 {
					return vigil.Errorf(vigil.EINVALID, "this store is already set up (%d organization(s), %d user(s)); change it with `vigil org update` and `vigil user add`, or point --db at a new store", len(orgs), len(users))
				}
				u := &vigil.User{Name: admin, Role: vigil.RoleAdmin}
				if err := a.Accounts.CreateUser(ctx, u, pw); err != nil {
					return err
				}
				if err := a.Portfolio.CreateOrg(ctx, o); err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(map[string]any{"organization": o, "admin": u})
				}
				fmt.Fprintf(env.Stdout, "Created organization %q (id %d, time zone %s) and admin %q.\n\n", o.Name, o.ID, o.TimeZone, u.Name)
				fmt.Fprint(env.Stdout, nextSteps(u.Name))
				return nil
			})
		}}
	cmd.Flags().StringVar(&of.name, "org", "", "organization name")
	cmd.Flags().StringVar(&of.fei, "fei", "", "FDA Establishment Identifier (FEI)")
	cmd.Flags().StringVar(&of.regNo, "registration", "", "FDA establishment registration number (21 CFR 807): an 806 report number starts with it")
	cmd.Flags().StringVar(&of.tz, "time-zone", "", "IANA time zone for regulatory dates (default UTC)")
	cmd.Flags().StringVar(&of.contact, "cvd-contact", "", "where researchers report vulnerabilities (email or URL)")
	cmd.Flags().IntVar(&of.ack, "cvd-ack-days", 5, "business days promised to acknowledge a researcher's report")
	cmd.Flags().StringVar(&of.isaoFile, "isaos", "", isaosFlagHelp)
	cmd.Flags().StringVar(&admin, "admin", "", "the first admin's user name (default admin)")
	return cmd
}

// nextSteps is what a new store needs next, in the order the README walks it.
func nextSteps(admin string) string {
	return `Next steps (every command takes the same --db or $VIGIL_DB; --help on each):
  1. a device and its versions:
       vigil device create --name "Infusion Pump IP-3" --class II --pathway 510k --number K201234 --cyber-device \
         --functions "dose delivery=catastrophic,occlusion alarm=critical"
       vigil version create 3.2.1 --device "Infusion Pump IP-3" --released 2024-09-16 --units 5100
  2. intelligence (files, folders, .zip, or allow-listed URLs; vigil feeds lists the configured sources):
       vigil import examples/intel
  3. the version's SBOM, matched at once:
       vigil sbom import --device "Infusion Pump IP-3" --version 3.2.1 examples/sbom.cdx.json
       vigil findings --device "Infusion Pump IP-3"
  4. the web UI: vigil serve, then sign in as ` + admin + ` at http://127.0.0.1:8080
`
}

// isTerminal reports whether r is an interactive terminal (prompts and hidden password entry make sense).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// readPassword reads one line: hidden on a terminal, else from the buffered stdin the prompts share.
func readPassword(in *bufio.Reader, stdin io.Reader, tty bool) (string, error) {
	if tty {
		b, err := term.ReadPassword(int(stdin.(*os.File).Fd()))
		if err != nil {
			return "", Usage("password: %v", err)
		}
		return string(b), nil
	}
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", Usage("password: read from stdin (e.g. `printf '%%s\\n' \"$PW\" | vigil init ...`)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
