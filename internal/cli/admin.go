package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
)

func init() {
	register(dbCmd)
	register(auditCmd)
	register(userCmd)
	register(tokenCmd)
}

func dbCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Database: migrate, backup, status"}
	migrate := &cobra.Command{Use: "migrate", Short: "Apply pending migrations (also done at every start)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				cur, latest, err := a.Store.SchemaVersion(env.Ctx)
				if err != nil {
					return err
				}
				out := map[string]any{"engine": a.Store.Engine(), "schema_version": cur, "latest": latest}
				return env.Output(out, func() ([]string, [][]string) {
					return []string{"ENGINE", "SCHEMA", "LATEST"}, [][]string{{a.Store.Engine(), strconv.FormatInt(cur, 10), strconv.FormatInt(latest, 10)}}
				})
			})
		}}
	backup := &cobra.Command{Use: "backup FILE", Short: "Write a consistent online copy of the store (SQLite: VACUUM INTO; PostgreSQL: use pg_dump)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				if err := a.Store.Backup(env.Ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "backup written to %s\n", args[0])
				return nil
			})
		}}
	cmd.AddCommand(migrate, backup)
	return cmd
}

func auditCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The tamper-evident audit trail: log, checkpoint, verify"}
	checkpoint := &cobra.Command{Use: "checkpoint", Short: "Print {count, head} of the trail; keep it somewhere the database's admins cannot write", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				cp, err := a.Store.Checkpoint(env.Ctx)
				if err != nil {
					return err
				}
				return env.JSON(cp)
			})
		}}
	var cpFile string
	verify := &cobra.Command{Use: "verify [--checkpoint FILE]", Short: "Recompute the hash chain; exit 1 naming the first bad event", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			var cp *vigil.AuditCheckpoint
			if cpFile != "" {
				b, err := os.ReadFile(cpFile)
				if err != nil {
					return Usage("--checkpoint: %v", err)
				}
				cp = &vigil.AuditCheckpoint{}
				if err := json.Unmarshal(b, cp); err != nil || cp.Count < 0 {
					return Usage("--checkpoint %s: not a checkpoint ({\"count\", \"head\"}): %v", cpFile, err)
				}
			}
			return env.withApp(func(a *app.App) error {
				got, err := a.Store.Verify(env.Ctx, cp)
				if err != nil {
					// Tampering is a failed check, not invalid input: exit 1.
					return tamperError{err}
				}
				if env.Format == "json" {
					return env.JSON(map[string]any{"ok": true, "count": got.Count, "head": got.Head})
				}
				fmt.Fprintf(env.Stdout, "ok: %d events, head %s\n", got.Count, got.Head)
				return nil
			})
		}}
	verify.Flags().StringVar(&cpFile, "checkpoint", "", "a checkpoint file the trail must still extend")
	var f vigil.AuditFilter
	var since string
	log := &cobra.Command{Use: "log", Short: "Show audit events, newest first", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if since != "" {
				d, err := parseDateFlag("since", since)
				if err != nil {
					return err
				}
				f.Since = d.Time()
			}
			return env.withApp(func(a *app.App) error {
				evs, err := a.Store.Events(env.actx(), f)
				if err != nil {
					return err
				}
				if evs == nil {
					evs = []*vigil.AuditEvent{}
				}
				return env.Output(evs, func() ([]string, [][]string) {
					var rows [][]string
					for _, e := range evs {
						rows = append(rows, []string{strconv.FormatInt(e.Seq, 10), e.Time.Format(time.RFC3339), e.Actor, e.Action, e.ObjectType + ":" + e.ObjectID, e.Reason})
					}
					return []string{"SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "REASON"}, rows
				})
			})
		}}
	log.Flags().StringVar(&f.Actor, "actor", "", "only this actor (user:NAME, token:NAME, system:...)")
	log.Flags().StringVar(&f.Action, "action", "", "only actions starting with this (device., finding.event, ...)")
	log.Flags().StringVar(&f.ObjectType, "object-type", "", "only this object type")
	log.Flags().StringVar(&f.ObjectID, "object-id", "", "only this object id")
	log.Flags().StringVar(&since, "since", "", "only events on or after this date (YYYY-MM-DD)")
	log.Flags().IntVar(&f.Limit, "limit", 100, "at most this many events")
	cmd.AddCommand(checkpoint, verify, log)
	return cmd
}

// tamperError is a failed verification: exit code 1 even though the underlying code is EINVALID.
type tamperError struct{ error }

// readSecret reads one line (a password) from stdin without echoing it anywhere.
func readSecret(env *Env) (string, error) {
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", Usage("password: read from stdin (e.g. `printf '%%s\\n' \"$PW\" | vigil user add ...`)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func userCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Team members and their roles (admin, psirt, regulatory, viewer)"}
	var role string
	add := &cobra.Command{Use: "add NAME --role ROLE", Short: "Add a user; the password is read from stdin", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pw, err := readSecret(env)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				u := &vigil.User{Name: args[0], Role: role}
				if err := a.Store.CreateUser(env.actx(), u, pw); err != nil {
					return err
				}
				return env.Output(u, userTable(u))
			})
		}}
	add.Flags().StringVar(&role, "role", "viewer", "admin, psirt, regulatory or viewer")
	passwd := &cobra.Command{Use: "passwd NAME", Short: "Set a user's password (read from stdin); ends their sessions", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pw, err := readSecret(env)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error { return a.Store.SetPassword(env.actx(), args[0], pw) })
		}}
	list := &cobra.Command{Use: "list", Short: "List users", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				us, err := a.Store.Users(env.Ctx)
				if err != nil {
					return err
				}
				if us == nil {
					us = []*vigil.User{}
				}
				return env.Output(us, userTable(us...))
			})
		}}
	cmd.AddCommand(add, passwd, list)
	return cmd
}

func userTable(us ...*vigil.User) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, u := range us {
			rows = append(rows, []string{strconv.FormatInt(u.ID, 10), u.Name, u.Role, yesno(u.Disabled)})
		}
		return []string{"ID", "NAME", "ROLE", "DISABLED"}, rows
	}
}

func tokenCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "API tokens (Authorization: Bearer ...)"}
	var user, name string
	var days int
	create := &cobra.Command{Use: "create --user NAME", Short: "Create an API token; the secret is printed once", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if user == "" {
				return Usage("--user is required")
			}
			return env.withApp(func(a *app.App) error {
				var exp time.Time
				if days > 0 {
					exp = a.Clock.Now().AddDate(0, 0, days)
				}
				t, secret, err := a.Store.CreateToken(env.actx(), user, name, exp)
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(map[string]any{"token": t, "secret": secret})
				}
				fmt.Fprintln(env.Stdout, secret)
				fmt.Fprintln(env.Stderr, "Store this token now: it is shown once and kept only as a hash.")
				return nil
			})
		}}
	create.Flags().StringVar(&user, "user", "", "the user the token acts as")
	create.Flags().StringVar(&name, "name", "token", "a label for the token")
	create.Flags().IntVar(&days, "expires-days", 90, "days until the token expires (0: never)")
	cmd.AddCommand(create)
	return cmd
}
