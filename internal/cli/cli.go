// Package cli is Vigil's command line: one cobra command per verb, data on stdout (--format json|table), logs and
// progress on stderr, and exit codes derived from Vigil's error codes (0 ok, 1 failure, 2 invalid input) so that
// scripts can rely on them. Run is the whole program; main only calls it, and tests call it directly.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitInvalid = 2
)

// Env is what every command gets: its streams and the global flags.
type Env struct {
	Ctx    context.Context
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	DB     string // --db, defaulted from $VIGIL_DB then sqlite:vigil.db
	// AuditKey is --audit-key (default $VIGIL_AUDIT_KEY): the file of the key that signs the audit trail and its
	// checkpoints, kept outside the database. Empty for none.
	AuditKey string
	// SecretKey is --secret-key (default $VIGIL_SECRET_KEY): the file of the key that seals the stored credentials
	// (the ISAOs' TAXII passwords, the organization's SMTP password), kept outside the database. Empty for none.
	SecretKey string
	// OpenPGPKey is --openpgp-key (default $VIGIL_OPENPGP_KEY): the organization's armored OpenPGP private key
	// (a file, or the armored key itself in the variable) that signs security.txt and the CSAF documents;
	// OpenPGPPassphraseFile (default $VIGIL_OPENPGP_PASSPHRASE_FILE) holds its passphrase, else
	// $VIGIL_OPENPGP_PASSPHRASE does. Never a flag's value: command lines are visible to every user.
	OpenPGPKey, OpenPGPPassphraseFile string
	// AllowNets is --allow-net (default $VIGIL_ALLOW_NET): networks, otherwise refused as not public, that feed,
	// TAXII and webhook connections may reach (a mirror or an ISAO server over a VPN, an internal chat server).
	AllowNets []string
	Format    string // --format: json or table (commands may accept more)
	Log       *slog.Logger
	// exit, when set by a command, overrides the exit code of a successful run (vigil scan: 1 with findings).
	exit int
}

// SetExit sets the exit code of a run that returns no error.
func (e *Env) SetExit(code int) { e.exit = code }

// JSON writes v as indented JSON to stdout.
func (e *Env) JSON(v any) error {
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// commands holds the constructors of the top-level verbs. Each verb's file adds its own in an init function so
// that verbs can be written side by side without touching this file.
var commands []func(*Env) *cobra.Command

func register(f func(*Env) *cobra.Command) { commands = append(commands, f) }

// Run runs the command line and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Ctx: ctx, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	env.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Vigil runs a medical-device postmarket cybersecurity program (FDA G2016, 524B)",
		Long: `Vigil monitors vulnerability sources, matches them to every device version's SBOM, turns findings into the
FDA's controlled/uncontrolled determination with every regulatory clock, and keeps a tamper-evident audit trail.

Exit codes: 0 success, 1 failure (or findings, for scan), 2 invalid input.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	def := os.Getenv("VIGIL_DB")
	if def == "" {
		def = "sqlite:vigil.db"
	}
	root.PersistentFlags().StringVar(&env.DB, "db", def, "database: sqlite:PATH or postgres://... (default $VIGIL_DB)")
	root.PersistentFlags().StringVar(&env.Format, "format", "table", "output format: table or json")
	root.PersistentFlags().StringVar(&env.AuditKey, "audit-key", os.Getenv("VIGIL_AUDIT_KEY"), "file of the Ed25519 key that signs the audit trail and its checkpoints, kept outside the database (default $VIGIL_AUDIT_KEY)")
	root.PersistentFlags().StringVar(&env.SecretKey, "secret-key", os.Getenv("VIGIL_SECRET_KEY"), "file of at least 32 random bytes whose SHA-256 seals the stored credentials (the ISAOs' TAXII passwords, the organization's SMTP password), kept outside the database (default $VIGIL_SECRET_KEY)")
	root.PersistentFlags().StringVar(&env.OpenPGPKey, "openpgp-key", os.Getenv("VIGIL_OPENPGP_KEY"), "file of the organization's armored OpenPGP private key that signs security.txt and the CSAF documents (default $VIGIL_OPENPGP_KEY, which may hold the armored key itself)")
	root.PersistentFlags().StringVar(&env.OpenPGPPassphraseFile, "openpgp-passphrase-file", os.Getenv("VIGIL_OPENPGP_PASSPHRASE_FILE"), "file holding the OpenPGP key's passphrase (default $VIGIL_OPENPGP_PASSPHRASE_FILE; else $VIGIL_OPENPGP_PASSPHRASE)")
	var allow []string
	if v := os.Getenv("VIGIL_ALLOW_NET"); v != "" {
		allow = strings.Split(v, ",")
	}
	root.PersistentFlags().StringSliceVar(&env.AllowNets, "allow-net", allow, "CIDR,... that feeds, ISAO TAXII servers and webhooks may reach although not public (a VPN, an internal chat server); every other loopback, private, link-local or metadata address stays refused (default $VIGIL_ALLOW_NET)")
	subs := make([]*cobra.Command, 0, len(commands))
	for _, f := range commands {
		subs = append(subs, f(env))
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
	root.AddCommand(subs...)
	refuseUnknown(root)
	env.Ctx = ctx
	root.SetContext(ctx)

	err := root.Execute()
	if err == nil {
		return env.exit
	}
	return reportError(env, err)
}

// reportError prints err for a person (or, with --format json, as {"error":{...}} on stdout) and maps it to an
// exit code. Internal details are logged, never printed as the message.
func reportError(env *Env, err error) int {
	code := vigil.ErrorCode(err)
	var ue usageError
	if errors.As(err, &ue) {
		code = vigil.EINVALID
	}
	msg := vigil.ErrorMessage(err)
	if ue.error != nil {
		msg = ue.Error()
	}
	if code == vigil.EINTERNAL {
		env.Log.Error("internal error", "err", err)
	}
	if env.Format == "json" {
		_ = env.JSON(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	} else {
		fmt.Fprintf(env.Stderr, "vigil: %s\n", msg)
	}
	switch {
	case code == vigil.EINVALID:
		return ExitInvalid
	default:
		return ExitFailure
	}
}

// usageError marks a command-line usage mistake (wrong flags or arguments): exit code 2.
type usageError struct{ error }

// Usage returns a usage error with a formatted message.
func Usage(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// refuseUnknown makes every command that has subcommands answer an unknown one with exit 2 and the names it
// knows. Left to cobra, a group (vigil audit) printed its help and exited 0 for `vigil audit verfy`, which a script
// took for a passed verification, and the root's "unknown command" was an internal error.
func refuseUnknown(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknown(sub)
	}
	if !c.HasSubCommands() {
		return
	}
	own, runnable := c.Args, c.Runnable()
	if own == nil {
		own = cobra.ArbitraryArgs
	}
	c.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 && (!runnable || own(c, args) != nil) {
			return unknownCommand(c, args[0])
		}
		return own(c, args)
	}
	if !runnable {
		// A group on its own is a request for its list of commands.
		c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
}

func unknownCommand(c *cobra.Command, name string) error {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	hint := ""
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's own default, which it sets only on the path this replaces
	}
	if s := c.SuggestionsFor(name); len(s) > 0 {
		hint = fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
	}
	return Usage("unknown command %q for %q%s (commands: %s; see %s --help)", name, c.CommandPath(), hint, strings.Join(names, ", "), c.CommandPath())
}

// exactArgs is cobra.ExactArgs with an error that maps to exit code 2.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return Usage("%s: want %d argument(s), got %d (see --help)", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
