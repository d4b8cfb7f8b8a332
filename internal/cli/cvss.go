package cli

import (
	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/risk"
)

func init() {
	register(func(env *Env) *cobra.Command {
		return &cobra.Command{
			Use:   "cvss VECTOR",
			Short: "Score a CVSS v2.0, v3.0, v3.1 or v4.0 vector",
			Long: `Parses a CVSS vector and prints its scores as JSON (whatever --format says, since the output is one
record): {"version", "vector", "base_score", "severity", "exploitability"}, plus "temporal_score" (v2, v3.x),
"threat_score" (v4.0) and "environmental_score" when the vector states those metrics, and "nomenclature" for v4.0.
"exploitability" is the exploitability sub-score (v3.x and v2; null for v4.0, which has none); Vigil's
exploitability level is derived from the v3.x one (>= 2.8 high, >= 1.6 medium, else low).

v3.x vectors start with CVSS:3.0/ or CVSS:3.1/, v4.0 with CVSS:4.0/, v2 vectors have no prefix. A malformed
vector, or one whose metrics are out of the order v2.0 and v4.0 require, is invalid input: exit code 2, with
{"error": {...}} on stdout under --format json and a message on stderr otherwise.`,
			Example: `  vigil cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
  vigil cvss 'AV:N/AC:L/Au:N/C:P/I:P/A:P'`,
			Args: exactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := risk.ParseCVSS(args[0])
				if err != nil {
					return err
				}
				return env.JSON(c)
			},
		}
	})
}
