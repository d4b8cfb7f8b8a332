package cyclonedx

import (
	"bytes"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-dev/vigil/internal/sbom/model"
)

// validateXML validates an XML document by converting it to the JSON model and validating that against the JSON
// schema of the same version (1.0 and 1.1, which have no JSON form, against 1.2).
func validateXML(b []byte, name, version string) error {
	var bom cdx.BOM
	if err := newXMLDecoder(b).Decode(&bom); err != nil {
		return xmlError(name, b, err)
	}
	bom.BOMFormat = "CycloneDX"
	jv := version
	sv := bom.SpecVersion
	if sv < cdx.SpecVersion1_2 {
		sv, jv = cdx.SpecVersion1_2, "1.2"
	}
	var out bytes.Buffer
	if err := cdx.NewBOMEncoder(&out, cdx.BOMFileFormatJSON).EncodeVersion(&bom, sv); err != nil {
		return model.Invalid(name, "", "cannot convert to JSON for validation: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(&out)
	if err != nil {
		return model.Invalid(name, "", "cannot convert to JSON for validation: %v", err)
	}
	return validateDoc(name, jv, inst)
}
