package cli

import (
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
)

func init() {
	register(func(env *Env) *cobra.Command {
		return &cobra.Command{
			Use:   "determine [FILE|-]",
			Short: "Apply the FDA postmarket rules to a facts document (the Determination API)",
			Long: `Reads a facts document (JSON: as_of, policy, device, vulnerability, events) from FILE, or from standard
input when FILE is "-" or absent, and prints the determination as JSON: controlled or uncontrolled, enforcement
discretion and its four criteria, the Part 806 status and due date, the PMA and premarket consequences, every clock,
the rationale and the warnings. Output is always JSON; invalid facts print {"error": {"code": "EINVALID", ...}} and
exit with code 2. as_of defaults to today in the local time zone.`,
			Args: func(cmd *cobra.Command, args []string) error {
				if len(args) > 1 {
					env.Format = "json"
					return Usage("%s: want at most 1 argument (FILE or -), got %d", cmd.CommandPath(), len(args))
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				// The Determination API speaks JSON only, errors included, whatever --format says.
				env.Format = "json"
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
				today := vigil.DateOf(vigil.SystemClock{}.Now(), time.Local)
				d, err := regulatory.DetermineJSON(in, today)
				if err != nil {
					return err
				}
				return env.JSON(d)
			},
		}
	})
}

// eofReader stands in for a missing stdin so that the decoder reports "want a JSON object" rather than panicking.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
