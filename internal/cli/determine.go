package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/regulatory/scenario"
)

func init() {
	register(func(env *Env) *cobra.Command {
		return &cobra.Command{
			Use:   "determine [FILE|-]",
			Short: "Apply the FDA postmarket rules to a facts document (the Determination API)",
			Long: `Reads a facts document (JSON: as_of, policy, device, vulnerability, events), or a scenario file wrapping
one in "facts" (../shared/testdata/scenarios), from FILE, or from standard input when FILE is "-" or absent, and
prints the determination as JSON: controlled or uncontrolled, enforcement discretion and its four criteria, the Part
806 status and due date, the PMA and premarket consequences, every clock, the rationale and the warnings. Output is
JSON unless --format table is given; invalid facts print {"error": {"code": "EINVALID", ...}} and exit with code 2.
as_of defaults to today in the local time zone.`,
			Args: func(cmd *cobra.Command, args []string) error {
				if len(args) > 1 {
					env.Format = "json"
					return Usage("%s: want at most 1 argument (FILE or -), got %d", cmd.CommandPath(), len(args))
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				// The Determination API speaks JSON, errors included, unless a table is asked for by name.
				table := cmd.Flag("format").Changed && env.Format == "table"
				if !table {
					env.Format = "json"
				}
				in := env.Stdin
				if len(args) == 1 && args[0] != "-" {
					f, err := os.Open(args[0])
					if err != nil {
						return Usage("determine: %v", err)
					}
					defer f.Close()
					in = f
				}
				if in == nil {
					in = eofReader{}
				}
				data, err := io.ReadAll(io.LimitReader(in, regulatory.MaxFactsBytes+1))
				if err != nil {
					return Usage("determine: %v", err)
				}
				today := vigil.DateOf(vigil.SystemClock{}.Now(), time.Local)
				d, err := regulatory.DetermineJSON(bytes.NewReader(scenario.FactsOf(data)), today)
				if err != nil {
					return err
				}
				if table {
					return printDetermination(env, d)
				}
				return env.JSON(d)
			},
		}
	})
}

// printDetermination prints a determination as rows a person reads top to bottom: the risk, enforcement discretion
// and its criteria, Part 806, the consequences, the clocks, the warnings and the rationale.
func printDetermination(env *Env, d regulatory.Determination) error {
	date := func(x vigil.Date) string {
		if x.IsZero() {
			return ""
		}
		return x.String()
	}
	yes := map[bool]string{true: "yes", false: "no"}
	rows := [][]string{
		{"as of", date(d.AsOf), ""},
		{"risk", string(d.Risk), "current: " + string(d.CurrentRisk)},
		{"enforcement discretion", d.EnforcementDiscretion.Status, ""},
	}
	for _, c := range d.EnforcementDiscretion.Criteria {
		rows = append(rows, []string{fmt.Sprintf("  criterion %d", c.N), c.Status, c.Reason})
	}
	rows = append(rows,
		[]string{"part 806", d.Part806.Status, "due " + date(d.Part806.Due)},
		[]string{"premarket evaluation", yes[d.PremarketEvaluation], ""},
		[]string{"PMA periodic report", yes[d.PMAPeriodicReport], ""})
	for _, c := range []struct {
		name string
		due  vigil.Date
	}{{"ED communication", d.Deadlines.EDCommunication}, {"ED fix", d.Deadlines.EDFix}, {"part 806 report", d.Deadlines.Part806},
		{"MDR", d.Deadlines.MDR}, {"MDR 5-day", d.Deadlines.MDR5Day}} {
		if !c.due.IsZero() {
			rows = append(rows, []string{"deadline", c.name, date(c.due)})
		}
	}
	for _, w := range d.Warnings {
		rows = append(rows, []string{"warning", w.Code, w.Message})
	}
	for _, r := range d.Rationale {
		rows = append(rows, []string{"rationale", "", r})
	}
	return env.Table([]string{"", "STATUS", "DETAIL"}, rows)
}

// eofReader stands in for a missing stdin so that the decoder reports "want a JSON object" rather than panicking.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
