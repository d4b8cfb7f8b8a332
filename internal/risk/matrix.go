package risk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vigil-dev/vigil"
)

// Cell values of an acceptance matrix.
const (
	CellControlled   = "C"
	CellUncontrolled = "U"
)

// Matrix is a risk acceptance matrix (G2016 §VI.C): for each exploitability level and severity of patient harm,
// whether the residual risk, evaluated after existing mitigations, is controlled (C) or uncontrolled (U). FDA's
// figure is only an example, so each manufacturer (and each device) may set its own; every determination records
// the ID (name and version) of the matrix that made it, so that a later change of matrix never silently rewrites
// an earlier decision. This is the one matrix of Vigil: the assessment workflow and the regulatory engine (the
// Determination API) both decide with it.
//
// The zero Matrix decides nothing (IsZero reports it); build one with NewMatrix, NewMatrixUncontrolled,
// DefaultMatrix, DecodeMatrix or JSON decoding, all of which validate, so a non-zero Matrix is always complete.
type Matrix struct {
	name, version string
	cells         [3][5]byte // [vigil.Exploitabilities index][vigil.HarmSeverities index]: 'C' or 'U'
}

// matrixJSON is the JSON form. It is written as {"name", "version", "uncontrolled": {"high": ["serious", ...],
// "medium": [...], "low": [...]}} (the form the Determination API has always shown); it is read in that form or,
// alternatively, as {"name", "version", "cells": {"high": {"negligible": "C", ...}, ...}} with all 15 cells.
type matrixJSON struct {
	Name         string                       `json:"name"`
	Version      string                       `json:"version"`
	Uncontrolled map[string][]string          `json:"uncontrolled,omitempty"`
	Cells        map[string]map[string]string `json:"cells,omitempty"`
}

// DefaultMatrixName and DefaultMatrixVersion identify the default matrix (REGULATORY.md §2, a policy default).
const (
	DefaultMatrixName    = "vigil-default"
	DefaultMatrixVersion = "1"
)

// DefaultMatrix returns the default acceptance matrix of REGULATORY.md §2:
//
//	exploitability \ severity  negligible minor serious critical catastrophic
//	high                       C          C     U       U        U
//	medium                     C          C     C       U        U
//	low                        C          C     C       C        U
func DefaultMatrix() Matrix {
	return Matrix{name: DefaultMatrixName, version: DefaultMatrixVersion, cells: [3][5]byte{
		{'C', 'C', 'C', 'C', 'U'}, // low
		{'C', 'C', 'C', 'U', 'U'}, // medium
		{'C', 'C', 'U', 'U', 'U'}, // high
	}}
}

// NewMatrix validates and builds a matrix from all 15 cells: cells maps exploitability (low, medium, high) to
// severity of patient harm (vigil.HarmSeverities) to "C" or "U"; nothing else is allowed. Errors are EINVALID and
// name the field (name, cells.high.minor, version).
func NewMatrix(name, version string, cells map[string]map[string]string) (Matrix, error) {
	return buildMatrix("matrix", matrixJSON{Name: name, Version: version, Cells: cells})
}

// NewMatrixUncontrolled validates and builds a matrix from its uncontrolled cells: uncontrolled maps an
// exploitability level to the severities whose risk is uncontrolled at that level; every other cell is
// controlled. Errors are EINVALID and name the field (name, uncontrolled.high[0], version).
func NewMatrixUncontrolled(name, version string, uncontrolled map[string][]string) (Matrix, error) {
	if uncontrolled == nil {
		uncontrolled = map[string][]string{}
	}
	return buildMatrix("matrix", matrixJSON{Name: name, Version: version, Uncontrolled: uncontrolled})
}

// buildMatrix checks j and builds the matrix; field is the JSON path of j in error messages. The name is checked
// first, then the cells, then the version, so that the most telling mistake is the one reported.
func buildMatrix(field string, j matrixJSON) (Matrix, error) {
	m := Matrix{name: strings.TrimSpace(j.Name), version: strings.TrimSpace(j.Version)}
	if err := checkLabel(field+".name", m.name, "every determination records the matrix used"); err != nil {
		return Matrix{}, err
	}
	switch {
	case j.Cells != nil && j.Uncontrolled != nil:
		return Matrix{}, vigil.Errorf(vigil.EINVALID, "%s: give either cells or uncontrolled, not both", field)
	case j.Cells != nil:
		if err := m.fillCells(field+".cells", j.Cells); err != nil {
			return Matrix{}, err
		}
	case j.Uncontrolled != nil:
		if err := m.fillUncontrolled(field+".uncontrolled", j.Uncontrolled); err != nil {
			return Matrix{}, err
		}
	default:
		return Matrix{}, vigil.Errorf(vigil.EINVALID, "%s.uncontrolled: required (or cells with all 15 cells): a matrix must say which cells are uncontrolled", field)
	}
	if err := checkLabel(field+".version", m.version, "every determination records the matrix version used"); err != nil {
		return Matrix{}, err
	}
	return m, nil
}

func (m *Matrix) fillCells(field string, cells map[string]map[string]string) error {
	for _, row := range sortedKeys(cells) {
		if !slices.Contains(vigil.Exploitabilities, vigil.Exploitability(row)) {
			return vigil.Errorf(vigil.EINVALID, "%s.%s: unknown exploitability (want low, medium, high)", field, clip(row))
		}
		for _, col := range sortedKeys(cells[row]) {
			if !slices.Contains(vigil.HarmSeverities, col) {
				return vigil.Errorf(vigil.EINVALID, "%s.%s.%s: unknown severity (want %s)", field, row, clip(col), strings.Join(vigil.HarmSeverities, ", "))
			}
		}
	}
	for i, l := range vigil.Exploitabilities {
		row, ok := cells[string(l)]
		if !ok {
			return vigil.Errorf(vigil.EINVALID, "%s.%s: missing (all 15 cells are required)", field, l)
		}
		for j, s := range vigil.HarmSeverities {
			v, ok := row[s]
			switch {
			case !ok:
				return vigil.Errorf(vigil.EINVALID, "%s.%s.%s: missing (all 15 cells are required)", field, l, s)
			case v != CellControlled && v != CellUncontrolled:
				return vigil.Errorf(vigil.EINVALID, "%s.%s.%s: %q, want C or U", field, l, s, clip(v))
			}
			m.cells[i][j] = v[0]
		}
	}
	return nil
}

func (m *Matrix) fillUncontrolled(field string, unc map[string][]string) error {
	for i := range m.cells {
		for j := range m.cells[i] {
			m.cells[i][j] = 'C'
		}
	}
	for _, row := range sortedKeys(unc) {
		i := slices.Index(vigil.Exploitabilities, vigil.Exploitability(row))
		if i < 0 {
			return vigil.Errorf(vigil.EINVALID, "%s: unknown exploitability %q (want low, medium, high)", field, clip(row))
		}
		for k, s := range unc[row] {
			j := slices.Index(vigil.HarmSeverities, s)
			if j < 0 {
				return vigil.Errorf(vigil.EINVALID, "%s.%s[%d]: unknown severity %q (want %s)", field, row, k, clip(s), strings.Join(vigil.HarmSeverities, ", "))
			}
			m.cells[i][j] = 'U'
		}
	}
	return nil
}

// checkLabel checks a name or version: required, short, printable (it is shown and recorded with decisions).
func checkLabel(field, s, why string) error {
	switch {
	case s == "":
		return vigil.Errorf(vigil.EINVALID, "%s: required (%s)", field, why)
	case len(s) > 100:
		return vigil.Errorf(vigil.EINVALID, "%s: longer than 100 bytes", field)
	case strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }) >= 0:
		return vigil.Errorf(vigil.EINVALID, "%s %q: control or invalid characters", field, clip(s))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// IsZero reports whether m is the zero Matrix (no matrix chosen).
func (m Matrix) IsZero() bool { return m.name == "" }

// Equal reports whether two matrices are the same (name, version and every cell). go-cmp uses it.
func (m Matrix) Equal(o Matrix) bool { return m == o }

// Name and Version identify the matrix; ID is "name vVERSION" (e.g. "vigil-default v1"), the string recorded with
// every assessment and determination.
func (m Matrix) Name() string    { return m.name }
func (m Matrix) Version() string { return m.version }
func (m Matrix) ID() string {
	if m.name == "" {
		return ""
	}
	return m.name + " v" + m.version
}

// Cells returns the matrix as the map NewMatrix takes (a copy: changing it does not change m).
func (m Matrix) Cells() map[string]map[string]string {
	out := make(map[string]map[string]string, len(vigil.Exploitabilities))
	for i, l := range vigil.Exploitabilities {
		row := make(map[string]string, len(vigil.HarmSeverities))
		for j, s := range vigil.HarmSeverities {
			if m.cells[i][j] != 0 {
				row[s] = string(m.cells[i][j])
			}
		}
		out[string(l)] = row
	}
	return out
}

// Uncontrolled returns, for each exploitability level, the severities whose risk is uncontrolled, from least to
// most severe (a copy). Every level is present, with an empty list when it has no uncontrolled cell.
func (m Matrix) Uncontrolled() map[string][]string {
	out := make(map[string][]string, len(vigil.Exploitabilities))
	for i, l := range vigil.Exploitabilities {
		row := []string{}
		for j, s := range vigil.HarmSeverities {
			if m.cells[i][j] == 'U' {
				row = append(row, s)
			}
		}
		out[string(l)] = row
	}
	return out
}

// Decide returns the determination (controlled or uncontrolled) for an exploitability level and a severity of patient harm. It
// returns EINVALID naming the argument when either is unknown or the matrix is the zero value.
func (m Matrix) Decide(expl vigil.Exploitability, severity string) (vigil.Risk, error) {
	d, err := m.Determine(expl, severity)
	return d.Risk, err
}

// Decision is one application of a matrix: what went in, what came out, and which matrix said so.
type Decision struct {
	Exploitability vigil.Exploitability `json:"exploitability"`
	Severity       string               `json:"severity"`
	Risk           vigil.Risk           `json:"risk"`
	Matrix         string               `json:"matrix"` // Matrix.ID()
	Reason         string               `json:"reason"`
}

// Determine is Decide with the record a determination keeps.
func (m Matrix) Determine(expl vigil.Exploitability, severity string) (Decision, error) {
	if m.name == "" {
		return Decision{}, vigil.Errorf(vigil.EINVALID, "matrix: not set (the zero Matrix decides nothing)")
	}
	i := slices.Index(vigil.Exploitabilities, expl)
	if i < 0 {
		return Decision{}, vigil.Errorf(vigil.EINVALID, "exploitability %q: want low, medium or high", clip(string(expl)))
	}
	j := slices.Index(vigil.HarmSeverities, severity)
	if j < 0 {
		return Decision{}, vigil.Errorf(vigil.EINVALID, "severity %q: want one of %s", clip(severity), strings.Join(vigil.HarmSeverities, ", "))
	}
	risk := vigil.RiskControlled
	if m.cells[i][j] == 'U' {
		risk = vigil.RiskUncontrolled
	}
	return Decision{
		Exploitability: expl,
		Severity:       severity,
		Risk:           risk,
		Matrix:         m.ID(),
		Reason:         fmt.Sprintf("%s: exploitability %s × severity %s is %c in acceptance matrix %s", risk, expl, severity, m.cells[i][j], m.ID()),
	}, nil
}

// MarshalJSON writes {"name", "version", "uncontrolled"}, or null for the zero Matrix (no matrix chosen: the
// default applies).
func (m Matrix) MarshalJSON() ([]byte, error) {
	if m.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(matrixJSON{Name: m.name, Version: m.version, Uncontrolled: m.Uncontrolled()})
}

// MaxMatrixJSON bounds a matrix document: 15 cells and two names fit in far less.
const MaxMatrixJSON = 64 << 10

// UnmarshalJSON reads and validates a matrix (see DecodeMatrix); null leaves m unchanged.
func (m *Matrix) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	p, err := DecodeMatrix(b, "matrix")
	if err != nil {
		return err
	}
	*m = p
	return nil
}

// DecodeMatrix reads and validates a matrix document (at most MaxMatrixJSON bytes) in either JSON form; field is
// its JSON path, used in error messages ("device.acceptance_matrix" gives
// "device.acceptance_matrix.uncontrolled.high[0]: unknown severity ..."). Unknown fields are errors, so that a typo
// cannot leave a cell out unnoticed. Empty input or null is the zero Matrix. Every error is EINVALID.
func DecodeMatrix(b []byte, field string) (Matrix, error) {
	if len(b) > MaxMatrixJSON {
		return Matrix{}, vigil.Errorf(vigil.EINVALID, "%s: %d bytes, more than %d", field, len(b), MaxMatrixJSON)
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || string(t) == "null" {
		return Matrix{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j matrixJSON
	if err := dec.Decode(&j); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			want := map[string]string{"slice": "an array", "map": "an object", "string": "a string"}[te.Type.Kind().String()]
			if want == "" {
				want = te.Type.String()
			}
			return Matrix{}, vigil.Errorf(vigil.EINVALID, "%s.%s: want %s, got JSON %s", field, te.Field, want, te.Value)
		}
		return Matrix{}, vigil.Errorf(vigil.EINVALID, "%s: %s", field, clip(err.Error()))
	}
	if dec.More() {
		return Matrix{}, vigil.Errorf(vigil.EINVALID, "%s: data after the matrix object", field)
	}
	return buildMatrix(field, j)
}

// Inconsistencies lists the cells where the matrix accepts a risk it rejects at a lower exploitability or a lower
// severity. Such a matrix is valid (the manufacturer owns the boundary) but is most likely a mistake, worth
// showing to whoever edits it.
func (m Matrix) Inconsistencies() []string {
	var out []string
	for i := range vigil.Exploitabilities {
		for j := range vigil.HarmSeverities {
			if m.cells[i][j] != 'C' {
				continue
			}
			if i > 0 && m.cells[i-1][j] == 'U' {
				out = append(out, fmt.Sprintf("%s.%s is C but %s.%s is U", vigil.Exploitabilities[i], vigil.HarmSeverities[j], vigil.Exploitabilities[i-1], vigil.HarmSeverities[j]))
			}
			if j > 0 && m.cells[i][j-1] == 'U' {
				out = append(out, fmt.Sprintf("%s.%s is C but %s.%s is U", vigil.Exploitabilities[i], vigil.HarmSeverities[j], vigil.Exploitabilities[i], vigil.HarmSeverities[j-1]))
			}
		}
	}
	return out
}
