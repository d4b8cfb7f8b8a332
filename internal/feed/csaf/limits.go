package csaf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-dev/vigil"
)

// Limits bound what one document may make Vigil do. The defaults leave ample room for the largest real advisories
// (CISA's are under 0.3 MB and 11 levels deep; Red Hat's largest are a few MB with tens of thousands of products)
// while keeping a hostile document from exhausting memory or the stack.
type Limits struct {
	MaxBytes           int64 // size of the document
	MaxDepth           int   // nesting of JSON objects and arrays
	MaxString          int   // bytes of one JSON string as written (escapes included)
	MaxProducts        int   // product definitions: branch products, full_product_names, relationships
	MaxVulnerabilities int   // entries of /vulnerabilities
	// MaxProductRefs bounds the product entries Parse emits over all advisories (one per product and status, plus
	// remediation product ids after group expansion), since a few group ids can otherwise fan out quadratically.
	MaxProductRefs int
}

// DefaultLimits returns the limits Parse and Validate use.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:           32 << 20,
		MaxDepth:           64,
		MaxString:          1 << 20,
		MaxProducts:        100_000,
		MaxVulnerabilities: 10_000,
		MaxProductRefs:     2_000_000,
	}
}

// invalid returns an EINVALID error naming the document.
func invalid(name, format string, args ...any) error {
	return vigil.Errorf(vigil.EINVALID, "csaf %s: %s", name, fmt.Sprintf(format, args...))
}

// readBounded reads all of r, failing when it holds more than max bytes.
func readBounded(r io.Reader, name string, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("csaf %s: read: %w", name, err)
	}
	if int64(len(b)) > max {
		return nil, invalid(name, "document larger than %d bytes", max)
	}
	return b, nil
}

// prescan walks the raw bytes once, before any decoding, and rejects documents nested deeper than lim.MaxDepth or
// holding a string longer than lim.MaxString. encoding/json would itself stop at 10,000 levels, but only after
// building that much; checking first keeps both the decoder and our recursive walks shallow.
func prescan(b []byte, name string, lim Limits) error {
	depth, inString, escaped, strStart := 0, false, false, 0
	for i, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if i-strStart > lim.MaxString {
					return invalid(name, "string at offset %d is longer than %d bytes", strStart, lim.MaxString)
				}
			}
			continue
		}
		switch c {
		case '"':
			inString, strStart = true, i+1
		case '{', '[':
			depth++
			if depth > lim.MaxDepth {
				return invalid(name, "nesting deeper than %d levels at offset %d", lim.MaxDepth, i)
			}
		case '}', ']':
			depth--
		}
	}
	if inString && len(b)-strStart > lim.MaxString {
		return invalid(name, "string at offset %d is longer than %d bytes", strStart, lim.MaxString)
	}
	return nil
}

// decode unmarshals b into v and turns encoding/json's errors into ones that name the document, the offset and,
// for type mismatches, the field.
func decode(b []byte, name string, v any) error {
	err := json.Unmarshal(b, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return invalid(name, "invalid JSON at offset %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(document)"
		}
		return invalid(name, "%s: %s is not a valid %s (offset %d)", field, typ.Value, jsonKind(typ.Type.Kind().String()), typ.Offset)
	default:
		return invalid(name, "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

// jsonKind names a Go kind the way a JSON author thinks of it.
func jsonKind(k string) string {
	switch k {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "float64", "int", "int64":
		return "number"
	case "ptr":
		return "value"
	}
	return k
}
