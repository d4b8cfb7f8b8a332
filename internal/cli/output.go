package cli

import (
	"time"

	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/pgpkey"
	"github.com/vigil-dev/vigil/internal/secret"
	"github.com/vigil-dev/vigil/internal/service/audittrail"
)

// Table writes rows under headers, aligned, to stdout. Cells are single-lined so hostile text cannot forge rows.
func (e *Env) Table(headers []string, rows [][]string) error {
	tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, r := range rows {
		for i := range r {
			r[i] = cell(r[i])
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func cell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = vigil.Clip(80, s)
	if s == "" {
		return "-"
	}
	return s
}

// Output prints v as JSON with --format json, else as the table that table() builds.
func (e *Env) Output(v any, table func() ([]string, [][]string)) error {
	switch e.Format {
	case "json":
		return e.JSON(v)
	case "table", "":
		h, rows := table()
		return e.Table(h, rows)
	}
	return Usage("--format: %q is not one of json, table", e.Format)
}

// Open opens the app on --db and returns a context acting as the CLI operator.
func (e *Env) Open() (*app.App, error) {
	var opts []app.Option
	if e.AuditKey != "" {
		key, err := audittrail.LoadKey(e.AuditKey)
		if err != nil {
			return nil, err
		}
		opts = append(opts, app.WithAuditKey(key))
	}
	if u := os.Getenv("VIGIL_SMTP_URL"); u != "" {
		opts = append(opts, app.WithSMTPURL(u))
	}
	if e.SecretKey != "" {
		key, err := secret.LoadKey(e.SecretKey)
		if err != nil {
			return nil, err
		}
		opts = append(opts, app.WithSecretKey(key))
	}
	if len(e.AllowNets) > 0 {
		nets, err := parsePrefixes("--allow-net", e.AllowNets)
		if err != nil {
			return nil, err
		}
		opts = append(opts, app.WithAllowedNets(nets))
	}
	if e.OpenPGPKey != "" {
		key, err := e.openPGP()
		if err != nil {
			return nil, err
		}
		opts = append(opts, app.WithOpenPGP(key))
	}
	a, err := app.Open(e.Ctx, e.DB, vigil.ClockFrom(e.Ctx), opts...)
	if err != nil {
		return nil, err
	}
	a.Intel.Log, a.Outbox.Log = e.Log, e.Log
	return a, nil
}

// openPGP loads the OpenPGP key with its passphrase, from the passphrase file (its trailing line end dropped) or
// $VIGIL_OPENPGP_PASSPHRASE.
func (e *Env) openPGP() (*pgpkey.Key, error) {
	pass := []byte(os.Getenv("VIGIL_OPENPGP_PASSPHRASE"))
	if e.OpenPGPPassphraseFile != "" {
		b, err := os.ReadFile(e.OpenPGPPassphraseFile)
		if err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "--openpgp-passphrase-file %s: cannot be read", e.OpenPGPPassphraseFile)
		}
		pass = bytes.TrimRight(b, "\r\n")
	}
	return pgpkey.Load(e.OpenPGPKey, pass)
}

// actx is the context CLI writes run under.
func (e *Env) actx() context.Context { return app.CLIContext(e.Ctx) }

// withApp runs fn with an opened app, closing it afterwards.
func (e *Env) withApp(fn func(a *app.App) error) error {
	a, err := e.Open()
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

// zone is the organization's time zone: every date and time the command line shows or reads is in it.
func (e *Env) zone(a *app.App) *time.Location { return a.Cases.Zone(e.actx()) }

// parseDateFlag parses an optional date flag.
func parseDateFlag(name, s string) (*vigil.Date, error) {
	if s == "" {
		return nil, nil
	}
	d, err := vigil.ParseDate(s)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "--%s: %s", name, vigil.ErrorMessage(err))
	}
	return &d, nil
}

// parseAsOf is the --as-of flag: the zero Date (today, to the services) when it is not given.
func parseAsOf(s string) (vigil.Date, error) {
	d, err := parseDateFlag("as-of", s)
	if err != nil || d == nil {
		return vigil.Date{}, err
	}
	return *d, nil
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dateStr(d *vigil.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// changed reports whether a flag was set on the command line (updates change only what was given).
func changed(cmd *cobra.Command, name string) bool { return cmd.Flags().Changed(name) }
