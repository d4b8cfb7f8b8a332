package vigil

import (
	"context"
	"strings"
	"time"
)

// The threat model of a device (G2016 §V.B "threat modeling of safety and essential performance"; PM2025 §V.A.2):
// the assets worth protecting, the threats to them and to the device's clinical functions, the designed-in
// mitigations and the compensating controls users configure in the field. An assessment names the threats a
// vulnerability realizes and the controls in place, so that its severity of patient harm and its determination
// can be traced back to this model.

// Asset kinds.
const (
	AssetData      = "data"      // PHI, therapy parameters, logs, keys
	AssetFunction  = "function"  // a clinical or support function the device performs
	AssetInterface = "interface" // an entry point: network port, USB, wireless, service port
	AssetComponent = "component" // a hardware or software part
)

// AssetKinds lists the valid Asset.Kind values.
var AssetKinds = []string{AssetData, AssetFunction, AssetInterface, AssetComponent}

// STRIDE threat categories.
const (
	StrideSpoofing              = "spoofing"
	StrideTampering             = "tampering"
	StrideRepudiation           = "repudiation"
	StrideInformationDisclosure = "information_disclosure"
	StrideDenialOfService       = "denial_of_service"
	StrideElevationOfPrivilege  = "elevation_of_privilege"
)

// StrideCategories lists the valid Threat.Category values.
var StrideCategories = []string{StrideSpoofing, StrideTampering, StrideRepudiation, StrideInformationDisclosure,
	StrideDenialOfService, StrideElevationOfPrivilege}

// Control kinds: a mitigation is designed into the device; a compensating control is a safeguard outside the
// device design that the user configures in the field (G2016 §IV), documented in the IFU or a customer document.
const (
	ControlMitigation   = "mitigation"
	ControlCompensating = "compensating"
)

// ControlKinds lists the valid Control.Kind values.
var ControlKinds = []string{ControlMitigation, ControlCompensating}

// Asset is something of the device worth protecting.
type Asset struct {
	ID          int64     `json:"id"`
	DeviceID    int64     `json:"device_id"`
	Ref         string    `json:"ref"` // the id people use, unique per device: "A-1", or one of their own
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Threat is one way the device can be attacked: its STRIDE category, the assets and clinical functions it
// reaches, and the interfaces it enters through.
type Threat struct {
	ID          int64  `json:"id"`
	DeviceID    int64  `json:"device_id"`
	Ref         string `json:"ref"` // "T-1", or one of the manufacturer's own threat-model ids
	Title       string `json:"title"`
	Category    string `json:"category"` // StrideCategories
	Description string `json:"description,omitempty"`
	// Assets are the refs of the device's assets the threat reaches.
	Assets []string `json:"assets"`
	// Functions are the names of the device's clinical functions (Device.Functions) the threat can corrupt or
	// deny; an assessment naming the threat takes its severity of patient harm from them.
	Functions []string `json:"functions"`
	// EntryPoints are the interfaces it enters through ("Wi-Fi", "USB service port").
	EntryPoints []string  `json:"entry_points"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Control is a designed-in mitigation or a compensating control, linked to the threats it addresses.
type Control struct {
	ID          int64  `json:"id"`
	DeviceID    int64  `json:"device_id"`
	Ref         string `json:"ref"` // "M-1" for a mitigation, "CC-1" for a compensating control, or one's own
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Reference is where the control is documented: the design specification for a mitigation, the IFU or
	// customer-document section for a compensating control (required for those: users must be able to find it).
	Reference string `json:"reference,omitempty"`
	// Threats are the refs of the threats the control addresses.
	Threats   []string  `json:"threats"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ThreatModel is a device's whole threat model.
type ThreatModel struct {
	DeviceID int64      `json:"device_id"`
	Device   string     `json:"device"`
	Assets   []*Asset   `json:"assets"`
	Threats  []*Threat  `json:"threats"`
	Controls []*Control `json:"controls"`
}

// Threat returns the threat with ref (case-insensitive), or nil.
func (m *ThreatModel) Threat(ref string) *Threat {
	for _, t := range m.Threats {
		if strings.EqualFold(t.Ref, ref) {
			return t
		}
	}
	return nil
}

// Control returns the control with ref (case-insensitive), or nil.
func (m *ThreatModel) Control(ref string) *Control {
	for _, c := range m.Controls {
		if strings.EqualFold(c.Ref, ref) {
			return c
		}
	}
	return nil
}

// Asset returns the asset with ref (case-insensitive), or nil.
func (m *ThreatModel) Asset(ref string) *Asset {
	for _, a := range m.Assets {
		if strings.EqualFold(a.Ref, ref) {
			return a
		}
	}
	return nil
}

// maxRef bounds a threat-model ref: it is typed on command lines and recorded with assessments.
const maxRef = 40

// ValidateRef checks a threat-model ref: 1 to 40 letters, digits, '-', '_' or '.', starting with a letter or digit,
// so that it can be typed in a comma-separated flag and never mistaken for free text.
func ValidateRef(field, ref string) error {
	if ref == "" {
		return Errorf(EINVALID, "%s: required", field)
	}
	if len(ref) > maxRef {
		return Errorf(EINVALID, "%s: %q is longer than %d characters", field, ref[:maxRef]+"…", maxRef)
	}
	for i, r := range ref {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_' || r == '.')
		if !ok {
			return Errorf(EINVALID, "%s: %q: use letters, digits, '-', '_' or '.' (like T-1)", field, ref)
		}
	}
	return nil
}

// maxList bounds the links of one threat or control.
const maxList = 200

func checkList(field string, vals []string, each func(field, v string) error) error {
	if len(vals) > maxList {
		return Errorf(EINVALID, "%s: %d entries, more than %d", field, len(vals), maxList)
	}
	for i, v := range vals {
		if err := each(field+"["+itoa(i)+"]", v); err != nil {
			return err
		}
	}
	return nil
}

func shortText(field, v string) error {
	if err := required(field, v); err != nil {
		return err
	}
	return Text(field, v, 500)
}

// Validate checks an asset's fields (the ref may be empty: the store assigns one).
func (a *Asset) Validate() error {
	if a.Ref != "" {
		if err := ValidateRef("ref", a.Ref); err != nil {
			return err
		}
	}
	if err := shortText("name", a.Name); err != nil {
		return err
	}
	if err := OneOf("kind", a.Kind, AssetKinds); err != nil {
		return err
	}
	return bounded("description", a.Description)
}

// Validate checks a threat's own fields; the store checks that its assets and functions exist on the device.
func (t *Threat) Validate() error {
	if t.Ref != "" {
		if err := ValidateRef("ref", t.Ref); err != nil {
			return err
		}
	}
	if err := shortText("title", t.Title); err != nil {
		return err
	}
	if err := OneOf("category", t.Category, StrideCategories); err != nil {
		return err
	}
	if err := bounded("description", t.Description); err != nil {
		return err
	}
	if err := checkList("assets", t.Assets, ValidateRef); err != nil {
		return err
	}
	if err := checkList("functions", t.Functions, shortText); err != nil {
		return err
	}
	return checkList("entry_points", t.EntryPoints, shortText)
}

// Validate checks a control's own fields; the store checks that its threats exist on the device.
func (c *Control) Validate() error {
	if c.Ref != "" {
		if err := ValidateRef("ref", c.Ref); err != nil {
			return err
		}
	}
	if err := OneOf("kind", c.Kind, ControlKinds); err != nil {
		return err
	}
	if err := shortText("name", c.Name); err != nil {
		return err
	}
	if c.Kind == ControlCompensating && strings.TrimSpace(c.Reference) == "" {
		return Errorf(EINVALID, "reference: required for a compensating control: the IFU or customer-document section that tells users how to configure it")
	}
	if err := Text("reference", c.Reference, 500); err != nil {
		return err
	}
	if err := bounded("description", c.Description); err != nil {
		return err
	}
	return checkList("threats", c.Threats, ValidateRef)
}

// ThreatModelService keeps each device's threat model. Every write appends one audit event in the same
// transaction; updates need a reason. Writes need PermAssess. Methods return EINVALID (a field is wrong or a
// linked asset, function or threat is not the device's), ENOTFOUND, ECONFLICT (a ref already used on the device),
// EFORBIDDEN.
type ThreatModelService interface {
	// CreateAsset adds an asset; an empty Ref gets the next free "A-n".
	CreateAsset(ctx context.Context, a *Asset) error
	// UpdateAsset replaces an asset's name, kind and description (found by DeviceID and Ref).
	UpdateAsset(ctx context.Context, a *Asset, reason string) error
	// CreateThreat adds a threat; an empty Ref gets the next free "T-n".
	CreateThreat(ctx context.Context, t *Threat) error
	// UpdateThreat replaces a threat's fields and links (found by DeviceID and Ref).
	UpdateThreat(ctx context.Context, t *Threat, reason string) error
	// Threat returns one threat of a device by ref (case-insensitive).
	Threat(ctx context.Context, deviceID int64, ref string) (*Threat, error)
	// CreateControl adds a mitigation ("M-n") or a compensating control ("CC-n").
	CreateControl(ctx context.Context, c *Control) error
	// UpdateControl replaces a control's fields and links (found by DeviceID and Ref).
	UpdateControl(ctx context.Context, c *Control, reason string) error
	// ThreatModel returns a device's whole threat model, each list in ref order of creation.
	ThreatModel(ctx context.Context, deviceID int64) (*ThreatModel, error)

	// AssessTraced records an assessment of a case exactly as CaseService.Assess does, together with the threats of
	// the case device's model it names, in one transaction (nothing of it is ever changed afterwards).
	AssessTraced(ctx context.Context, a *Assessment, threats []string) error
	// AssessmentThreats returns, for each assessment of a case that named threats, their refs.
	AssessmentThreats(ctx context.Context, caseID int64) (map[int64][]string, error)
}
