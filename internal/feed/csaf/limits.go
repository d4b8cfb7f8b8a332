package csaf

import "github.com/vigil-dev/vigil/internal/untrusted"

// DefaultLimits returns what Parse and Validate accept when a limit is left zero. They leave ample room for the
// largest real advisories (CISA's are under 0.3 MB and 11 levels deep; Red Hat's largest are a few MB with tens of
// thousands of products) while keeping a hostile document from exhausting memory or the stack: 32 MiB, 64 levels,
// 1 MiB strings, 100,000 product definitions, 10,000 vulnerabilities and 2,000,000 product references emitted.
func DefaultLimits() untrusted.Limits {
	return untrusted.Limits{MaxString: 1 << 20, MaxRecords: 10_000, MaxProducts: 100_000, MaxProductRefs: 2_000_000}.WithDefaults()
}

// errName is how errors name a CSAF document: "csaf icsma-21-355-01.json".
func errName(name string) string { return "csaf " + name }
