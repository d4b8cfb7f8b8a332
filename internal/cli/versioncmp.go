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

An unknown ecosystem or an invalid version exits with code 2 and says why.`,
		Example: `  vigil version compare PyPI 1.0.dev1 1.0          # <
  vigil version compare Go v1.2.3 1.2.3             # =
  vigil version compare Debian:12 1:1.0-1 2.0-1     # >`,
		Args: exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			eco, a, b := args[0], args[1], args[2]
			c, err := version.Compare(eco, a, b)
			if err != nil {
				return err
			}
			sym := map[int]string{-1: "<", 0: "=", 1: ">"}[c]
			if env.Format == "json" {
				canonical, _ := version.Normalize(eco)
				return env.JSON(struct {
					Ecosystem string `json:"ecosystem"`
					A         string `json:"a"`
					B         string `json:"b"`
					Result    string `json:"result"`
					Order     int    `json:"order"`
				}{canonical, a, b, sym, c})
			}
			_, err = fmt.Fprintln(env.Stdout, sym)
			return err
		},
	}
}
