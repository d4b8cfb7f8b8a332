package vigil

import (
	"bytes"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return Errorf(EINVALID, "%s: required", field)
	}
	return nil
}

// maxMatrix bounds a device's acceptance matrix document: 15 cells and two names fit in far less.
const maxMatrix = 64 << 10

// Text limits in bytes, the same on both engines. Names and identifiers are indexed, alone or inside a key (a
// finding's component key is group/name@version or the purl), and PostgreSQL refuses an index entry over 2704
// bytes: these keep the largest key near half of that. Free text is bounded so no single field bloats the store or
// every page that shows it.
const (
	MaxName  = 512   // names, versions, labels: devices, components, groups, functions, tokens, lots
	MaxIdent = 1024  // identifiers: purls, CPEs, digests
	MaxText  = 20000 // free text: notes, rationales, reasons, addresses
)

// Text is the one rule for text Vigil stores: valid UTF-8 without NUL (PostgreSQL stores neither, where SQLite
// would keep both, so one engine answered 500 to what the other accepted) and at most max bytes. It returns
// EINVALID naming field. Every service applies it to what it writes, and the SBOM import to every component.
func Text(field, v string, max int) error {
	if len(v) > max {
		return Errorf(EINVALID, "%s: %d bytes, more than %d", field, len(v), max)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return Errorf(EINVALID, "%s: contains a NUL byte", field)
	}
	if !utf8.ValidString(v) {
		return Errorf(EINVALID, "%s: not valid UTF-8", field)
	}
	return nil
}

// field is one text field to check with Text.
type field struct {
	name string
	v    string
	max  int
}

// texts applies Text to each field in turn and returns the first error.
func texts(fs ...field) error {
	for _, f := range fs {
		if err := Text(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// textList applies Text to each entry of a list, naming it list[i].
func textList(name string, vs []string, max int) error {
	for i, v := range vs {
		if err := Text(name+"["+itoa(i)+"]", v, max); err != nil {
			return err
		}
	}
	return nil
}

func bounded(field, v string) error { return Text(field, v, MaxText) }

// Validate checks an organization's fields.
func (o *Organization) Validate() error {
	if err := required("name", o.Name); err != nil {
		return err
	}

	if o.TimeZone == "" {
		o.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(o.TimeZone); err != nil {
		return Errorf(EINVALID, "time_zone: %q is not an IANA time zone", o.TimeZone)
	}
	if o.FEINumber != "" && !allDigits(o.FEINumber) {
		return Errorf(EINVALID, "fei_number: %q must be digits (FDA Establishment Identifier)", o.FEINumber)
	}
	if o.RegistrationNumber != "" && !allDigits(o.RegistrationNumber) {
		return Errorf(EINVALID, "registration_number: %q must be digits (FDA establishment registration number)", o.RegistrationNumber)
	}
	if o.CVDAckDays < 0 || o.CVDAckDays > 90 {
		return Errorf(EINVALID, "cvd_ack_days: %d is outside 0..90", o.CVDAckDays)
	}
	return texts(field{"name", o.Name, MaxName}, field{"fei_number", o.FEINumber, MaxName}, field{"registration_number", o.RegistrationNumber, MaxName}, field{"cvd_contact", o.CVDContact, MaxText})
}

// Validate checks a device's fields.
func (d *Device) Validate() error {
	if err := required("name", d.Name); err != nil {
		return err
	}
	if err := OneOf("class", d.Class, DeviceClasses); err != nil {
		return err
	}
	if err := d.Pathway.Validate(); err != nil {
		return err
	}
	if err := texts(field{"name", d.Name, MaxName}, field{"model", d.Model, MaxName}, field{"submission_number", d.SubmissionNumber, MaxName}); err != nil {
		return err
	}
	for i, f := range d.Functions {
		if err := required("functions["+itoa(i)+"].name", f.Name); err != nil {
			return err
		}
		if err := Text("functions["+itoa(i)+"].name", f.Name, MaxName); err != nil {
			return err
		}
		if err := OneOf("functions["+itoa(i)+"].severity", f.Severity, HarmSeverities); err != nil {
			return err
		}
	}
	if d.UDIDI != "" {
		if err := ValidateUDIDI(d.UDIDI); err != nil {
			return err
		}
	}
	if len(d.AcceptanceMatrix) > maxMatrix {
		return Errorf(EINVALID, "acceptance_matrix: %d bytes, more than %d", len(d.AcceptanceMatrix), maxMatrix)
	}
	if m := bytes.TrimSpace(d.AcceptanceMatrix); len(m) > 0 && string(m) != "null" && m[0] != '{' {
		return Errorf(EINVALID, "acceptance_matrix: want a JSON object (name, version and the uncontrolled cells)")
	}
	for _, f := range []struct{ n, v string }{{"intended_use", d.IntendedUse}, {"safety_performance", d.SafetyPerformance}} {
		if err := bounded(f.n, f.v); err != nil {
			return err
		}
	}
	return nil
}

// ValidateUDIDI checks a UDI device identifier: a GS1 GTIN (8, 12, 13 or 14 digits with a valid check digit), a
// HIBCC identifier (starts with "+"), or an ICCBBA one (starts with "="). Only GS1 carries a check we can verify.
func ValidateUDIDI(s string) error {
	switch {
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "="):
		if len(s) < 6 || len(s) > 25 {
			return Errorf(EINVALID, "udi_di: %q has an implausible length for a HIBCC/ICCBBA identifier", s)
		}
		for _, r := range s[1:] {
			if !(unicode.IsDigit(r) || (r >= 'A' && r <= 'Z')) {
				return Errorf(EINVALID, "udi_di: %q contains %q", s, r)
			}
		}
		return nil
	case allDigits(s) && slices.Contains([]int{8, 12, 13, 14}, len(s)):
		sum := 0
		for i := len(s) - 2; i >= 0; i-- {
			n := int(s[i] - '0')
			if (len(s)-2-i)%2 == 0 {
				n *= 3
			}
			sum += n
		}
		if check := (10 - sum%10) % 10; check != int(s[len(s)-1]-'0') {
			return Errorf(EINVALID, "udi_di: %q has a wrong GS1 check digit (want %d)", s, check)
		}
		return nil
	}
	return Errorf(EINVALID, "udi_di: %q is not a GS1 GTIN (8/12/13/14 digits), HIBCC (+...) or ICCBBA (=...) identifier", s)
}

// Validate checks a device version's fields.
func (v *DeviceVersion) Validate() error {
	if err := required("version", v.Version); err != nil {
		return err
	}
	if err := Text("version", v.Version, MaxName); err != nil {
		return err
	}
	if v.Status == "" {
		v.Status = VersionMarketed
	}
	if err := OneOf("status", v.Status, VersionStatuses); err != nil {
		return err
	}
	if v.UnitsFielded < 0 {
		return Errorf(EINVALID, "units_fielded: %d is negative", v.UnitsFielded)
	}
	return nil
}

// Validate checks a consignee's fields.
func (c *Consignee) Validate() error {
	if err := required("name", c.Name); err != nil {
		return err
	}
	for i, u := range c.Units {
		if u.Units < 0 {
			return Errorf(EINVALID, "units[%d].units: %d is negative", i, u.Units)
		}
		if u.VersionID == 0 {
			return Errorf(EINVALID, "units[%d].version_id: required", i)
		}
		if err := textList("units["+itoa(i)+"].lots", u.Lots, MaxName); err != nil {
			return err
		}
	}
	for i, e := range c.Emails {
		if err := ValidEmail("emails["+itoa(i)+"]", e); err != nil {
			return err
		}
	}
	return texts(field{"name", c.Name, MaxName}, field{"contact", c.Contact, MaxText}, field{"address", c.Address, MaxText})
}

// Validate checks a component's enums (identifiers are checked by the adapter that knows purl and CPE syntax).
func (c *Component) Validate() error {
	if err := required("name", c.Name); err != nil {
		return err
	}
	if c.Support == "" {
		c.Support = SupportUnknown
	}
	if err := OneOf("support", c.Support, SupportLevels); err != nil {
		return err
	}
	return c.checkText()
}

func (c *Component) checkText() error {
	if err := texts(field{"name", c.Name, MaxName}, field{"group", c.Group, MaxName}, field{"version", c.Version, MaxName},
		field{"purl", c.Purl, MaxIdent}, field{"cpe", c.CPE, MaxIdent}, field{"supplier", c.Supplier, MaxName},
		field{"support_note", c.SupportNote, MaxText}, field{"type", c.Type, MaxName}); err != nil {
		return err
	}
	for alg, sum := range c.Hashes {
		if err := texts(field{"hashes", alg, MaxName}, field{"hashes." + alg, sum, MaxIdent}); err != nil {
			return err
		}
	}
	return nil
}

// CheckText applies Text to every field of an assessment (its words are checked by Validate).
func (a *Assessment) CheckText() error {
	if err := texts(field{"cvss", a.CVSS, MaxName}, field{"exploitability_reason", a.ExploitabilityReason, MaxText},
		field{"severity_reason", a.SeverityReason, MaxText}, field{"matrix", a.Matrix, MaxName}, field{"rationale", a.Rationale, MaxText},
		field{"ssvc", a.SSVC, MaxName}); err != nil {
		return err
	}
	for q, ans := range a.Rubric {
		if err := texts(field{"rubric", q, MaxName}, field{"rubric." + q, ans, MaxName}); err != nil {
			return err
		}
	}
	if err := textList("functions", a.Functions, MaxName); err != nil {
		return err
	}
	return textList("controls", a.Controls, MaxText)
}

// CheckText applies Text to every field of an event (its type is checked against the determination's list).
func (e *CaseEvent) CheckText() error {
	if err := texts(field{"note", e.Note, MaxText}, field{"details.remediation", e.Details.Remediation, MaxText},
		field{"details.risk", string(e.Details.Risk), MaxName}); err != nil {
		return err
	}
	return textList("details.elements", e.Details.Elements, MaxName)
}

// CheckText applies Text to a finding recorded by hand: its component, vulnerability id, aliases and evidence.
func (f *Finding) CheckText() error {
	if err := f.Component.checkText(); err != nil {
		return fmt.Errorf("component.%w", err)
	}
	ev := f.Evidence
	if err := texts(field{"vulnerability", f.Vulnerability, MaxName}, field{"evidence.matcher", ev.Matcher, MaxName},
		field{"evidence.source", ev.Source, MaxName}, field{"evidence.advisory", ev.Advisory, MaxName}, field{"evidence.range", ev.Range, MaxText},
		field{"evidence.fixed", ev.Fixed, MaxName}, field{"evidence.reason", ev.Reason, MaxText}); err != nil {
		return err
	}
	return textList("aliases", f.Aliases, MaxName)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

// Validate checks an assessment as it is recorded: a determination, the reason for it, its text (CheckText), and
// known words for the optional severity, exploitability and VEX status. (How the determination is reached is internal/cases'.)
func (a *Assessment) Validate() error {
	if err := a.Risk.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(a.Rationale) == "" {
		return Errorf(EINVALID, "rationale: required: say why the risk is %s", a.Risk)
	}
	if err := a.CheckText(); err != nil {
		return err
	}
	if a.Severity != "" {
		if err := OneOf("severity", a.Severity, HarmSeverities); err != nil {
			return err
		}
	}
	if a.Exploitability != "" {
		if err := a.Exploitability.Validate(); err != nil {
			return err
		}
	}
	if a.VEXStatus != "" {
		return a.VEXStatus.Validate()
	}
	return nil
}

// Clip shortens s to at most n bytes for a table cell or a summary line: it cuts at a word boundary when one is
// near (never inside a UTF-8 sequence) and ends with "…", so a cut text always shows that it was cut.
func Clip(n int, s string) string {
	if len(s) <= n {
		return s
	}
	cut := max(n-len("…"), 0)
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	if sp := strings.LastIndexByte(s[:cut+1], ' '); sp > 0 && cut-sp <= 16 {
		cut = sp
	}
	return strings.TrimRight(s[:cut], " ,;:") + "…"
}

// ValidEmail checks one e-mail address (a bare addr-spec, no display name): where customer notices go.
func ValidEmail(field, s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > MaxName {
		return Errorf(EINVALID, "%s: %q is not an e-mail address", field, Clip(80, s))
	}
	return nil
}
