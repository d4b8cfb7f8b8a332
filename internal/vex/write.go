package vex

import (
	"fmt"
	"io"
	"strings"
	"time"

	ovex "github.com/openvex/go-vex/pkg/vex"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom/cyclonedx"
)

// OpenVEXContext is the OpenVEX version Vigil writes.
const OpenVEXContext = "https://openvex.dev/ns/v0.2.0"

// WriteOpenVEX writes d as an OpenVEX 0.2.0 document: one statement per vulnerability, its product the device
// version with the components that carry it as subcomponents. not_affected carries the justification in OpenVEX's
// words (or the impact statement alone), affected its action statement (OpenVEX requires one: without a recorded
// one the statement says the remediation is being planned), fixed and under_investigation the detail as status
// notes. The output is deterministic for the same input.
func WriteOpenVEX(w io.Writer, d *vigil.DeviceVEX, toolVersion string) error {
	doc := ovex.New()
	doc.Context = OpenVEXContext
	doc.ID = d.ID
	doc.Author = d.Author
	doc.AuthorRole = "manufacturer"
	doc.Tooling = "vigil " + toolVersion
	doc.Version = 1
	ts := d.Timestamp.UTC().Truncate(time.Second)
	doc.Timestamp = &ts
	for i, s := range d.Statements {
		st := ovex.Statement{Vulnerability: ovex.Vulnerability{Name: ovex.VulnerabilityID(s.Vulnerability)}, Status: ovex.Status(s.Status)}
		if strings.HasPrefix(s.Vulnerability, "CVE-") {
			st.Vulnerability.ID = "https://nvd.nist.gov/vuln/detail/" + s.Vulnerability
		}
		for _, a := range s.Aliases {
			st.Vulnerability.Aliases = append(st.Vulnerability.Aliases, ovex.VulnerabilityID(a))
		}
		if !s.Timestamp.IsZero() {
			t := s.Timestamp.UTC().Truncate(time.Second)
			st.Timestamp = &t
		}
		p := ovex.Product{Component: openvexComponent(d.Product)}
		for _, c := range s.Components {
			p.Subcomponents = append(p.Subcomponents, ovex.Subcomponent{Component: openvexComponent(c)})
		}
		st.Products = []ovex.Product{p}
		SetOpenVEX(&st, s)
		if err := st.Validate(); err != nil {
			return vigil.Errorf(vigil.EINVALID, "VEX statement %d (%s): %v", i, s.Vulnerability, err)
		}
		doc.Statements = append(doc.Statements, st)
	}
	return doc.ToJSON(w)
}

// SetOpenVEX gives an OpenVEX statement the status of s: not_affected with the justification in OpenVEX's words
// (or the impact statement alone), affected with its action statement (OpenVEX requires one: without a recorded
// one it says the remediation is being planned), and the detail as status notes, before any the statement had.
func SetOpenVEX(st *ovex.Statement, s vigil.DeviceVEXStatement) {
	st.Status = ovex.Status(s.Status)
	st.StatusNotes = joinText(s.Detail, st.StatusNotes)
	switch s.Status {
	case vigil.VEXNotAffected:
		st.Justification = ovex.Justification(s.Justification.OpenVEX())
		st.ImpactStatement = s.ImpactStatement
	case vigil.VEXAffected:
		st.ActionStatement = s.ActionStatement
		if st.ActionStatement == "" {
			st.ActionStatement = "A remediation is being planned; customers will be told when it is available."
		}
	}
}

// openvexComponent names a component by its purl (with the purl and CPE as identifiers), else a Vigil URN.
func openvexComponent(c vigil.Component) ovex.Component {
	out := ovex.Component{ID: componentIRI(c)}
	ids := map[ovex.IdentifierType]string{}
	if c.Purl != "" {
		ids[ovex.PURL] = c.Purl
	}
	if c.CPE != "" {
		ids[ovex.CPE23] = c.CPE
	}
	if len(ids) > 0 {
		out.Identifiers = ids
	}
	return out
}

func componentIRI(c vigil.Component) string {
	switch {
	case c.Purl != "":
		return c.Purl
	case c.CPE != "":
		return c.CPE
	}
	return "urn:vigil:component:" + strings.ReplaceAll(c.Name+"@"+c.Version, " ", "%20")
}

// WriteCycloneDX writes d as a CycloneDX 1.6 VEX document (JSON): the device version as metadata.component, its
// SBOM's components, and one vulnerability per statement with its analysis: affected → exploitable (the action
// statement as the recommendation and detail, with the responses it implies), not_affected → not_affected with
// the justification in CycloneDX's words, fixed → resolved, under_investigation → in_triage.
func WriteCycloneDX(w io.Writer, d *vigil.DeviceVEX, toolVersion string) error {
	var sts []cyclonedx.Statement
	for _, s := range d.Statements {
		st, err := CycloneDXStatement(d.Device, s)
		if err != nil {
			return err
		}
		sts = append(sts, st)
	}
	product := d.Product
	product.Type = "device"
	return cyclonedx.WriteStatements(w, product, d.Components, sts, cyclonedx.VEXOptions{SerialNumber: d.ID, Timestamp: d.Timestamp,
		ToolVersion: toolVersion, Manufacturer: d.Author})
}

// CycloneDXStatement is s in CycloneDX's words: affected → exploitable (the action statement as the recommendation,
// with the responses it implies), not_affected → not_affected with the justification in CycloneDX's words, fixed →
// resolved, under_investigation → in_triage.
func CycloneDXStatement(device string, s vigil.DeviceVEXStatement) (cyclonedx.Statement, error) {
	st := cyclonedx.Statement{Vulnerability: s.Vulnerability, Aliases: s.Aliases, Components: s.Components, Detail: s.Detail, Timestamp: s.Timestamp}
	switch s.Status {
	case vigil.VEXAffected:
		st.State, st.Recommendation = cyclonedx.StateExploitable, s.ActionStatement
		st.Responses = responses(s)
	case vigil.VEXNotAffected:
		st.State, st.Justification = cyclonedx.StateNotAffected, string(s.Justification.CycloneDX())
		st.Detail = joinText(s.ImpactStatement, s.Detail)
	case vigil.VEXFixed:
		st.State = cyclonedx.StateResolved
		if s.FixedIn != "" {
			st.Recommendation = fmt.Sprintf("Update %s to %s.", device, s.FixedIn)
		}
	case vigil.VEXUnderInvestigation:
		st.State = cyclonedx.StateInTriage
	default:
		return st, vigil.Errorf(vigil.EINVALID, "VEX statement %s: status %q", s.Vulnerability, s.Status)
	}
	return st, nil
}

// responses are the CycloneDX responses an affected statement implies: an update when a fixing release is named,
// a workaround when compensating controls are documented.
func responses(s vigil.DeviceVEXStatement) []string {
	var out []string
	if s.FixedIn != "" {
		out = append(out, "update")
	}
	if s.Workaround {
		out = append(out, "workaround_available")
	}
	return out
}

func joinText(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}
