package regdocs

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// Settings are what the documents need that Vigil does not otherwise hold: the manufacturer's address and
// responsible person (806.10(c)(2)), a device line's common name, listing number, expected life and last marketing
// authorization (806.10(c)(3)–(8), 524B), and the Cybersecurity Management Plan's own text (people, testing, patch
// cycle, update process, customer communication). The organization's settings apply to every device; a device's
// own settings override them field by field. An empty field is shown as not set, never invented.
type Settings struct {
	Address           string   `json:"address,omitempty"`
	ResponsiblePerson *Person  `json:"responsible_person,omitempty"`
	People            []Person `json:"people,omitempty"` // the PSIRT and its roles, for the plan

	CommonName        string     `json:"common_name,omitempty"`
	ListingNumber     string     `json:"listing_number,omitempty"`
	ExpectedLife      string     `json:"expected_life,omitempty"`
	LastAuthorization vigil.Date `json:"last_authorization,omitzero"` // the last marketing authorization (524B)
	// LastSubmission is the number of that authorization (K..., P...S...).
	LastSubmission string `json:"last_submission,omitempty"`
	// PMAApprovedVersion is the version the PMA (or its latest approved supplement) approved: the PMA periodic
	// report states each change against it (G2016 §VIII item 3).
	PMAApprovedVersion string `json:"pma_approved_version,omitempty"`

	// Critical is what makes an uncontrolled risk critical in the 524B statements (524B(b)(2)(B)); nil: the
	// default rule (critical or catastrophic harm, or KEV-listed).
	Critical *CriticalRule `json:"critical_rule,omitempty"`

	SecurityTesting       string `json:"security_testing,omitempty"`
	PatchCycle            string `json:"patch_cycle,omitempty"` // the justified regular cycle (524B(b)(2)(A))
	UpdateProcess         string `json:"update_process,omitempty"`
	CustomerCommunication string `json:"customer_communication,omitempty"`
}

// Person is someone the documents name.
type Person struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

func (p *Person) String() string {
	if p == nil || p.Name == "" {
		return ""
	}
	parts := []string{p.Name}
	for _, x := range []string{p.Title, p.Email, p.Phone} {
		if x != "" {
			parts = append(parts, x)
		}
	}
	return strings.Join(parts, ", ")
}

// CriticalRule is the organization's (or a device line's) rule for a critical vulnerability under 524B: an open
// uncontrolled risk is critical when any of its conditions holds.
type CriticalRule struct {
	// Severities of patient harm that make it critical (negligible, minor, serious, critical, catastrophic).
	Severities []string `json:"severities"`
	// KEV makes every vulnerability in CISA's KEV catalog (exploited in the wild) critical.
	KEV bool `json:"kev"`
	// MinCVSS makes a CVSS base score at or above it critical (0: the score plays no part).
	MinCVSS float64 `json:"min_cvss,omitempty"`
	// Basis is where the rule is set down (an SOP, a risk management file).
	Basis string `json:"basis,omitempty"`
}

// defaultCritical is the rule when none is set.
var defaultCritical = CriticalRule{Severities: []string{vigil.HarmCritical, vigil.HarmCatastrophic}, KEV: true}

func (r *CriticalRule) check() error {
	for i, s := range r.Severities {
		if err := vigil.OneOf(fmt.Sprintf("critical_rule.severities[%d]", i), s, vigil.HarmSeverities); err != nil {
			return err
		}
	}
	if r.MinCVSS < 0 || r.MinCVSS > 10 {
		return vigil.Errorf(vigil.EINVALID, "critical_rule.min_cvss: %g is outside 0..10", r.MinCVSS)
	}
	if len(r.Severities) == 0 && !r.KEV && r.MinCVSS == 0 {
		return vigil.Errorf(vigil.EINVALID, "critical_rule: no condition: name severities, kev or min_cvss (or leave the rule out for the default)")
	}
	return vigil.Text("critical_rule.basis", r.Basis, vigil.MaxText)
}

// String says the rule in words, as the 524B statements show it.
func (r CriticalRule) String() string {
	var when []string
	if len(r.Severities) > 0 {
		when = append(when, "the severity of patient harm it can cause is "+strings.Join(r.Severities, " or "))
	}
	if r.KEV {
		when = append(when, "the vulnerability is in CISA's KEV catalog (exploited in the wild)")
	}
	if r.MinCVSS > 0 {
		when = append(when, fmt.Sprintf("its CVSS base score is %.1f or more", r.MinCVSS))
	}
	s := "An uncontrolled risk is critical when " + strings.Join(when, ", or ") + "."
	if r.Basis != "" {
		s += " Basis: " + r.Basis + "."
	}
	return s
}

// critical reports whether an open uncontrolled risk is critical under the rule.
func (r CriticalRule) critical(severity string, kev bool, cvss float64) bool {
	return slices.Contains(r.Severities, severity) || r.KEV && kev || r.MinCVSS > 0 && cvss >= r.MinCVSS
}

func (st *Settings) check() error {
	if st.Critical != nil {
		if err := st.Critical.check(); err != nil {
			return err
		}
	}
	fields := []struct{ name, v string }{{"address", st.Address}, {"common_name", st.CommonName}, {"listing_number", st.ListingNumber},
		{"expected_life", st.ExpectedLife}, {"last_submission", st.LastSubmission}, {"pma_approved_version", st.PMAApprovedVersion}, {"security_testing", st.SecurityTesting},
		{"patch_cycle", st.PatchCycle}, {"update_process", st.UpdateProcess}, {"customer_communication", st.CustomerCommunication}}
	for _, f := range fields {
		if err := vigil.Text(f.name, f.v, vigil.MaxText); err != nil {
			return err
		}
	}
	people := st.People
	if st.ResponsiblePerson != nil {
		people = append([]Person{*st.ResponsiblePerson}, people...)
	}
	for i, p := range people {
		if strings.TrimSpace(p.Name) == "" {
			return vigil.Errorf(vigil.EINVALID, "people[%d].name: required", i)
		}
		for _, x := range []string{p.Name, p.Title, p.Email, p.Phone} {
			if err := vigil.Text("people.name", x, vigil.MaxName); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetSettings records the documents' settings of the organization (deviceID 0) or of a device line, replacing the
// previous ones, with a reason. They are regulatory affairs' statements (the 524B critical rule among them): needs
// PermReport.
func (s *Service) SetSettings(ctx context.Context, deviceID int64, st Settings, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermReport); err != nil {
		return err
	}
	if err := st.check(); err != nil {
		return err
	}
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	b, err := s.newBuild(ctx)
	if err != nil {
		return err
	}
	return s.Store.AddRegRecord(ctx, &vigil.RegRecord{Kind: vigil.RegSettings, DeviceID: deviceID, Date: b.today(), Body: body}, reason)
}

// Settings returns the settings in force for a device (the organization's with the device's over them; deviceID
// 0: the organization's). Needs PermRead.
func (s *Service) Settings(ctx context.Context, deviceID int64) (Settings, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return Settings{}, err
	}
	org, _, err := s.settings(ctx, 0)
	if err != nil || deviceID == 0 {
		return org, err
	}
	dev, _, err := s.settings(ctx, deviceID)
	return merge(org, dev), err
}

// settings reads the latest settings record of the organization (0) or of one device.
func (s *Service) settings(ctx context.Context, deviceID int64) (Settings, *vigil.RegRecord, error) {
	rs, sets, err := records[Settings](ctx, s.Store, vigil.RegSettings, 0, deviceID)
	if err != nil {
		return Settings{}, nil, err
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].DeviceID == deviceID {
			return sets[i], rs[i], nil
		}
	}
	return Settings{}, nil, nil
}

// merge lays the device's non-empty fields over the organization's.
func merge(org, dev Settings) Settings {
	out := org
	ov, dv := reflect.ValueOf(&out).Elem(), reflect.ValueOf(dev)
	for i := 0; i < dv.NumField(); i++ {
		if !dv.Field(i).IsZero() {
			ov.Field(i).Set(dv.Field(i))
		}
	}
	return out
}

// deviceSettings is the settings in force for a device.
func (b *build) deviceSettings(ctx context.Context, deviceID int64) (Settings, error) {
	dev, _, err := b.s.settings(ctx, deviceID)
	return merge(b.set, dev), err
}

// OwnSettings returns the settings recorded for the organization (deviceID 0) or for a device line alone, without
// the organization's under a device's. Needs PermRead.
func (s *Service) OwnSettings(ctx context.Context, deviceID int64) (Settings, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return Settings{}, err
	}
	st, _, err := s.settings(ctx, deviceID)
	return st, err
}
