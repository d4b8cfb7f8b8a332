package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/version"
)

// versionCompareCmd is "vigil version compare ECOSYSTEM A B". It is not registered on its own: the lead attaches
// it under "vigil version", beside the device-version verbs.
func versionCompareCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "compare ECOSYSTEM A B",
		Short: "Order two versions as an OSV ecosystem does: prints <, = or >",
		Long: `Compare two versions in an OSV ecosystem's own order (PEP 440 for PyPI, SemVer for npm and Go, dpkg for
Debian, rpmvercmp for Red Hat, ...) and print "<", "=" or ">" for A against B.

ECOSYSTEM is spelled as OSV spells it, in any case, with or without OSV's suffix: PyPI, npm, Maven, Go,
crates.io, NuGet, RubyGems, Packagist, Debian:12, Ubuntu:22.04:LTS, Alpine:v3.18, Red Hat:rhel_aus:8.4::appstream,
Bitnami, Root:PyPI, ...

An unknown ecosystem or an invalid version exits with code 2 and says why. A version the ecosystem's own tool
orders only with a warning (dpkg on "a-0", apk on "1.0bc") is ordered as that tool orders it, and the warning is
printed on stderr (in "warnings" with --format json).`,
		Example: `  vigil version compare PyPI 1.0.dev1 1.0          # <
  vigil version compare Go v1.2.3 1.2.3             # =
  vigil version compare Debian:12 1:1.0-1 2.0-1     # >`,
		Args: exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			eco, a, b := args[0], args[1], args[2]
			va, err := version.Parse(eco, a)
			if err != nil {
				return err
			}
			vb, err := version.Parse(eco, b)
			if err != nil {
				return err
			}
			c := va.Compare(vb)
			// A version the ecosystem's tool orders with a warning is ordered as the tool orders it; say so.
			var warnings []string
			for _, v := range []version.Version{va, vb} {
				if w := v.Warning(); w != "" {
					warnings = append(warnings, fmt.Sprintf("%s version %q: %s", v.Ecosystem(), v.String(), w))
				}
			}
			sym := map[int]string{-1: "<", 0: "=", 1: ">"}[c]
			if env.Format == "json" {
				return env.JSON(struct {
					Ecosystem string   `json:"ecosystem"`
					A         string   `json:"a"`
					B         string   `json:"b"`
					Result    string   `json:"result"`
					Order     int      `json:"order"`
					Warnings  []string `json:"warnings,omitempty"`
				}{va.Ecosystem(), a, b, sym, c, warnings})
			}
			for _, w := range warnings {
				fmt.Fprintf(env.Stderr, "vigil: warning: %s\n", w)
			}
			_, err = fmt.Fprintln(env.Stdout, sym)
			return err
		},
	}
}
