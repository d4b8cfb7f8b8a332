// Package cyclonedx reads CycloneDX SBOMs (JSON 1.2–1.7, XML 1.0–1.7) into Vigil components, validating each
// document against the official schema of its version first, and writes CycloneDX VEX documents for scan results.
// Input is untrusted: reads are bounded, XML with a DOCTYPE is refused before anything else is parsed, and every
// error names the file and the field (components[3].purl) so a supplier can fix what it sent.
package cyclonedx

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Parse reads a CycloneDX document from r, JSON or XML by its first non-space byte. name is used in errors only.
// A zero field of lim means the SBOM default (model.DefaultLimits).
func Parse(name string, r io.Reader, lim untrusted.Limits) (*model.Document, error) {
	return model.Read(name, r, lim, func(name string, b []byte, lim untrusted.Limits) (*model.Document, error) {
		if model.FirstByte(b) == '<' {
			return ParseXML(name, b, lim)
		}
		return ParseJSON(name, b, lim)
	})
}

// ParseJSON parses and validates a CycloneDX JSON document held in b.
func ParseJSON(name string, b []byte, lim untrusted.Limits) (*model.Document, error) {
	lim, name = lim.Or(model.DefaultLimits()), model.Name(name)
	// Windows tools write a UTF-8 byte order mark, which JSON does not allow but every reader tolerates.
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if err := untrusted.CheckSize(name, b, lim.MaxRecordSize); err != nil {
		return nil, err
	}
	if err := untrusted.CheckJSON(name, b, lim); err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		_, err := jsonschema.UnmarshalJSON(bytes.NewReader(b)) // for the error's place
		return nil, untrusted.JSONError(name, "", b, err)
	}
	top, comps, ok, err := splitComponents(b)
	if err != nil {
		return nil, untrusted.JSONError(name, "", b, err)
	}
	if !ok {
		return nil, untrusted.Invalid(name, "$", "a CycloneDX document is a JSON object")
	}
	version, _ := top["specVersion"].(string)
	if version == "" {
		return nil, untrusted.Invalid(name, "specVersion", "missing or not a string")
	}
	// The schema validation and the decode into the document read the same bytes, and each is about half of a
	// large SBOM's parse: they run at once. A document the schema refuses gets the schema's error, as when the
	// validation ran first.
	valid := make(chan error, 1)
	go func() { valid <- validateDoc(name, version, top, b, comps) }()
	doc, err := decodeJSON(name, b, version, lim)
	if verr := <-valid; verr != nil {
		return nil, verr
	}
	return doc, err
}

func decodeJSON(name string, b []byte, version string, lim untrusted.Limits) (*model.Document, error) {
	var bom bomDoc
	if err := json.Unmarshal(b, &bom); err != nil {
		return nil, untrusted.JSONError(name, "", b, err)
	}
	return convert(&bom, name, model.FormatCycloneDXJSON, version, lim)
}

func validateDoc(name, version string, top map[string]any, b []byte, comps [][2]int64) error {
	field, msg, err := validate(version, top, b, comps)
	if err != nil {
		return untrusted.Invalid(name, "specVersion", "%v", err)
	}
	if msg != "" {
		return untrusted.Invalid(name, field, "%s (CycloneDX %s schema)", untrusted.Clip(msg), version)
	}
	return nil
}
