package cli

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/audit"
	"github.com/vigil-dev/vigil/internal/service/audittrail"
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
				cur, latest, err := a.SchemaVersion(env.Ctx)
				if err != nil {
					return err
				}
				out := map[string]any{"engine": a.Engine(), "schema_version": cur, "latest": latest}
				return env.Output(out, func() ([]string, [][]string) {
					return []string{"ENGINE", "SCHEMA", "LATEST"}, [][]string{{a.Engine(), strconv.FormatInt(cur, 10), strconv.FormatInt(latest, 10)}}
				})
			})
		}}
	backup := &cobra.Command{Use: "backup FILE", Short: "Write a consistent online copy of the store (SQLite: VACUUM INTO; PostgreSQL: use pg_dump)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				if err := a.Backup(env.Ctx, args[0]); err != nil {
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
	keygen := &cobra.Command{Use: "keygen", Short: "Create the audit key file named by --audit-key (mode 0600; never replaced) and print its public key", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if env.AuditKey == "" {
				return Usage("keygen: --audit-key FILE (or $VIGIL_AUDIT_KEY) names the key file to create, outside the database")
			}
			key, err := audittrail.CreateKey(env.AuditKey)
			if err != nil {
				return err
			}
			return env.printKey(key)
		}}
	var out string
	checkpoint := &cobra.Command{Use: "checkpoint [--out FILE]", Short: "Print a signed {count, head} of the trail; keep it (--out) where the database's admins cannot write", Args: exactArgs(0),
		Example: "  vigil --audit-key /etc/vigil/audit.key audit checkpoint --out /mnt/worm/vigil-checkpoint.json",
		RunE: func(c *cobra.Command, _ []string) error {
			if env.AuditKey != "" {
				if _, err := os.Stat(env.AuditKey); errors.Is(err, fs.ErrNotExist) {
					key, err := audittrail.CreateKey(env.AuditKey)
					if err != nil {
						return err
					}
					fmt.Fprintf(env.Stderr, "created the audit key %s (mode 0600); public key %s\n", env.AuditKey, audit.KeyText(key.Public().(ed25519.PublicKey)))
				}
			}
			return env.withApp(func(a *app.App) error {
				var cp vigil.AuditCheckpoint
				var err error
				if out != "" {
					cp, err = a.Audit.Export(env.actx(), out)
				} else {
					cp, err = a.Audit.Checkpoint(env.actx())
				}
				if err != nil {
					return err
				}
				return env.JSON(cp)
			})
		}}
	checkpoint.Flags().StringVar(&out, "out", os.Getenv("VIGIL_AUDIT_CHECKPOINT"), "also publish it to this file or http(s) URL (PUT; read back with GET), refusing to replace a checkpoint the trail no longer extends (default $VIGIL_AUDIT_CHECKPOINT)")
	var cpFile string
	var pkgFile, pubKey string
	verify := &cobra.Command{Use: "verify [--checkpoint FILE] | --package FILE.zip [--key KEY]", Short: "Recompute the hash chain and signatures, reconcile every audited record with the trail; or verify an evidence package offline; exit 1 listing each problem", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if pkgFile != "" {
				return verifyPackage(env, pkgFile, pubKey)
			}
			var cp *vigil.AuditCheckpoint
			if cpFile != "" {
				got, err := (&audittrail.Service{}).FetchCheckpoint(env.Ctx, cpFile)
				switch {
				case errors.Is(err, fs.ErrNotExist) && !c.Flags().Changed("checkpoint"):
					fmt.Fprintf(env.Stderr, "no checkpoint published yet at %s ($VIGIL_AUDIT_CHECKPOINT)\n", cpFile)
				case err != nil && (vigil.ErrorCode(err) == vigil.EINVALID || vigil.ErrorCode(err) == vigil.EUNAVAILABLE):
					return err // an altered checkpoint, or an endpoint that does not answer
				case err != nil:
					return Usage("--checkpoint: %v", err)
				default:
					cp = &got
				}
			}
			return env.withApp(func(a *app.App) error {
				got, err := a.Audit.Verify(env.actx(), cp)
				if err != nil && len(got.Problems) == 0 {
					return err
				}
				if env.Format == "json" {
					if err := env.JSON(struct {
						OK bool `json:"ok"`
						vigil.AuditReport
					}{err == nil, got}); err != nil {
						return err
					}
				} else if err == nil {
					fmt.Fprintf(env.Stdout, "ok: %d events, head %s; %d records match the trail, %d signatures checked\n", got.Count, got.Head, got.Records, got.Signed)
					if len(got.Keys) > 1 {
						fmt.Fprintf(env.Stdout, "audit keys, each enrolled by the one before: %s\n", strings.Join(got.Keys, " -> "))
					}
				} else {
					for _, p := range got.Problems {
						where := "event " + strconv.FormatInt(p.Seq, 10)
						if p.Table != "" {
							where = p.Table + " " + p.Key
						}
						fmt.Fprintf(env.Stdout, "%s: %s\n", where, cell(p.Problem))
					}
				}
				if err != nil {
					// Tampering is a failed check, not invalid input: exit 1, the problems listed above.
					env.SetExit(ExitFailure)
					if env.Format != "json" {
						fmt.Fprintf(env.Stderr, "vigil: %s\n", vigil.ErrorMessage(err))
					}
				}
				return nil
			})
		}}
	verify.Flags().StringVar(&pkgFile, "package", "", "verify this evidence package offline instead (no database): manifest signature, every file, the trail segment, the checkpoint, the records")
	verify.Flags().StringVar(&pubKey, "key", "", "with --package: the audit key's public half (base64), or a file holding it or a signed checkpoint; without it, the package's own key is used and printed")
	verify.Flags().StringVar(&cpFile, "checkpoint", os.Getenv("VIGIL_AUDIT_CHECKPOINT"), "a signed checkpoint (file or http(s) URL) the trail must still extend (default $VIGIL_AUDIT_CHECKPOINT, the one published)")
	var f vigil.AuditFilter
	var since string
	log := &cobra.Command{Use: "log", Short: "Show audit events, newest first", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			d, err := parseDateFlag("since", since)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				zone := env.zone(a)
				if d != nil {
					f.Since = d.In(zone)
				}
				evs, err := a.Audit.Events(env.actx(), f)
				if err != nil {
					return err
				}
				if evs == nil {
					evs = []*vigil.AuditEvent{}
				}
				return env.Output(evs, func() ([]string, [][]string) {
					var rows [][]string
					for _, e := range evs {
						rows = append(rows, []string{strconv.FormatInt(e.Seq, 10), e.Time.In(zone).Format(time.RFC3339), e.Actor, e.Action, e.ObjectType + ":" + e.ObjectID, e.Reason})
					}
					return []string{"SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "REASON"}, rows
				})
			})
		}}
	log.Flags().StringVar(&f.Actor, "actor", "", "only this actor (user:NAME, token:NAME, system:...)")
	log.Flags().StringVar(&f.Action, "action", "", "only actions starting with this (device., case.event, ...)")
	log.Flags().StringVar(&f.ObjectType, "object-type", "", "only this object type")
	log.Flags().StringVar(&f.ObjectID, "object-id", "", "only this object id")
	log.Flags().StringVar(&since, "since", "", "only events on or after this date (YYYY-MM-DD)")
	log.Flags().IntVar(&f.Limit, "limit", 100, "at most this many events")
	var newKey, rotateReason, rotateOut string
	rotate := &cobra.Command{Use: "rotate-key --new-key FILE --reason TEXT", Short: "Retire the audit key (--audit-key) for a new one: a rotation event signed by both; verify follows the chain",
		Long: `Retires the audit key in force (--audit-key) for the key in --new-key (created, mode 0600, when the file does
not exist). The rotation event is signed by the retiring key and carries the new key's signature over the trail's
head, so only the holder of the key in force can enroll the next one and only for a key it holds. From then on
every event and checkpoint is signed by the new key: restart every Vigil with --audit-key FILE of the new key (one
still holding the retired key can no longer write). Checkpoints signed by earlier keys still verify: verify
follows the chain of rotations from the first key. With --out (default $VIGIL_AUDIT_CHECKPOINT) a checkpoint
signed by the new key is published right after.`,
		Example: "  vigil --audit-key /etc/vigil/audit-2026.key audit rotate-key --new-key /etc/vigil/audit-2027.key --reason \"yearly rotation\"",
		Args:    exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if env.AuditKey == "" {
				return Usage("rotate-key: --audit-key FILE (or $VIGIL_AUDIT_KEY) is the key in force, which signs the rotation")
			}
			if newKey == "" {
				return Usage("rotate-key: --new-key FILE names the new key (created when missing)")
			}
			load := audittrail.LoadKey
			if _, err := os.Stat(newKey); errors.Is(err, fs.ErrNotExist) {
				load = audittrail.CreateKey
			}
			next, err := load(newKey)
			if err != nil {
				return err
			}
			var seq int64
			if err := env.withApp(func(a *app.App) error {
				seq, err = a.Audit.RotateKey(env.actx(), next, rotateReason)
				return err
			}); err != nil {
				return err
			}
			out := struct {
				Seq       int64                  `json:"seq"`
				KeyFile   string                 `json:"key_file"`
				PublicKey string                 `json:"public_key"`
				Published *vigil.AuditCheckpoint `json:"checkpoint,omitempty"`
			}{Seq: seq, KeyFile: newKey, PublicKey: audit.KeyText(next.Public().(ed25519.PublicKey))}
			if rotateOut != "" {
				env.AuditKey = newKey // the trail is now signed by the new key
				if err := env.withApp(func(a *app.App) error {
					cp, err := a.Audit.Export(env.actx(), rotateOut)
					out.Published = &cp
					return err
				}); err != nil {
					return err
				}
			}
			if env.Format == "json" {
				return env.JSON(out)
			}
			fmt.Fprintf(env.Stdout, "audit key rotated at event %d; the key in force is %s (%s)\n", seq, out.PublicKey, newKey)
			if out.Published != nil {
				fmt.Fprintf(env.Stdout, "checkpoint signed by it published to %s (event %d)\n", rotateOut, out.Published.Count)
			}
			fmt.Fprintf(env.Stderr, "restart every Vigil with --audit-key %s: the retired key can no longer write\n", newKey)
			return nil
		}}
	rotate.Flags().StringVar(&newKey, "new-key", "", "file of the new audit key (PKCS #8 PEM Ed25519, mode 0600; created when missing)")
	rotate.Flags().StringVar(&rotateReason, "reason", "", "why the key is rotated (recorded in the audit trail)")
	rotate.Flags().StringVar(&rotateOut, "out", os.Getenv("VIGIL_AUDIT_CHECKPOINT"), "then publish a checkpoint signed by the new key to this file or http(s) URL (default $VIGIL_AUDIT_CHECKPOINT)")
	cmd.AddCommand(keygen, checkpoint, verify, log, rotate)
	return cmd
}

// printKey prints the public half of the audit key: what an inspector verifies signatures with.
func (e *Env) printKey(key ed25519.PrivateKey) error {
	pub := audit.KeyText(key.Public().(ed25519.PublicKey))
	if e.Format == "json" {
		return e.JSON(map[string]string{"key_file": e.AuditKey, "public_key": pub})
	}
	fmt.Fprintf(e.Stdout, "audit key %s created (mode 0600); public key %s\n", e.AuditKey, pub)
	return nil
}

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
	var role, fullName string
	add := &cobra.Command{Use: "add NAME --role ROLE", Short: "Add a user; the password is read from stdin", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pw, err := readSecret(env)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				u := &vigil.User{Name: args[0], Role: role}
				if err := a.Accounts.CreateUser(env.actx(), u, pw); err != nil {
					return err
				}
				if fullName != "" {
					if err := a.Accounts.SetFullName(env.actx(), u.Name, fullName); err != nil {
						return err
					}
					u.FullName = fullName
				}
				return env.Output(u, userTable(u))
			})
		}}
	add.Flags().StringVar(&role, "role", "viewer", "admin, psirt, regulatory or viewer")
	add.Flags().StringVar(&fullName, "full-name", "", "the printed name the user's electronic signatures show")
	passwd := &cobra.Command{Use: "passwd NAME", Short: "Set a user's password (read from stdin); ends their sessions", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pw, err := readSecret(env)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error { return a.Accounts.SetPassword(env.actx(), args[0], pw) })
		}}
	list := &cobra.Command{Use: "list", Short: "List users", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				us, err := a.Accounts.Users(env.actx())
				if err != nil {
					return err
				}
				if us == nil {
					us = []*vigil.User{}
				}
				return env.Output(us, userTable(us...))
			})
		}}
	cmd.AddCommand(add, passwd, list, userStateCmd(env, true), userStateCmd(env, false), userRoleCmd(env), userFullNameCmd(env))
	return cmd
}

// needReason refuses a lifecycle change without --reason before opening the store: exit 2.
func needReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return Usage("--reason is required: it goes into the audit trail")
	}
	return nil
}

// userStateCmd is `user disable` (disable true) or `user enable`.
func userStateCmd(env *Env, disable bool) *cobra.Command {
	verb, short, example := "enable", "Re-enable a disabled user (their old sessions stay ended)",
		"  vigil user enable jdoe --reason \"back from leave\""
	if disable {
		verb, short, example = "disable", "Disable a user: their sessions end and their API tokens stop working at once",
			"  vigil user disable jdoe --reason \"left the company 2026-11-27 (HR-4411)\"\n"+
				"  vigil user disable jdoe --reason \"offboarding\" --format json"
	}
	var reason string
	cmd := &cobra.Command{Use: verb + " NAME --reason R", Short: short, Example: example, Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := needReason(reason); err != nil {
				return err
			}
			return changeUser(env, args[0], func(a *app.App) error { return a.Accounts.SetUserDisabled(env.actx(), args[0], disable, reason) })
		}}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required; recorded in the audit trail)")
	return cmd
}

func userFullNameCmd(env *Env) *cobra.Command {
	return &cobra.Command{Use: "full-name NAME \"FULL NAME\"", Short: "Set a user's printed name, the name their electronic signatures show (21 CFR 11.50)",
		Example: "  vigil user full-name alice \"Alice M. Smith\"", Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return changeUser(env, args[0], func(a *app.App) error { return a.Accounts.SetFullName(env.actx(), args[0], args[1]) })
		}}
}

func userRoleCmd(env *Env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{Use: "role NAME ROLE --reason R", Short: "Change a user's role (admin, psirt, regulatory, viewer); effective on their next request",
		Example: "  vigil user role jdoe regulatory --reason \"joined the regulatory team\"\n" +
			"  vigil user role jdoe admin --reason \"second admin for holidays\" --format json",
		Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			if err := vigil.OneOf("role", args[1], vigil.Roles); err != nil {
				return err
			}
			if err := needReason(reason); err != nil {
				return err
			}
			return changeUser(env, args[0], func(a *app.App) error { return a.Accounts.SetUserRole(env.actx(), args[0], args[1], reason) })
		}}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required; recorded in the audit trail)")
	return cmd
}

// changeUser applies change and shows the user as it now is.
func changeUser(env *Env, name string, change func(a *app.App) error) error {
	return env.withApp(func(a *app.App) error {
		if err := change(a); err != nil {
			return err
		}
		u, err := a.Accounts.UserByName(env.actx(), name)
		if err != nil {
			return err
		}
		return env.Output(u, userTable(u))
	})
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
			maxDays := int(vigil.TokenMaxLifetime / (24 * time.Hour))
			if days < 1 || days > maxDays {
				return Usage("--expires-days: %d is outside 1..%d (every token expires)", days, maxDays)
			}
			return env.withApp(func(a *app.App) error {
				t, secret, err := a.Accounts.CreateToken(env.actx(), user, name, a.Clock.Now().AddDate(0, 0, days))
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
	create.Flags().IntVar(&days, "expires-days", int(vigil.TokenDefaultLifetime/(24*time.Hour)), fmt.Sprintf("days until the token expires (at most %d)", vigil.TokenMaxLifetime/(24*time.Hour)))
	cmd.AddCommand(create, tokenListCmd(env), tokenRevokeCmd(env))
	return cmd
}

func tokenListCmd(env *Env) *cobra.Command {
	return &cobra.Command{Use: "list [USER]", Short: "List API tokens that are not revoked (never their secrets); all users' without USER",
		Example: "  vigil token list jdoe\n  vigil token list --format json",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return Usage("%s: want at most 1 argument, got %d (see --help)", c.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				ctx := env.actx()
				names := args
				if len(names) == 0 {
					us, err := a.Accounts.Users(ctx)
					if err != nil {
						return err
					}
					for _, u := range us {
						names = append(names, u.Name)
					}
				}
				type row struct {
					User string `json:"user"`
					*vigil.Token
				}
				out := []row{}
				for _, n := range names {
					ts, err := a.Accounts.Tokens(ctx, n)
					if err != nil {
						return err
					}
					for _, t := range ts {
						out = append(out, row{User: n, Token: t})
					}
				}
				zone := env.zone(a)
				return env.Output(out, func() ([]string, [][]string) {
					var rows [][]string
					for _, r := range out {
						rows = append(rows, []string{strconv.FormatInt(r.ID, 10), r.User, r.Name, fmtTime(r.CreatedAt, zone), fmtTime(r.ExpiresAt, zone), fmtTime(r.LastUsed, zone)})
					}
					return []string{"ID", "USER", "NAME", "CREATED", "EXPIRES", "LAST USED"}, rows
				})
			})
		}}
}

// fmtTime is a time for a table cell: RFC 3339 in the organization's zone, or "-" for none.
func fmtTime(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(zone).Format(time.RFC3339)
}

func tokenRevokeCmd(env *Env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{Use: "revoke USER ID --reason R", Short: "Revoke one of a user's API tokens; it is refused from the next request on",
		Example: "  vigil token list jdoe                       # find the ID\n" +
			"  vigil token revoke jdoe 7 --reason \"laptop stolen\"",
		Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || id <= 0 {
				return Usage("ID: %q is not a token id (see vigil token list %s)", args[1], args[0])
			}
			if err := needReason(reason); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Accounts.RevokeToken(env.actx(), args[0], id, reason); err != nil {
					return err
				}
				out := map[string]any{"user": args[0], "id": id, "revoked": true}
				return env.Output(out, func() ([]string, [][]string) {
					return []string{"USER", "ID", "REVOKED"}, [][]string{{args[0], args[1], "yes"}}
				})
			})
		}}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required; recorded in the audit trail)")
	return cmd
}
