package model

import (
	"bytes"
	"fmt"
	"io"

	"github.com/vigil-dev/vigil"
)

// Default limits. An SBOM is untrusted input: a supplier's tool, a customer upload or an attacker may send it.
const (
	DefaultMaxBytes      = 64 << 20 // 64 MiB: the largest real SBOMs we know (whole Linux images) are a few MiB
	DefaultMaxComponents = 200_000  // a full distribution image has tens of thousands of packages
	DefaultMaxDepth      = 128      // nesting of JSON values or XML elements; real SBOMs stay under 20
)

// Limits bound what a reader accepts. A zero field means its default.
type Limits struct {
	MaxBytes      int64 // size of the document as read
	MaxComponents int   // components after flattening nested ones
	MaxDepth      int   // nesting depth of JSON objects/arrays or XML elements (nested components nest deeper)
}

// WithDefaults returns l with each zero field replaced by its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxComponents <= 0 {
		l.MaxComponents = DefaultMaxComponents
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// ReadAll reads r whole, refusing more than lim.MaxBytes: every reader needs the whole document in memory anyway
// (schema validation walks it), so the bound is applied once, here, before any parsing.
func ReadAll(r io.Reader, name string, lim Limits) ([]byte, error) {
	lim = lim.WithDefaults()
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, Invalid(name, "", "read: %v", err)
	}
	if n > lim.MaxBytes {
		return nil, Invalid(name, "", "document is larger than the limit of %d bytes", lim.MaxBytes)
	}
	return buf.Bytes(), nil
}

// Invalid returns an EINVALID error naming the file and, when field is not empty, the field (a JSON path such as
// components[3].purl, or "line 12" for tag-value).
func Invalid(name, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		return vigil.Errorf(vigil.EINVALID, "sbom %s: %s: %s", name, field, msg)
	}
	return vigil.Errorf(vigil.EINVALID, "sbom %s: %s", name, msg)
}

// JSONDepth returns an error when the JSON text b nests objects and arrays deeper than max. It scans bytes (strings
// skipped) rather than decoding, so a hostile document is refused before any decoder recurses into it.
func JSONDepth(b []byte, name string, max int) error {
	depth := 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return Invalid(name, "", "JSON nests deeper than the limit of %d (at byte %d)", max, i)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}
