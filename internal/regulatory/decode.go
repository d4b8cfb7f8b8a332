package regulatory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/risk"
)

// MaxFactsBytes bounds a facts document. A real one is a few kilobytes; the bound keeps an untrusted request from
// holding memory.
const MaxFactsBytes = 1 << 20

// DetermineJSON reads a facts document (at most MaxFactsBytes) and determines it; today is used when the document
// has no as_of. Malformed JSON, a wrong type, a malformed date, an unknown enum value or event type are EINVALID,
// and the message names the field as a JSON path such as vulnerability.severity or events[3].date.
func DetermineJSON(r io.Reader, today vigil.Date) (Determination, error) {
	f, err := DecodeFacts(r, today)
	if err != nil {
		return Determination{}, err
	}
	return Determine(f)
}

// wireVulnerability, wireEvent and wireDevice read dates and words as strings so that a malformed one is reported
// with its field name (encoding/json drops the field path from errors returned by UnmarshalText); validate judges
// the words. The outer fields shadow the embedded ones.
type wireVulnerability struct {
	Vulnerability
	Learned        *string `json:"learned"`
	Exploitability string  `json:"exploitability"`
	VEXStatus      string  `json:"vex_status"`
	Risk           string  `json:"risk"`
}

type wireEvent struct {
	Event
	Date     *string `json:"date"`
	Recorded *string `json:"recorded"`
	Risk     string  `json:"risk"`
}

// wirePolicy and wireDevice read the acceptance matrices raw, so that risk.DecodeMatrix can name the field of a
// mistake (policy.acceptance_matrix.uncontrolled.high[0]); the outer field shadows the embedded one.
type wirePolicy struct {
	Policy
	Matrix json.RawMessage `json:"acceptance_matrix"`
}

type wireDevice struct {
	Device
	Matrix  json.RawMessage `json:"acceptance_matrix"`
	Pathway string          `json:"pathway"`
}

type wireFacts struct {
	AsOf          *string           `json:"as_of"`
	Policy        wirePolicy        `json:"policy"`
	Device        wireDevice        `json:"device"`
	Vulnerability wireVulnerability `json:"vulnerability"`
	Events        []json.RawMessage `json:"events"`
}

// DecodeFacts reads a facts document (at most MaxFactsBytes) into Facts without judging it; as_of defaults to
// today. Determine checks the values.
func DecodeFacts(r io.Reader, today vigil.Date) (Facts, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFactsBytes+1))
	if err != nil {
		return Facts{}, fmt.Errorf("facts: read: %w", err)
	}
	if len(data) > MaxFactsBytes {
		return Facts{}, vigil.Errorf(vigil.EINVALID, "facts: larger than %d bytes", MaxFactsBytes)
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return Facts{}, vigil.Errorf(vigil.EINVALID, "facts: want a JSON object")
	}
	var w wireFacts
	if err := json.Unmarshal(data, &w); err != nil {
		return Facts{}, jsonError("", err)
	}
	f := Facts{AsOf: today, Policy: w.Policy.Policy, Device: w.Device.Device, Vulnerability: w.Vulnerability.Vulnerability}
	f.Device.Pathway = vigil.Pathway(w.Device.Pathway)
	v := &f.Vulnerability
	v.Exploitability, v.VEXStatus, v.Risk = vigil.Exploitability(w.Vulnerability.Exploitability), vigil.VEXStatus(w.Vulnerability.VEXStatus), vigil.Risk(w.Vulnerability.Risk)
	if f.Policy.Matrix, err = risk.DecodeMatrix(w.Policy.Matrix, "policy.acceptance_matrix"); err != nil {
		return Facts{}, err
	}
	if m, err := risk.DecodeMatrix(w.Device.Matrix, "device.acceptance_matrix"); err != nil {
		return Facts{}, err
	} else if !m.IsZero() {
		f.Device.Matrix = &m
	}
	if w.AsOf != nil && *w.AsOf != "" {
		if f.AsOf, err = parseDate("as_of", *w.AsOf); err != nil {
			return Facts{}, err
		}
	}
	f.Vulnerability.Learned = vigil.Date{}
	if w.Vulnerability.Learned != nil && *w.Vulnerability.Learned != "" {
		if f.Vulnerability.Learned, err = parseDate("vulnerability.learned", *w.Vulnerability.Learned); err != nil {
			return Facts{}, err
		}
	}
	if len(w.Events) > MaxEvents {
		return Facts{}, vigil.Errorf(vigil.EINVALID, "events: %d events, more than the limit of %d", len(w.Events), MaxEvents)
	}
	f.Events = make([]Event, 0, len(w.Events))
	for i, raw := range w.Events {
		prefix := fmt.Sprintf("events[%d]", i)
		if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			return Facts{}, vigil.Errorf(vigil.EINVALID, "%s: want a JSON object", prefix)
		}
		var we wireEvent
		if err := json.Unmarshal(raw, &we); err != nil {
			return Facts{}, jsonError(prefix, err)
		}
		ev := we.Event
		ev.Date, ev.Risk = vigil.Date{}, vigil.Risk(we.Risk)
		if we.Date != nil && *we.Date != "" {
			if ev.Date, err = parseDate(prefix+".date", *we.Date); err != nil {
				return Facts{}, err
			}
		}
		ev.Recorded = vigil.Date{}
		if we.Recorded != nil && *we.Recorded != "" {
			if ev.Recorded, err = parseDate(prefix+".recorded", *we.Recorded); err != nil {
				return Facts{}, err
			}
		}
		f.Events = append(f.Events, ev)
	}
	return f, nil
}

func parseDate(field, s string) (vigil.Date, error) {
	d, err := vigil.ParseDate(s)
	if err != nil {
		return vigil.Date{}, vigil.Errorf(vigil.EINVALID, "%s: invalid date %q: want YYYY-MM-DD", field, clip(s))
	}
	return d, nil
}

// jsonError turns an encoding/json error into EINVALID naming the place.
func jsonError(prefix string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		where := "facts"
		if prefix != "" {
			where = prefix
		}
		return vigil.Errorf(vigil.EINVALID, "%s: malformed JSON at byte %d: %v", where, se.Offset, se)
	case errors.As(err, &te):
		field := jsonPath(te.Field)
		switch {
		case prefix != "" && field != "":
			field = prefix + "." + field
		case prefix != "":
			field = prefix
		case field == "":
			field = "facts"
		}
		return vigil.Errorf(vigil.EINVALID, "%s: want %s, got JSON %s", field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	var ve *vigil.Error
	if errors.As(err, &ve) {
		where := "facts"
		if prefix != "" {
			where = prefix
		}
		return vigil.Errorf(vigil.EINVALID, "%s: %s", where, ve.Message)
	}
	return vigil.Errorf(vigil.EINVALID, "facts: %v", err)
}

// jsonPath drops the embedded Go struct names (wireEvent's Event, wireVulnerability's Vulnerability) that
// encoding/json puts in a field path; every JSON key of the facts is lower case.
func jsonPath(p string) string {
	parts := strings.Split(p, ".")
	keep := parts[:0]
	for _, s := range parts {
		if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
			continue
		}
		keep = append(keep, s)
	}
	return strings.Join(keep, ".")
}

func jsonKind(k string) string {
	switch k {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "float64", "float32", "int", "int64":
		return "a number"
	case "ptr":
		return "a value"
	}
	return k
}
