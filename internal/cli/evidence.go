package cli

import (
	"archive/zip"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/audit"
)

func init() { register(evidenceCmd) }

func evidenceCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "evidence", Short: "Evidence packages for an inspection or a submission, verifiable offline (vigil audit verify --package)"}
	var caseID int64
	var device, out string
	var period int
	export := &cobra.Command{Use: "export --case ID | --device D --period YYYY -o FILE.zip",
		Short: "Write the evidence package of a case, or of a device for a reporting period: documents, decision records and signatures, notices as sent, ISAO shares and §IX evidence, the audit-trail segment, a signed checkpoint, a signed manifest",
		Example: "  vigil --audit-key /etc/vigil/audit.key evidence export --case 7 -o case-7-evidence.zip\n" +
			"  vigil --audit-key /etc/vigil/audit.key evidence export --device \"ICD-7\" --period 2026 -o icd-7-2026.zip", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if (caseID > 0) == (device != "") || out == "" || device != "" && period == 0 || caseID > 0 && period != 0 {
				return Usage("--case ID, or --device D with --period YYYY, and -o FILE.zip are required")
			}
			if _, err := os.Stat(out); err == nil {
				return vigil.Errorf(vigil.ECONFLICT, "%s already exists: an evidence package is never overwritten", out)
			}
			return env.withApp(func(a *app.App) error {
				export := func(w io.Writer) (audit.PackageManifest, error) { return a.Evidence.ExportCase(env.actx(), caseID, w) }
				if device != "" {
					d, err := reportDevice(env, a, device)
					if err != nil {
						return err
					}
					export = func(w io.Writer) (audit.PackageManifest, error) {
						return a.Evidence.ExportDevice(env.actx(), d.ID, period, w)
					}
				}
				tmp, err := os.CreateTemp(filepath.Dir(out), ".evidence-*")
				if err != nil {
					return fmt.Errorf("evidence %s: %w", out, err)
				}
				defer os.Remove(tmp.Name())
				m, err := export(tmp)
				if err == nil {
					err = tmp.Sync()
				}
				if cerr := tmp.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				if err := os.Rename(tmp.Name(), out); err != nil {
					return fmt.Errorf("evidence %s: %w", out, err)
				}
				fmt.Fprintf(env.Stderr, "evidence package of %s written to %s (audit head %d)\n", m.Scope, out, m.Checkpoint.Count)
				return nil
			})
		}}
	export.Flags().Int64Var(&caseID, "case", 0, "the case")
	export.Flags().StringVar(&device, "device", "", "the device (name or id)")
	export.Flags().IntVar(&period, "period", 0, "with --device: the year the period ends in (the PMA reporting period for a PMA device, else the calendar year)")
	export.Flags().StringVarP(&out, "out", "o", "", "the zip to write (never overwritten)")
	cmd.AddCommand(export)
	return cmd
}

// verifyPackage verifies an evidence package offline: no database is opened.
func verifyPackage(env *Env, path, keyFlag string) error {
	var key ed25519.PublicKey
	if keyFlag != "" {
		k, err := readPublicKey(keyFlag)
		if err != nil {
			return err
		}
		key = k
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return Usage("--package %s: %v", path, err)
	}
	defer zr.Close()
	rep, err := audit.VerifyPackage(&zr.Reader, key)
	if err != nil && len(rep.Problems) == 0 {
		return err
	}
	if env.Format == "json" {
		if jerr := env.JSON(struct {
			OK bool `json:"ok"`
			audit.PackageReport
		}{err == nil, rep}); jerr != nil {
			return jerr
		}
	} else if err == nil {
		fmt.Fprintf(env.Stdout, "ok: %s; %d files match the signed manifest; %d audit events (%d redacted) chain to the checkpoint's head (event %d); %d records match the trail\n",
			rep.Scope, rep.Files, rep.Events, rep.Redacted, rep.Checkpoint.Count, rep.Records)
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintln(env.Stdout, cell(p))
		}
	}
	if !rep.KeyGiven && env.Format != "json" {
		fmt.Fprintf(env.Stderr, "verified with the audit key the package carries (%s): compare it with your published audit key, or give it with --key\n", rep.Key)
	}
	if err != nil {
		env.SetExit(ExitFailure)
		if env.Format != "json" {
			fmt.Fprintf(env.Stderr, "vigil: %s\n", vigil.ErrorMessage(err))
		}
	}
	return nil
}

// readPublicKey reads the audit key's public half from --key: its base64 text, or a file holding it or a signed
// checkpoint (whose key it is).
func readPublicKey(v string) (ed25519.PublicKey, error) {
	if k, err := audit.ParseKeyText("--key", v); err == nil {
		return k, nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, Usage("--key: neither an Ed25519 public key (base64) nor a readable file: %v", err)
	}
	if k, err := audit.ParseKeyText("--key "+v, strings.TrimSpace(string(b))); err == nil {
		return k, nil
	}
	var cp vigil.AuditCheckpoint
	if json.Unmarshal(b, &cp) != nil {
		return nil, Usage("--key %s: neither a public key (base64) nor a signed checkpoint", v)
	}
	return audit.VerifyCheckpoint(v, cp)
}
