package regulatory

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/calendar"
	"github.com/vigil-dev/vigil/internal/risk"
)

// MaxEvents bounds the events of one determination: facts are untrusted input and a real case has dozens.
const MaxEvents = 10000

// isAction reports whether an event is the manufacturer's own action, which cannot precede learning of the
// vulnerability. Adverse events and MDRs can: a patient may be harmed before the cause is known.
func isAction(typ string) bool {
	return typ != EventSeriousAdverseEvent && typ != EventMDRFiled
}

// validate checks every field of f, whether or not the determination will read it, and returns the policy in
// effect. Errors are EINVALID and name the field as a JSON path.
func validate(f *Facts) (Policy, error) {
	if f.AsOf.IsZero() {
		return Policy{}, vigil.Errorf(vigil.EINVALID, "as_of: required")
	}
	if f.policyErr != nil {
		return Policy{}, f.policyErr
	}
	pol, err := validatePolicy(f.Policy, f.Device)
	if err != nil {
		return Policy{}, err
	}
	if err := enum("device.class", f.Device.Class, vigil.DeviceClasses); err != nil {
		return Policy{}, err
	}
	if err := enum("device.pathway", f.Device.Pathway, vigil.Pathways); err != nil {
		return Policy{}, err
	}
	if err := validateVulnerability(&f.Vulnerability); err != nil {
		return Policy{}, err
	}
	if len(f.Events) > MaxEvents {
		return Policy{}, vigil.Errorf(vigil.EINVALID, "events: %d events, more than the limit of %d", len(f.Events), MaxEvents)
	}
	for i := range f.Events {
		if err := validateEvent(i, &f.Events[i], f.Vulnerability.Learned); err != nil {
			return Policy{}, err
		}
	}
	return pol, nil
}

func validatePolicy(p Policy, dev Device) (Policy, error) {
	if _, err := calendar.ParsePolicy(string(p.WorkingDays)); err != nil {
		return Policy{}, vigil.Errorf(vigil.EINVALID, "policy.working_days: unknown value %q (want federal or weekdays)", p.WorkingDays)
	}
	if err := enum("policy.reassessment_clock", p.ReassessmentClock, []string{ReassessmentClockReassessed, ReassessmentClockFirst}); err != nil {
		return Policy{}, err
	}
	if p.CVDAckWorkingDays < 0 {
		return Policy{}, vigil.Errorf(vigil.EINVALID, "policy.cvd_ack_working_days: %d is negative", p.CVDAckWorkingDays)
	}
	// A non-zero risk.Matrix is valid by construction; only a stored one that could not be read is reported here.
	if dev.matrixErr != nil {
		return Policy{}, vigil.Errorf(vigil.EINVALID, "%s", vigil.ErrorMessage(dev.matrixErr))
	}
	pol := p.Defaults()
	if dev.Matrix != nil && !dev.Matrix.IsZero() {
		pol.Matrix = *dev.Matrix
	}
	return pol, nil
}

func validateVulnerability(v *Vulnerability) error {
	if v.Learned.IsZero() {
		return vigil.Errorf(vigil.EINVALID, "vulnerability.learned: required (the date the manufacturer learned of the vulnerability)")
	}
	if v.CVSS != "" {
		if _, err := risk.ParseCVSS(v.CVSS); err != nil {
			return vigil.Errorf(vigil.EINVALID, "vulnerability.cvss: %q is not a valid CVSS v2, v3.0, v3.1 or v4.0 vector: %s", clip(v.CVSS), vigil.ErrorMessage(err))
		}
	}
	if len(v.Matrix) > 200 || strings.IndexFunc(v.Matrix, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return vigil.Errorf(vigil.EINVALID, "vulnerability.matrix: want a matrix ID such as \"vigil-default v1\" (at most 200 printable bytes)")
	}
	if err := enum("vulnerability.exploitability", v.Exploitability, vigil.Exploitabilities); err != nil {
		return err
	}
	if err := enum("vulnerability.severity", v.Severity, vigil.HarmSeverities); err != nil {
		return err
	}
	if err := enum("vulnerability.vex_status", v.VEXStatus, vigil.VEXStatuses); err != nil {
		return err
	}
	if err := enum("vulnerability.risk", v.Risk, vigil.Risks); err != nil {
		return err
	}
	if v.EPSS != nil && (math.IsNaN(*v.EPSS) || *v.EPSS < 0 || *v.EPSS > 1) {
		return vigil.Errorf(vigil.EINVALID, "vulnerability.epss: %v is not a probability between 0 and 1", *v.EPSS)
	}
	return nil
}

func validateEvent(i int, e *Event, learned vigil.Date) error {
	if e.Type == "" {
		return vigil.Errorf(vigil.EINVALID, "events[%d].type: required", i)
	}
	if !slices.Contains(EventTypes, e.Type) {
		return vigil.Errorf(vigil.EINVALID, "events[%d].type: unknown event type %q (want %s)", i, clip(e.Type), oneOf(EventTypes))
	}
	if e.Date.IsZero() {
		return vigil.Errorf(vigil.EINVALID, "events[%d].date: required", i)
	}
	if isAction(e.Type) && e.Date.Before(learned) {
		return vigil.Errorf(vigil.EINVALID, "events[%d].date: %s %s is before vulnerability.learned %s (the manufacturer cannot act before learning of it)", i, e.Type, e.Date, learned)
	}
	if !e.Recorded.IsZero() && e.Recorded.Before(e.Date) {
		return vigil.Errorf(vigil.EINVALID, "events[%d].recorded: %s is before the event's date %s (an event cannot be entered before it happens)", i, e.Recorded, e.Date)
	}
	for j, el := range e.Elements {
		if !slices.Contains(NoticeElements, el) {
			return vigil.Errorf(vigil.EINVALID, "events[%d].elements[%d]: unknown notice element %q (want a, b, c or d)", i, j, clip(el))
		}
	}
	if err := enum(fieldOf(i, "remediation"), e.Remediation, Remediations); err != nil {
		return err
	}
	if err := enum(fieldOf(i, "risk"), e.Risk, vigil.Risks); err != nil {
		return err
	}
	if e.Type == EventReassessed && e.Risk == "" {
		return vigil.Errorf(vigil.EINVALID, "events[%d].risk: required for a reassessed event (controlled or uncontrolled)", i)
	}
	return nil
}

func fieldOf(i int, name string) string {
	return "events[" + strconv.Itoa(i) + "]." + name
}

// enum checks an optional enumerated field: empty means absent.
func enum[T ~string](field string, val T, vals []T) error {
	if val == "" || slices.Contains(vals, val) {
		return nil
	}
	return vigil.Errorf(vigil.EINVALID, "%s: unknown value %q (want %s)", field, clip(string(val)), oneOf(vals))
}

// clip shortens untrusted text echoed in an error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "…"
}

// oneOf formats an enumeration for an error message.
func oneOf[T ~string](vals []T) string {
	words := make([]string, len(vals))
	for i, v := range vals {
		words[i] = string(v)
	}
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return fmt.Sprintf("%s or %s", strings.Join(words[:len(words)-1], ", "), words[len(words)-1])
}
