// Command osvgen writes a synthetic, deterministic OSV corpus for import benchmarks: N advisories (default 500,000)
// across eight ecosystems (PyPI, npm, Maven, Go, crates.io, Debian:12, RubyGems, NuGet), shaped like the real
// ones (introduced/fixed pairs, last_affected, several ranges, explicit version lists, GIT ranges, CVE and GHSA
// aliases, CVSS vectors, summaries and details of realistic length), written as <Ecosystem>/all.zip the way OSV.dev
// publishes them. The same -seed and -n always give byte-identical archives.
//
// -modify-percent P writes the same corpus except that P percent of the records (chosen by the seed) carry a
// newer "modified" time and a changed range, which is what a re-import benchmark needs: generate a base corpus,
// then one with -modify-percent 1, and import the second over the first.
//
//	osvgen -out /tmp/osv [-n 500000] [-seed 1] [-modify-percent 1]
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "osvgen:", err)
		os.Exit(1)
	}
}
