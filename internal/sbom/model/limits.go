package model

import (
	"io"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// DefaultLimits returns what an SBOM reader accepts when a limit is left zero. An SBOM is untrusted input: a
// supplier's tool, a customer upload or an attacker may send it. The whole document is read at once (schema
// validation walks it): 64 MiB, where the largest real SBOMs we know (whole Linux images) are a few MiB; up to
// 200,000 components, where a full distribution image has tens of thousands; nesting up to 128, because nested
// components nest deeper than feed records (real SBOMs stay under 20).
func DefaultLimits() untrusted.Limits {
	return untrusted.Limits{MaxRecordSize: 64 << 20, MaxRecords: 200_000, MaxDepth: 128}.WithDefaults()
}

// Name is how errors name an SBOM: "sbom pump.cdx.json", so that a message read in a log says what was refused.
func Name(file string) string { return "sbom " + file }

// CheckCount returns an error when n components exceed lim.MaxRecords; name is the document as Name gives it.
func CheckCount(name string, n int, lim untrusted.Limits) error {
	if n > lim.MaxRecords {
		return untrusted.Invalid(name, "", "more than the limit of %d components", lim.MaxRecords)
	}
	return nil
}

// Read reads a whole SBOM from r within lim (a zero field means DefaultLimits' value) and hands it to parse: every
// reader needs the whole document in memory (schema validation walks it), so the bound is applied once, here.
func Read(name string, r io.Reader, lim untrusted.Limits, parse func(name string, b []byte, lim untrusted.Limits) (*Document, error)) (*Document, error) {
	lim = lim.Or(DefaultLimits())
	b, err := untrusted.ReadAll(Name(name), r, lim.MaxRecordSize)
	if err != nil {
		return nil, err
	}
	return parse(name, b, lim)
}
