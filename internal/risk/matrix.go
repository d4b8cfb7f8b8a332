package risk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vigil-dev/vigil"
)

// Results of the determination (G2016 §VI.C): binary by design.
const (
	Controlled   = "controlled"
	Uncontrolled = "uncontrolled"
)

// Cell values of an acceptance matrix.
const (
	CellControlled   = "C"
	CellUncontrolled = "U"
)

// Matrix is a risk acceptance matrix: for each exploitability level and severity of patient harm, whether the
// residual risk is controlled (C) or uncontrolled (U). Each device may have its own (G2016 §VI.C leaves the
// boundary to the manufacturer); every determination records the Name and Version of the matrix that made it,
// so that a later change of matrix never silently rewrites an earlier decision.
//
// The zero Matrix is invalid; build one with NewMatrix, DefaultMatrix or JSON decoding, all of which validate.
type Matrix struct {
	name, version string
	cells         [3][5]byte // [Levels index][vigil.HarmSeverities index]: 'C' or 'U'
}

// matrixJSON is the JSON form: {"name", "version", "cells": {"high": {"negligible": "C", ...}, ...}}.
type matrixJSON struct {
	Name    string                       `json:"name"`
	Version string                       `json:"version"`
	Cells   map[string]map[string]string `json:"cells"`
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

// NewMatrix validates and builds a matrix. cells maps exploitability (low, medium, high) to severity of patient
// harm (vigil.HarmSeverities) to "C" or "U"; all 15 cells are required, nothing else is allowed. Errors are
// EINVALID and name the cell.
func NewMatrix(name, version string, cells map[string]map[string]string) (Matrix, error) {
	m := Matrix{name: strings.TrimSpace(name), version: strings.TrimSpace(version)}
	if err := checkLabel("matrix name", m.name); err != nil {
		return Matrix{}, err
	}
	if strings.Contains(m.name, "@") {
		return Matrix{}, vigil.Errorf(vigil.EINVALID, "matrix name %q: no \"@\" (it separates name and version in the recorded id)", m.name)
	}
	if err := checkLabel("matrix "+m.name+": version", m.version); err != nil {
		return Matrix{}, err
	}
	for _, row := range sortedKeys(cells) {
		if _, err := ParseLevel(row); err != nil {
			return Matrix{}, vigil.Errorf(vigil.EINVALID, "matrix %s: cells.%s: unknown exploitability (want low, medium, high)", m.name, row)
		}
		for _, col := range sortedKeys(cells[row]) {
			if !slices.Contains(vigil.HarmSeverities, col) {
				return Matrix{}, vigil.Errorf(vigil.EINVALID, "matrix %s: cells.%s.%s: unknown severity (want %s)", m.name, row, col, strings.Join(vigil.HarmSeverities, ", "))
			}
		}
	}
	for i, l := range Levels {
		row, ok := cells[string(l)]
		if !ok {
			return Matrix{}, vigil.Errorf(vigil.EINVALID, "matrix %s: cells.%s: missing (all 15 cells are required)", m.name, l)
		}
		for j, s := range vigil.HarmSeverities {
			v, ok := row[s]
			switch {
			case !ok:
				return Matrix{}, vigil.Errorf(vigil.EINVALID, "matrix %s: cells.%s.%s: missing (all 15 cells are required)", m.name, l, s)
			case v != CellControlled && v != CellUncontrolled:
				return Matrix{}, vigil.Errorf(vigil.EINVALID, "matrix %s: cells.%s.%s: %q, want C or U", m.name, l, s, v)
			}
			m.cells[i][j] = v[0]
		}
	}
	return m, nil
}

// checkLabel checks a name or version: required, short, printable (it is shown and recorded with decisions).
func checkLabel(field, s string) error {
	switch {
	case s == "":
		return vigil.Errorf(vigil.EINVALID, "%s: required", field)
	case len(s) > 100:
		return vigil.Errorf(vigil.EINVALID, "%s: longer than 100 bytes", field)
	case strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }) >= 0:
		return vigil.Errorf(vigil.EINVALID, "%s %q: control or invalid characters", field, s)
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

// Name and Version identify the matrix; ID is "name@version", the string recorded with a determination.
func (m Matrix) Name() string    { return m.name }
func (m Matrix) Version() string { return m.version }
func (m Matrix) ID() string      { return m.name + "@" + m.version }

// Cells returns the matrix as the map NewMatrix takes (a copy: changing it does not change m).
func (m Matrix) Cells() map[string]map[string]string {
	out := make(map[string]map[string]string, len(Levels))
	for i, l := range Levels {
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

// Decide returns Controlled or Uncontrolled for an exploitability level and a severity of patient harm. It
// returns EINVALID naming the argument when either is unknown or the matrix is the zero value.
func (m Matrix) Decide(expl, severity string) (string, error) {
	d, err := m.Determine(expl, severity)
	return d.Risk, err
}

// Decision is one application of a matrix: what went in, what came out, and which matrix said so.
type Decision struct {
	Exploitability string `json:"exploitability"`
	Severity       string `json:"severity"`
	Risk           string `json:"risk"`   // Controlled or Uncontrolled
	Matrix         string `json:"matrix"` // Matrix.ID()
	Reason         string `json:"reason"`
}

// Determine is Decide with the record a determination keeps.
func (m Matrix) Determine(expl, severity string) (Decision, error) {
	if m.name == "" {
		return Decision{}, vigil.Errorf(vigil.EINVALID, "matrix: not set (the zero Matrix decides nothing)")
	}
	i := slices.Index(Levels, Level(expl))
	if i < 0 {
		return Decision{}, vigil.Errorf(vigil.EINVALID, "exploitability %q: want low, medium or high", expl)
	}
	j := slices.Index(vigil.HarmSeverities, severity)
	if j < 0 {
		return Decision{}, vigil.Errorf(vigil.EINVALID, "severity %q: want one of %s", severity, strings.Join(vigil.HarmSeverities, ", "))
	}
	risk := Controlled
	if m.cells[i][j] == 'U' {
		risk = Uncontrolled
	}
	return Decision{
		Exploitability: expl,
		Severity:       severity,
		Risk:           risk,
		Matrix:         m.ID(),
		Reason:         fmt.Sprintf("%s: exploitability %s × severity %s is %c in acceptance matrix %s", risk, expl, severity, m.cells[i][j], m.ID()),
	}, nil
}

// MarshalJSON writes {"name", "version", "cells"}.
func (m Matrix) MarshalJSON() ([]byte, error) {
	if m.name == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "matrix: not set")
	}
	return json.Marshal(matrixJSON{Name: m.name, Version: m.version, Cells: m.Cells()})
}

// maxMatrixJSON bounds a matrix document: 15 cells and two names fit in far less.
const maxMatrixJSON = 64 << 10

// UnmarshalJSON reads and validates a matrix; unknown fields are errors, so that a typo cannot leave a cell out
// unnoticed.
func (m *Matrix) UnmarshalJSON(b []byte) error {
	if len(b) > maxMatrixJSON {
		return vigil.Errorf(vigil.EINVALID, "matrix: %d bytes, more than %d", len(b), maxMatrixJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j matrixJSON
	if err := dec.Decode(&j); err != nil {
		return vigil.Errorf(vigil.EINVALID, "matrix: %v", err)
	}
	p, err := NewMatrix(j.Name, j.Version, j.Cells)
	if err != nil {
		return err
	}
	*m = p
	return nil
}

// Inconsistencies lists the cells where the matrix accepts a risk it rejects at a lower exploitability or a lower
// severity. Such a matrix is valid (the manufacturer owns the boundary) but is most likely a mistake, worth
// showing to whoever edits it.
func (m Matrix) Inconsistencies() []string {
	var out []string
	for i := range Levels {
		for j := range vigil.HarmSeverities {
			if m.cells[i][j] != 'C' {
				continue
			}
			if i > 0 && m.cells[i-1][j] == 'U' {
				out = append(out, fmt.Sprintf("%s.%s is C but %s.%s is U", Levels[i], vigil.HarmSeverities[j], Levels[i-1], vigil.HarmSeverities[j]))
			}
			if j > 0 && m.cells[i][j-1] == 'U' {
				out = append(out, fmt.Sprintf("%s.%s is C but %s.%s is U", Levels[i], vigil.HarmSeverities[j], Levels[i], vigil.HarmSeverities[j-1]))
			}
		}
	}
	return out
}
