package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/service/intel"
)

func init() { register(importCmd) }

func importCmd(env *Env) *cobra.Command {
	var source string
	var skip bool
	cmd := &cobra.Command{Use: "import [--source auto|nvd|osv|kev|epss|csaf|stix] PATH|URL ...",
		Short: "Import vulnerability intelligence: files, folders, .zip, .gz and allow-listed URLs, in one transaction",
		Long: `Import reads every document given (folders recursively, .zip and .gz archives, https URLs of configured
feeds), detects each one's source unless --source says it, and writes the whole run in one transaction: a
malformed record stops the run with an error naming the file and the JSON path, and nothing is kept. With
--skip-invalid the valid records are imported and each invalid one is listed as rejected. Documents imported
before are recognised by their digest and counted unchanged.`,
		Example: `  vigil import ../shared/testdata/osv-corpus
  vigil import --format json known_exploited_vulnerabilities.json epss_scores-2025-02-20.csv.gz
  vigil import https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return Usage("%s: give at least one file, folder or URL", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if env.Format != "json" && env.Format != "table" {
				return Usage("--format: %q is not one of json, table", env.Format)
			}
			if err := vigil.OneOf("--source", source, vigil.ImportSources); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				p := newImportProgress(env, a.Clock)
				res, err := a.Intel.Import(env.actx(), args, vigil.ImportOptions{Source: source, SkipInvalid: skip, Progress: p.update})
				p.finish()
				if err != nil {
					return err
				}
				return importOutput(env, res)
			})
		}}
	cmd.Flags().StringVar(&source, "source", "auto", "read every document as this source instead of detecting it: "+strings.Join(vigil.ImportSources, ", "))
	cmd.Flags().BoolVar(&skip, "skip-invalid", false, "import the valid records and list the invalid ones as rejected, instead of stopping")
	return cmd
}

// importOutput prints what an import did: the re-match of the portfolio on stderr, the summaries on stdout.
func importOutput(env *Env, res *intel.Result) error {
	rm := res.Rematch
	fmt.Fprintf(env.Stderr, "portfolio: %d device version(s) re-matched, %d finding(s) opened, %d resolved\n", rm.Versions, rm.Opened, rm.Resolved)
	sums := res.Import.Summaries
	if err := env.Output(sums, summaryTable(sums)); err != nil {
		return err
	}
	if env.Format == "table" {
		return rejectTable(env, sums)
	}
	return nil
}

func summaryTable(sums []vigil.IntelSummary) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, s := range sums {
			rows = append(rows, []string{s.Source, strconv.Itoa(s.Added), strconv.Itoa(s.Updated), strconv.Itoa(s.Unchanged),
				strconv.Itoa(s.Withdrawn), strconv.Itoa(len(s.Rejected))})
		}
		return []string{"SOURCE", "ADDED", "UPDATED", "UNCHANGED", "WITHDRAWN", "REJECTED"}, rows
	}
}

func rejectTable(env *Env, sums []vigil.IntelSummary) error {
	var rows [][]string
	for _, s := range sums {
		for _, r := range s.Rejected {
			rows = append(rows, []string{s.Source, r.File, r.Record, r.Error})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(env.Stdout)
	return env.Table([]string{"REJECTED", "FILE", "RECORD", "ERROR"}, rows)
}

// importProgress shows an import's progress on stderr: a bar (records, bytes, rate, ETA) on a terminal, a plain
// line every few seconds otherwise (a log file or CI gets no escape codes).
type importProgress struct {
	env   *Env
	clock vigil.Clock
	tty   bool
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
	p     vigil.ImportProgress
}

func newImportProgress(env *Env, clock vigil.Clock) *importProgress {
	p := &importProgress{env: env, clock: clock, start: clock.Now()}
	if f, ok := env.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	p.last = p.start
	return p
}

func (p *importProgress) update(pr vigil.ImportProgress) {
	p.p = pr
	if p.tty {
		if p.bar == nil {
			max := pr.TotalBytes
			if max <= 0 {
				max = -1
			}
			p.bar = progressbar.NewOptions64(max, progressbar.OptionSetWriter(p.env.Stderr), progressbar.OptionShowBytes(true),
				progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetDescription("importing"), progressbar.OptionFullWidth(), progressbar.OptionClearOnFinish())
		}
		p.bar.Describe(fmt.Sprintf("%d records", pr.Records))
		p.bar.Set64(pr.Bytes)
		return
	}
	if now := p.clock.Now(); now.Sub(p.last) >= 5*time.Second {
		p.last = now
		p.line(now)
	}
}

func (p *importProgress) line(now time.Time) {
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.p.Records) / el
	}
	total := ""
	if p.p.TotalBytes > 0 {
		total = fmt.Sprintf(" of %.1f MB", float64(p.p.TotalBytes)/1e6)
	}
	fmt.Fprintf(p.env.Stderr, "import: %d records, %.1f MB%s read, %.0f records/s\n", p.p.Records, float64(p.p.Bytes)/1e6, total, rate)
}

func (p *importProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		return
	}
	if !p.tty && p.p.Records > 0 {
		p.line(p.clock.Now())
	}
}
