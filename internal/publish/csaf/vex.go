package csaf

import (
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
)

// VEX describes the CSAF VEX document of one device version: what the manufacturer states about each
// vulnerability for that version.
type VEX struct {
	Title      string // default "VEX for DEVICE VERSION"
	TLP        string
	Publisher  Publisher
	Tracking   Tracking
	Product    Product // the device version (Version set)
	Statements []VEXStatement
}

// VEXStatement is one vulnerability's status for the version, as the assessed case says it.
type VEXStatement struct {
	Vulnerability string // a CVE, or another id (System names its scheme then)
	System        string // the id's scheme when it is not a CVE (default "Vigil")
	Status        vigil.VEXStatus
	// Justification (not_affected): one of Justifications. Impact is the impact statement in words; a
	// not_affected statement needs one of the two (CSAF 2.0 mandatory test 6.1.27.9).
	Justification string
	Impact        string
	// Action (affected): what users should do, the action statement 6.1.27.10 requires. ActionCategory is its
	// remediation category (default mitigation; vendor_fix when a fixed release exists, workaround, ...).
	Action         string
	ActionCategory string
	Detail         string // the vulnerability note (default: the status in words)
}

// WriteVEX renders the CSAF VEX document of one device version and validates it like Write.
func WriteVEX(in VEX) ([]byte, error) {
	p := in.Product
	if p.ID == "" || p.Version == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "product: a product id and a version are required")
	}
	title := in.Title
	if title == "" {
		title = "VEX for " + p.FullName()
	}
	d := Document{Category: CategoryVEX, Title: title, TLP: in.TLP, Publisher: in.Publisher, Tracking: in.Tracking, Products: []Product{p}}
	for i, st := range in.Statements {
		v, err := vexVuln(st, p)
		if err != nil {
			return nil, fmt.Errorf("statements[%d]: %w", i, err)
		}
		d.Vulnerabilities = append(d.Vulnerabilities, v)
	}
	return Write(d)
}

func vexVuln(st VEXStatement, p Product) (Vulnerability, error) {
	if st.Vulnerability == "" {
		return Vulnerability{}, vigil.Errorf(vigil.EINVALID, "vulnerability: required")
	}
	if err := st.Status.Validate(); err != nil {
		return Vulnerability{}, err
	}
	var v Vulnerability
	if strings.HasPrefix(strings.ToUpper(st.Vulnerability), "CVE-") {
		v.CVE = strings.ToUpper(st.Vulnerability)
	} else {
		sys := st.System
		if sys == "" {
			sys = "Vigil"
		}
		v.IDs = []ID{{System: sys, Text: st.Vulnerability}}
	}
	ids := []string{p.ID}
	detail := st.Detail
	switch st.Status {
	case vigil.VEXAffected:
		if st.Action == "" {
			return v, vigil.Errorf(vigil.EINVALID, "action: an affected version needs an action statement (what users should do)")
		}
		cat := st.ActionCategory
		if cat == "" {
			cat = RemedyMitigation
		}
		v.Status.KnownAffected = ids
		v.Remediations = []Remediation{{Category: cat, Details: st.Action, Products: ids}}
	case vigil.VEXNotAffected:
		if st.Justification == "" && st.Impact == "" {
			return v, vigil.Errorf(vigil.EINVALID, "justification: a not_affected version needs a justification or an impact statement")
		}
		v.Status.KnownNotAffected = ids
		if st.Justification != "" {
			v.Flags = []Flag{{Label: st.Justification, Products: ids}}
		}
		if st.Impact != "" {
			v.Threats = []Threat{{Category: "impact", Details: st.Impact, Products: ids}}
		}
	case vigil.VEXFixed:
		v.Status.Fixed = ids
	case vigil.VEXUnderInvestigation:
		v.Status.UnderInvestigation = ids
	}
	if detail == "" {
		detail = fmt.Sprintf("%s: %s is %s.", st.Vulnerability, p.FullName(), strings.ReplaceAll(string(st.Status), "_", " "))
	}
	v.Notes = []Note{{Category: "description", Title: "Status", Text: detail}}
	return v, nil
}
