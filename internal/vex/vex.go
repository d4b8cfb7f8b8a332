// Package vex reads a supplier's VEX document — CycloneDX VEX, OpenVEX (v0.0.1 and v0.2.0) or CSAF VEX — into the
// statements it makes: a vulnerability's status (affected, not affected, fixed, under investigation) for a product,
// with the supplier's justification and detail. It exists because a VEX file is not an SBOM: uploaded as one it had
// replaced a version's components with none. Each format's words map onto vigil.VEXStatus (CycloneDX
// exploitable → affected, in_triage → under_investigation, false_positive → not_affected, resolved → fixed; CSAF's
// known_not_affected, fixed/first_fixed, known_affected/first_affected/last_affected, under_investigation). A
// product is named as precisely as the document does: a purl when it gives one (CycloneDX bom-refs are resolved to
// the component they name, a urn:cdx:…#purl reference to its purl; OpenVEX's subcomponents win over the product they
// sit in, since a supplier's statement is about its component), else a name and version (CSAF's product tree
// branches; a product_version_range is kept as text). Matching statements to findings is the VEX service's; this
// package is a bounded parser and touches no store. It also writes Vigil's own VEX of a device version
// (vigil.DeviceVEX) in OpenVEX 0.2.0, CycloneDX 1.6 and CSAF VEX (through internal/publish/csaf), the same
// statuses in each (write.go).
package vex

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Document is what a VEX file says.
type Document struct {
	Format     string // cyclonedx, openvex or csaf
	Author     string // the issuer as the document names it (OpenVEX author, CSAF publisher, CycloneDX manufacturer/supplier)
	Statements []vigil.VEXStatement
	// Skipped counts vulnerability entries that carry no VEX status (a CycloneDX vulnerability without analysis is a
	// report, not a statement).
	Skipped int
}

// Limits are the VEX readers' defaults: a VEX document is read whole, like an SBOM.
func Limits() untrusted.Limits {
	return untrusted.Limits{MaxRecordSize: 64 << 20, MaxDepth: 128, MaxRecords: 200_000, MaxString: 1 << 20}.WithDefaults()
}

// Parse reads a VEX document from r. name is the file name errors start with.
func Parse(name string, r io.Reader, lim untrusted.Limits) (*Document, error) {
	lim = lim.Or(Limits())
	b, err := untrusted.ReadAll(name, r, lim.MaxRecordSize)
	if err != nil {
		return nil, err
	}
	return ParseBytes(name, b, lim)
}

// ParseBytes is Parse for a document already in memory.
func ParseBytes(name string, b []byte, lim untrusted.Limits) (*Document, error) {
	lim = lim.Or(Limits())
	if err := untrusted.CheckSize(name, b, lim.MaxRecordSize); err != nil {
		return nil, err
	}
	if err := untrusted.CheckJSON(name, b, lim); err != nil {
		return nil, err
	}
	var probe struct {
		BOMFormat string          `json:"bomFormat"`
		Context   string          `json:"@context"`
		Document  json.RawMessage `json:"document"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, untrusted.JSONError(name, "", b, err)
	}
	var doc *Document
	var err error
	switch {
	case probe.BOMFormat == "CycloneDX":
		doc, err = parseCycloneDX(name, b)
	case strings.Contains(probe.Context, "openvex"):
		doc, err = parseOpenVEX(name, b)
	case len(probe.Document) > 0 && bytes.Contains(probe.Document, []byte(`"csaf_version"`)):
		doc, err = parseCSAF(name, b, lim)
	default:
		return nil, untrusted.Invalid(name, "", "not a VEX document this reads (CycloneDX with vulnerabilities[].analysis, OpenVEX with an openvex @context, or CSAF)")
	}
	if err != nil {
		return nil, err
	}
	if len(doc.Statements) > lim.MaxRecords {
		return nil, untrusted.Invalid(name, "", "%d statements: more than the limit of %d", len(doc.Statements), lim.MaxRecords)
	}
	for i, s := range doc.Statements {
		if err := s.Validate(); err != nil {
			return nil, untrusted.Invalid(name, "", "statement %d: %s", i, vigil.ErrorMessage(err))
		}
	}
	if len(doc.Statements) == 0 {
		return nil, untrusted.Invalid(name, "", "no VEX statement: no vulnerability carries a status for a product")
	}
	return doc, nil
}

// product makes a VEXProduct of a reference that may be a purl.
func product(ref, name, version string) vigil.VEXProduct {
	ref = strings.TrimSpace(ref)
	if _, after, ok := strings.Cut(ref, "#"); ok && strings.HasPrefix(ref, "urn:cdx:") {
		ref = after
	}
	if strings.HasPrefix(ref, "pkg:") {
		return vigil.VEXProduct{Purl: ref}
	}
	if name == "" {
		name = ref
	}
	return vigil.VEXProduct{Name: name, Version: version}
}
