package vigil

import (
	"bytes"
	"slices"
	"strings"
	"time"
	"unicode"
)

// oneOf returns EINVALID naming field when v is not among allowed.
func oneOf(field, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return Errorf(EINVALID, "%s: %q is not one of %s", field, v, strings.Join(allowed, ", "))
}

// OneOf is the exported form of the enum check, for adapters that validate their own inputs.
func OneOf(field, v string, allowed []string) error { return oneOf(field, v, allowed) }

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return Errorf(EINVALID, "%s: required", field)
	}
	return nil
}

// maxMatrix bounds a device's acceptance matrix document: 15 cells and two names fit in far less.
const maxMatrix = 64 << 10

// maxText bounds free text so no single field can bloat the store or a page.
const maxText = 20000

func bounded(field, v string) error {
	if len(v) > maxText {
		return Errorf(EINVALID, "%s: longer than %d bytes", field, maxText)
	}
	return nil
}

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
		return Errorf(EINVALID, "fei_number: %q must be digits (FDA establishment registration number)", o.FEINumber)
	}
	if o.CVDAckDays < 0 || o.CVDAckDays > 90 {
		return Errorf(EINVALID, "cvd_ack_days: %d is outside 0..90", o.CVDAckDays)
	}
	for i, m := range o.ISAOs {
		if err := required("isaos["+itoa(i)+"].name", m.Name); err != nil {
			return err
		}
	}
	return bounded("cvd_contact", o.CVDContact)
}

// Validate checks a device's fields.
func (d *Device) Validate() error {
	if err := required("name", d.Name); err != nil {
		return err
	}
	if err := oneOf("class", d.Class, DeviceClasses); err != nil {
		return err
	}
	if err := oneOf("pathway", d.Pathway, Pathways); err != nil {
		return err
	}
	for i, f := range d.Functions {
		if err := required("functions["+itoa(i)+"].name", f.Name); err != nil {
			return err
		}
		if err := oneOf("functions["+itoa(i)+"].severity", f.Severity, HarmSeverities); err != nil {
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
	if v.Status == "" {
		v.Status = VersionMarketed
	}
	if err := oneOf("status", v.Status, VersionStatuses); err != nil {
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
	}
	return bounded("address", c.Address)
}

// Validate checks a component's enums (identifiers are checked by the adapter that knows purl and CPE syntax).
func (c *Component) Validate() error {
	if err := required("name", c.Name); err != nil {
		return err
	}
	if c.Support == "" {
		c.Support = SupportUnknown
	}
	return oneOf("support", c.Support, SupportLevels)
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
