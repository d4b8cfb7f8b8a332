package vigil

import "time"

// DeviceVEX is what the manufacturer says about one device version in a VEX document: one statement per
// vulnerability known on it, from its assessed cases (the version's VEX status a person recorded, else the case's
// assessment and the finding's state) and their remediation (the plan's controls and fix for affected, the fix
// release for fixed). The VEX writers (OpenVEX, CycloneDX, CSAF) render it; none of them decides a status.
type DeviceVEX struct {
	// ID identifies the document: the same device version and statements give the same ID.
	ID     string `json:"id"`
	Author string `json:"author"` // the manufacturer
	// Timestamp is when the document was made; Product the device version as a component (its purl is
	// pkg:generic/<manufacturer>/<device>@<version>), Components its SBOM's.
	Timestamp  time.Time            `json:"timestamp"`
	Device     string               `json:"device"`
	Version    string               `json:"version"`
	Product    Component            `json:"product"`
	Components []Component          `json:"components"`
	Statements []DeviceVEXStatement `json:"statements"`
}

// DeviceVEXStatement is the status of one vulnerability on a device version. Components are the version's
// components that carry it (none for the version that fixed it). Justification or ImpactStatement say why for
// not_affected; ActionStatement what users should do for affected, Workaround whether that includes documented
// compensating controls; FixedIn names the release that fixes it (for affected: the one planned); Detail what the
// status rests on (the records, for people). Timestamp is when that record was made.
type DeviceVEXStatement struct {
	CaseID          int64            `json:"case_id"`
	Vulnerability   string           `json:"vulnerability"`
	Aliases         []string         `json:"aliases,omitempty"`
	Components      []Component      `json:"components"`
	Status          VEXStatus        `json:"status"`
	Justification   VEXJustification `json:"justification,omitempty"`
	ImpactStatement string           `json:"impact_statement,omitempty"`
	ActionStatement string           `json:"action_statement,omitempty"`
	Workaround      bool             `json:"workaround,omitempty"`
	FixDistributed  bool             `json:"fix_distributed,omitempty"` // FixedIn is distributed (not only planned)
	FixedIn         string           `json:"fixed_in,omitempty"`
	Detail          string           `json:"detail,omitempty"`
	Timestamp       time.Time        `json:"timestamp"`
}
