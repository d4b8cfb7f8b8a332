package remediation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
)

// DeviceVEX states the VEX status of every vulnerability known on one device version, from its cases: one
// statement per case that has a finding on the version, or whose distributed fix is this version (fixed). A
// version's status is, in order: the fix it carries (fixed); the VEX status a person recorded for the version on
// the case (with its justification or action); every finding of the version resolved because the SBOM
// no longer carries the component (fixed); not assessed yet (under_investigation); the latest assessment's VEX
// status; else affected, with the action statement made from the remediation plan in force and the fixes (the
// release to update to, the compensating controls until then). Needs PermRead.
func (s *Service) DeviceVEX(ctx context.Context, deviceID, versionID int64) (*vigil.DeviceVEX, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	ver, err := s.Cases.Store.Version(ctx, versionID)
	if err != nil {
		return nil, err
	}
	if ver.DeviceID != deviceID {
		return nil, vigil.Errorf(vigil.EINVALID, "version: version %d is not a version of device %d", versionID, deviceID)
	}
	d, err := s.Cases.Store.Device(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	orgs, err := s.Cases.Store.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	author := "the manufacturer"
	if len(orgs) > 0 {
		author = orgs[0].Name
	}
	comps, err := s.Store.Components(ctx, versionID)
	if err != nil {
		return nil, err
	}
	cs, err := s.Cases.Store.Cases(ctx, vigil.CaseFilter{DeviceID: deviceID, States: vigil.CaseStates})
	if err != nil {
		return nil, err
	}
	out := &vigil.DeviceVEX{Author: author, Timestamp: s.Cases.Clock.Now().UTC().Truncate(time.Second), Device: d.Name, Version: ver.Version,
		Product:    vigil.Component{Name: d.Name, Version: ver.Version, Purl: ProductPurl(author, d.Name, ver.Version), Type: "device"},
		Components: comps, Statements: []vigil.DeviceVEXStatement{}}
	if out.Components == nil {
		out.Components = []vigil.Component{}
	}
	for _, c := range cs {
		v, err := s.Cases.CaseView(ctx, c.ID, vigil.Date{})
		if err != nil {
			return nil, err
		}
		r, err := s.remediation(ctx, v)
		if err != nil {
			return nil, err
		}
		if st, ok := statement(v, r, versionID); ok {
			if err := s.signedDetail(ctx, v, &st); err != nil {
				return nil, err
			}
			out.Statements = append(out.Statements, st)
		}
	}
	slices.SortFunc(out.Statements, func(a, b vigil.DeviceVEXStatement) int { return strings.Compare(a.Vulnerability, b.Vulnerability) })
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%d\x00%s", deviceID, versionID, mustJSON(out.Statements))))
	h := hex.EncodeToString(sum[:16])
	out.ID = fmt.Sprintf("urn:uuid:%s-%s-8%s-%x%s-%s", h[0:8], h[8:12], h[13:16], 0x8|hexValue(h[16])&0x3, h[17:20], h[20:32])
	return out, nil
}

// signedDetail adds to a statement's detail the Part 11 manifests of its case's determination (the latest standing
// assessment), which every VEX format then carries with the status (21 CFR 11.50: shown wherever the record is).
func (s *Service) signedDetail(ctx context.Context, v *cases.View, st *vigil.DeviceVEXStatement) error {
	if s.Signing == nil || len(v.Assessments) == 0 {
		return nil
	}
	a := v.Assessments[len(v.Assessments)-1]
	sigs, err := s.Signing.Signatures(ctx, "assessment", a.ID)
	if err != nil {
		return err
	}
	zone := s.Cases.Zone(ctx)
	for _, sg := range sigs {
		st.Detail = strings.TrimSpace(fmt.Sprintf("%s Determination A%d of %s: %s.", st.Detail, a.ID, a.Date, sg.Manifest(zone)))
	}
	return nil
}

// ProductPurl names a device version as a generic purl under its manufacturer: the same in its VEX documents and
// in the CSAF advisories that name it, so a customer's tools tie them together.
func ProductPurl(org, device, version string) string {
	slug := func(s string) string { return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), " ", "-") }
	return packageurl.NewPackageURL("generic", slug(org), slug(device), version, nil, "").ToString()
}

func hexValue(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v) // statements are plain data
	return b
}

// statement is what case v says about one version, if anything.
func statement(v *cases.View, r *Remediation, versionID int64) (vigil.DeviceVEXStatement, bool) {
	st := vigil.DeviceVEXStatement{CaseID: v.Case.ID, Vulnerability: v.Case.Vulnerability, Aliases: v.Case.Aliases, Components: []vigil.Component{}}
	stamp := func(t time.Time) {
		if t.After(st.Timestamp) {
			st.Timestamp = t.UTC().Truncate(time.Second)
		}
	}
	for _, f := range r.Fixes {
		if f.VersionID == versionID && f.InField() {
			st.Status, st.FixedIn = vigil.VEXFixed, f.Release
			st.Detail = fmt.Sprintf("Fixed in %s: validated %s (%s), distributed %s by %s.", f.Release, f.VV.Validated, f.VV.Report, f.Distribution.Date, f.Distribution.Channel)
			stamp(f.CreatedAt)
			return st, true
		}
	}
	var mine []cases.VersionStatus
	for _, vs := range v.Versions {
		if vs.VersionID == versionID {
			mine = append(mine, vs)
		}
	}
	if len(mine) == 0 {
		return st, false
	}
	for _, vs := range mine {
		if x := vs.VEX; x != nil { // the status a person recorded for the version stands
			if vs.Status != "fixed" {
				st.Components = append(st.Components, vs.Component)
			}
			st.Status, st.Justification, st.ImpactStatement, st.FixedIn = x.Status, x.Justification, x.ImpactStatement, x.FixedIn
			st.Detail = x.Reason
			stamp(x.CreatedAt)
			if x.Status == vigil.VEXAffected {
				st.ActionStatement = x.ActionStatement
				text, fixedIn, workaround := action(r)
				if st.ActionStatement == "" {
					st.ActionStatement, st.FixedIn, st.Workaround = text, fixedIn, workaround
				}
				st.FixDistributed = distributed(r) != nil
			}
			return st, true
		}
	}
	allFixed := true
	for _, vs := range mine {
		if vs.Status != "fixed" {
			allFixed = false
			if !slices.ContainsFunc(st.Components, func(c vigil.Component) bool { return c.FindingKey() == vs.Component.FindingKey() }) {
				st.Components = append(st.Components, vs.Component)
			}
		}
	}
	if allFixed {
		st.Status = vigil.VEXFixed
		st.Detail = "The version's SBOM no longer carries the vulnerable component."
		if fx := distributed(r); fx != nil {
			st.FixedIn = fx.Release
		}
		stamp(v.Case.CreatedAt)
		return st, true
	}
	if len(v.Assessments) == 0 {
		st.Status = vigil.VEXUnderInvestigation
		st.Detail = fmt.Sprintf("Known since %s; the assessment of its risk to patients is under way.", v.Case.Learned)
		stamp(v.Case.CreatedAt)
		return st, true
	}
	a := v.Assessments[len(v.Assessments)-1]
	stamp(a.CreatedAt)
	st.Status = vigil.VEXAffected
	if a.VEXStatus != "" {
		st.Status = a.VEXStatus
	}
	switch st.Status {
	case vigil.VEXNotAffected:
		st.ImpactStatement = a.Rationale
	case vigil.VEXFixed:
		if fx := distributed(r); fx != nil {
			st.FixedIn = fx.Release
		}
		st.Detail = a.Rationale
	case vigil.VEXUnderInvestigation:
		st.Detail = a.Rationale
	case vigil.VEXAffected:
		st.Detail = fmt.Sprintf("Assessed %s: %s risk of patient harm.", a.Date, a.Risk)
		st.ActionStatement, st.FixedIn, st.Workaround = action(r)
		st.FixDistributed = distributed(r) != nil
		if r.Plan != nil {
			stamp(r.Plan.CreatedAt)
		}
		for _, f := range r.Fixes {
			stamp(f.CreatedAt)
		}
	}
	return st, true
}

// distributed is the first fix of a remediation distributed with its V&V record standing, if any.
func distributed(r *Remediation) *vigil.FixRelease {
	for _, f := range r.Fixes {
		if f.InField() {
			return f
		}
	}
	return nil
}

// action says what users of an affected version should do: update to the distributed fix, or wait for the planned
// one, and apply the plan's compensating controls meanwhile.
func action(r *Remediation) (text, fixedIn string, workaround bool) {
	var parts []string
	if fx := distributed(r); fx != nil {
		fixedIn = fx.Release
		parts = append(parts, fmt.Sprintf("Update to %s (distributed %s by %s).", fx.Release, fx.Distribution.Date, fx.Distribution.Channel))
	} else if r.Plan != nil && r.Plan.FixRelease != "" {
		fixedIn = r.Plan.FixRelease
		parts = append(parts, fmt.Sprintf("A fix is planned in %s by %s; customers will be told when it is available.", r.Plan.FixRelease, r.Plan.TargetDate))
	}
	if r.Plan != nil && len(r.Plan.Controls) > 0 {
		workaround = true
		var cs []string
		for _, c := range r.Plan.Controls {
			cs = append(cs, fmt.Sprintf("%s (%s)", c.What, c.Documented))
		}
		lead := "Until then, apply the compensating controls: "
		if fixedIn == "" {
			lead = "Apply the compensating controls: "
		}
		parts = append(parts, lead+strings.Join(cs, "; ")+".")
	}
	return strings.Join(parts, " "), fixedIn, workaround
}
