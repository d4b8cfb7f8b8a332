// Package sbom turns a Software Bill of Materials, whatever its format, into the components of a device version:
// Parse detects CycloneDX (JSON or XML) or SPDX 2.x (JSON or tag-value) and delegates to internal/sbom/cyclonedx
// or internal/sbom/spdx, and Diff says what changed between two imports of a device's SBOM. SBOMs come from
// suppliers and customers and are untrusted: reads are bounded (internal/untrusted), a rejected document yields an error that
// names the file and the field and no partial result.
package sbom

import (
	"bytes"
	"io"

	"github.com/vigil-dev/vigil/internal/sbom/cyclonedx"
	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/sbom/spdx"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Document is a parsed SBOM: see model.Document.
type Document = model.Document

// Relationship is one relationship between components of a Document.
type Relationship = model.Relationship

// Formats, as Document.Format reports them.
const (
	FormatCycloneDXJSON = model.FormatCycloneDXJSON
	FormatCycloneDXXML  = model.FormatCycloneDXXML
	FormatSPDXJSON      = model.FormatSPDXJSON
	FormatSPDXTagValue  = model.FormatSPDXTagValue
)

// Parse reads one SBOM from r and returns its components. name (usually the file name) is only used in errors.
// It returns EINVALID for anything it cannot accept: an unknown format, a document that fails its schema, a
// malformed purl, a document over a limit.
// A zero field of lim means the SBOM default (model.DefaultLimits: 64 MiB, 200,000 components, depth 128).
func Parse(name string, r io.Reader, lim untrusted.Limits) (*Document, error) {
	return model.Read(name, r, lim, ParseBytes)
}

// ParseBytes is Parse for a document already in memory.
func ParseBytes(name string, b []byte, lim untrusted.Limits) (*Document, error) {
	lim = lim.Or(model.DefaultLimits())
	if err := untrusted.CheckSize(model.Name(name), b, lim.MaxRecordSize); err != nil {
		return nil, err
	}
	switch Detect(b) {
	case FormatCycloneDXJSON:
		return cyclonedx.ParseJSON(name, b, lim)
	case FormatCycloneDXXML:
		return cyclonedx.ParseXML(name, b, lim)
	case FormatSPDXJSON:
		return spdx.ParseJSON(name, b, lim)
	case FormatSPDXTagValue:
		return spdx.ParseTagValue(name, b, lim)
	}
	return nil, untrusted.Invalid(model.Name(name), "", "%s", unsupported(b))
}

// unsupported explains why Detect found no format it reads.
func unsupported(b []byte) string {
	head := b
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	switch {
	case bytes.Contains(head, []byte("<rdf:RDF")) && bytes.Contains(head, []byte("spdx")):
		return "SPDX RDF/XML is not supported: send SPDX JSON or tag-value"
	case bytes.Contains(head, []byte("<Document")) && bytes.Contains(head, []byte("spdxVersion")):
		return "SPDX XML is not supported: send SPDX JSON or tag-value"
	case bytes.Contains(head, []byte("spdxVersion:")):
		return "SPDX YAML is not supported: send SPDX JSON or tag-value"
	}
	return "not a CycloneDX (JSON, XML) or SPDX 2 (JSON, tag-value) document"
}

// Detect names the format of b from its first bytes, "" when it is none Parse reads. It only looks, so a document
// it names may still be rejected by Parse. SPDX RDF/XML, SPDX YAML and SPDX 3 JSON-LD are not read, and say so.
func Detect(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	head := bytes.TrimLeft(b, " \t\r\n")
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	switch {
	case len(head) == 0:
		return ""
	case head[0] == '{':
		// JSON: the SPDX documents carry spdxVersion, CycloneDX ones bomFormat; SPDX 3 has neither but @context and
		// goes to the SPDX reader, which explains that it is not supported.
		atCDX := bytes.Index(b, []byte(`"bomFormat"`))
		atSPDX := bytes.Index(b, []byte(`"spdxVersion"`))
		if atSPDX < 0 {
			atSPDX = bytes.Index(b, []byte(`"@context"`))
		}
		// Whichever key comes first: a string value elsewhere could mention the other.
		if atSPDX >= 0 && (atCDX < 0 || atSPDX < atCDX) {
			return FormatSPDXJSON
		}
		if atCDX >= 0 {
			return FormatCycloneDXJSON
		}
		return ""
	case head[0] == '<':
		if bytes.Contains(head, []byte("cyclonedx.org/schema/bom")) || bytes.Contains(head, []byte("<bom")) {
			return FormatCycloneDXXML
		}
		return ""
	case bytes.HasPrefix(head, []byte("SPDXVersion")), bytes.Contains(head, []byte("\nSPDXVersion:")),
		bytes.HasPrefix(head, []byte("#")) && bytes.Contains(head, []byte("SPDXVersion:")):
		return FormatSPDXTagValue
	}
	return ""
}
