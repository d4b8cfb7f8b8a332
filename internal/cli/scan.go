package cli

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/openvex/go-vex/pkg/vex"
	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/sbom/cyclonedx"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	vexdoc "github.com/vigil-dev/vigil/internal/vex"
)

func init() { register(scanCmd) }

// scanFormats are the outputs vigil scan writes.
var scanFormats = []string{"table", "json", "cyclonedx-vex", "openvex", "sarif"}

func scanCmd(env *Env) *cobra.Command {
	var ecosystem, device, version string
	cmd := &cobra.Command{
		Use:   "scan [--format table|json|cyclonedx-vex|openvex|sarif] SBOM",
		Short: "Match an SBOM against the local vulnerability store, storing nothing",
		Long: `Reads a CycloneDX (JSON/XML) or SPDX (JSON/tag-value) SBOM and matches its components against the
vulnerability intelligence imported with 'vigil import' (OSV ranges and versions lists, NVD CPE configurations,
OSV's Bitnami CPEs, CSAF products). Nothing is stored.

Components are identified by purl (the CycloneDX group stands in for a missing Maven groupId, npm scope or
Composer vendor), else by group and name in the ecosystem --ecosystem declares, and by CPE.

--format json prints {"components": N, "findings": [{"component": {"name", "version", "purl"}, "vulnerability",
"aliases", "state", "evidence": {"matcher", "range", "fixed", ...}}]}, one finding per (component, vulnerability
id as the feed names it). state is "open" (matched) or "could_not_evaluate" (a version could not be ordered; the
evidence says why). cyclonedx-vex and openvex write VEX documents (matches as in_triage / under_investigation:
a match is not yet an assessment); sarif writes SARIF 2.1.0 for code-scanning dashboards.

Exit codes: 0 no findings, 1 findings (or a failure), 2 invalid input (a malformed SBOM, a bad flag).`,
		Example: `  vigil scan device.cdx.json
  vigil scan --format json --db sqlite:/var/lib/vigil/vigil.db sbom.spdx.json
  vigil scan --ecosystem PyPI requirements.cdx.json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(scanFormats, env.Format) {
				return Usage("--format: %q is not one of %s", env.Format, strings.Join(scanFormats, ", "))
			}
			f, err := os.Open(args[0])
			if err != nil {
				return vigil.Errorf(vigil.EINVALID, "sbom %s: %v", args[0], errText(err))
			}
			if os.Getenv("GOGC") == "" {
				// A scan is a short-lived process whose heap only grows (the SBOM, then the advisories its keys name,
				// then the findings): at the default 100 the collector marked the growing heap at every doubling,
				// a fifth of a 10,000-component scan's CPU. At 200 it runs about half as often, for some 10 MB more
				// at the peak.
				debug.SetGCPercent(200)
			}
			defer f.Close()
			return env.withApp(func(a *app.App) error {
				res, err := a.Portfolio.Scan(env.actx(), f, filepath.Base(args[0]), portfolio.ScanOptions{Ecosystem: ecosystem})
				if err != nil {
					return err
				}
				if res.NoIntel {
					env.Log.Warn("the vulnerability store is empty: nothing was matched (import intelligence with `vigil import`)")
				}
				if len(res.Findings) > 0 {
					env.SetExit(ExitFailure)
				}
				var assessed *vigil.DeviceVEX
				if env.Format == "openvex" || env.Format == "cyclonedx-vex" {
					if assessed, err = scanAssessed(env, a, res, device, version); err != nil {
						return err
					}
				}
				return writeScan(env, res, a.Clock.Now(), assessed)
			})
		},
	}
	cmd.Flags().StringVar(&ecosystem, "ecosystem", "", "ecosystem of components that have no purl (PyPI, npm, Maven, ...)")
	cmd.Flags().StringVar(&device, "device", "", "openvex, cyclonedx-vex: the device whose cases' statuses the VEX states (with --version; default: the SBOM's subject when it names a stored device version)")
	cmd.Flags().StringVar(&version, "version", "", "openvex, cyclonedx-vex: the version of --device")
	return cmd
}

// scanAssessed is the VEX of the device version the scanned SBOM is, when one is named (--device and --version) or
// the SBOM's subject names a stored device version: its cases' statuses then replace the matches' in the VEX.
func scanAssessed(env *Env, a *app.App, res *portfolio.ScanResult, device, version string) (*vigil.DeviceVEX, error) {
	if (device == "") != (version == "") {
		return nil, Usage("--device and --version go together")
	}
	named := device != ""
	if !named {
		subj := res.Document.Subject
		if subj == nil || subj.Name == "" || subj.Version == "" {
			return nil, nil
		}
		device, version = subj.Name, subj.Version
	}
	v, err := lookupVersion(env, a, device, version)
	if vigil.ErrorCode(err) == vigil.ENOTFOUND && !named {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d, err := a.Remediation.DeviceVEX(env.actx(), v.DeviceID, v.ID)
	if err != nil {
		return nil, err
	}
	env.Log.Info("VEX statuses from the assessed cases", "device", d.Device, "version", d.Version, "statements", len(d.Statements))
	return d, nil
}

// assessedStatement finds the statement d makes about a vulnerability, by its id or any alias.
func assessedStatement(d *vigil.DeviceVEX, ids ...string) *vigil.DeviceVEXStatement {
	if d == nil {
		return nil
	}
	for i := range d.Statements {
		s := &d.Statements[i]
		for _, id := range ids {
			if strings.EqualFold(id, s.Vulnerability) || slices.ContainsFunc(s.Aliases, func(a string) bool { return strings.EqualFold(a, id) }) {
				return s
			}
		}
	}
	return nil
}

// errText strips the operating system's wrapping from a file error.
func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func writeScan(env *Env, res *portfolio.ScanResult, now time.Time, assessed *vigil.DeviceVEX) error {
	switch env.Format {
	case "json":
		return writeScanJSON(env.Stdout, res)
	case "cyclonedx-vex":
		opt := cyclonedx.VEXOptions{SerialNumber: scanURN(res), Timestamp: now, Subject: res.Document.Subject, ToolVersion: toolVersion}
		var serr error // a status outside the vocabulary: the statements come from the store, so never expected
		if assessed != nil {
			opt.Assessed = func(f vigil.Finding) *cyclonedx.Statement {
				s := assessedStatement(assessed, append([]string{f.Vulnerability}, f.Aliases...)...)
				if s == nil {
					return nil
				}
				st, err := vexdoc.CycloneDXStatement(assessed.Device, *s)
				if err != nil {
					serr = err
					return nil
				}
				return &st
			}
		}
		if err := cyclonedx.WriteVEX(env.Stdout, res.Document.Components, res.Findings, opt); err != nil {
			return err
		}
		return serr
	case "openvex":
		doc := scanOpenVEX(res, now, assessed)
		return doc.ToJSON(env.Stdout)
	case "sarif":
		return env.JSON(scanSARIF(res))
	}
	rows := make([][]string, 0, len(res.Findings))
	for _, f := range res.Findings {
		ev := f.Evidence.Matcher + " " + f.Evidence.Range
		if f.State == vigil.FindingCouldNotEval {
			ev = f.Evidence.Matcher + ": " + f.Evidence.Reason
		}
		rows = append(rows, []string{f.Component.Name, f.Component.Version, f.Vulnerability, string(f.State), f.Evidence.Fixed, ev})
	}
	if err := env.Table([]string{"COMPONENT", "VERSION", "VULNERABILITY", "STATE", "FIXED", "EVIDENCE"}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(env.Stdout, "%d components, %d findings\n", len(res.Document.Components), len(res.Findings))
	return err
}

// toolVersion names this Vigil in generated documents.
const toolVersion = "dev"

// scanURN identifies a scan's documents by the SBOM's digest, so the same SBOM gives the same document id.
func scanURN(res *portfolio.ScanResult) string {
	d := res.Digest
	if len(d) < 32 {
		s := sha256.Sum256([]byte(res.Name))
		d = hex.EncodeToString(s[:])
	}
	// urn:uuid form (CycloneDX requires it): the first 128 bits of the digest, as a version-8 (custom) UUID.
	return fmt.Sprintf("urn:uuid:%s-%s-8%s-%x%s-%s", d[0:8], d[8:12], d[13:16], 0x8|hexNibble(d[16])&0x3, d[17:20], d[20:32])
}

func hexNibble(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0
}

// writeScanJSON writes the JSON contract, {"components": N, "findings": [finding, ...]}, exactly as encoding/json
// would indent it, a finding at a time and without reflection: a 10,000-component scan has tens of thousands of
// findings, and encoding each through a struct was a tenth of the scan's CPU and most of its garbage at the end.
// Each finding is {"component": {"name", "version", "purl", "cpe" when set}, "vulnerability", "aliases" (never
// null), "state", "evidence": {"matcher", "range", "fixed", then "source", "advisory", "reason" when set}}.
func writeScanJSON(w io.Writer, res *portfolio.ScanResult) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "{\n  \"components\": %d,\n  \"findings\": [", len(res.Document.Components))
	var b []byte
	for i := range res.Findings {
		if i > 0 {
			bw.WriteByte(',')
		}
		b = appendScanFinding(b[:0], &res.Findings[i])
		bw.Write(b)
	}
	if len(res.Findings) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// appendScanFinding appends one finding of writeScanJSON, at the depth the whole document puts it.
func appendScanFinding(b []byte, f *vigil.Finding) []byte {
	field := func(b []byte, indent, name, v string, last bool) []byte {
		b = append(b, indent...)
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `": `...)
		b = appendJSONString(b, v)
		if !last {
			b = append(b, ',')
		}
		return b
	}
	const in2, in3 = "\n      ", "\n        "
	c := &f.Component
	b = append(b, "\n    {"+in2+`"component": {`...)
	b = field(b, in3, "name", c.Name, false)
	b = field(b, in3, "version", c.Version, false)
	b = field(b, in3, "purl", c.Purl, c.CPE == "")
	if c.CPE != "" {
		b = field(b, in3, "cpe", c.CPE, true)
	}
	b = append(b, in2+"},"...)
	b = field(b, in2, "vulnerability", f.Vulnerability, false)
	b = append(b, in2+`"aliases": [`...)
	for i, a := range f.Aliases {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, in3...)
		b = appendJSONString(b, a)
	}
	if len(f.Aliases) > 0 {
		b = append(b, in2...)
	}
	b = append(b, "],"...)
	b = field(b, in2, "state", string(f.State), false)
	e := &f.Evidence
	b = append(b, in2+`"evidence": {`...)
	b = field(b, in3, "matcher", e.Matcher, false)
	b = field(b, in3, "range", e.Range, false)
	opt := [][2]string{{"source", e.Source}, {"advisory", e.Advisory}, {"reason", e.Reason}}
	for len(opt) > 0 && opt[len(opt)-1][1] == "" {
		opt = opt[:len(opt)-1]
	}
	b = field(b, in3, "fixed", e.Fixed, len(opt) == 0)
	for i, o := range opt {
		if o[1] != "" {
			b = field(b, in3, o[0], o[1], i == len(opt)-1)
		}
	}
	return append(b, in2+"}\n    }"...)
}

// appendJSONString appends s as encoding/json writes a string without HTML escaping. Nearly every string of a
// scan is printable ASCII without quotes or backslashes and is copied as it is; any other goes through
// encoding/json itself, so that the output never differs from it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// componentRef names a component for VEX and SARIF: its purl, else a Vigil URN of name and version.
func componentRef(c vigil.Component) string {
	if c.Purl != "" {
		return c.Purl
	}
	if c.CPE != "" {
		return c.CPE
	}
	return "urn:vigil:component:" + c.Name + "@" + c.Version
}

// scanOpenVEX writes one OpenVEX statement per (vulnerability, state): its products are the components matched.
// A match is not an assessment, so a status is under_investigation, with the evidence in status_notes, unless the
// device version's assessed VEX states one for the vulnerability.
func scanOpenVEX(res *portfolio.ScanResult, now time.Time, assessed *vigil.DeviceVEX) vex.VEX {
	doc := vex.New()
	doc.ID = scanURN(res)
	doc.Author = "Vigil"
	doc.AuthorRole = "tool"
	doc.Tooling = "vigil scan " + toolVersion
	doc.Version = 1
	ts := now.UTC().Truncate(time.Second)
	doc.Timestamp = &ts
	type group struct {
		vuln, state string
	}
	idx := map[group]int{}
	for _, f := range res.Findings {
		g := group{f.Vulnerability, string(f.State)}
		i, ok := idx[g]
		if !ok {
			st := vex.Statement{Vulnerability: vex.Vulnerability{Name: vex.VulnerabilityID(f.Vulnerability)},
				Status: vex.StatusUnderInvestigation}
			for _, a := range f.Aliases {
				st.Vulnerability.Aliases = append(st.Vulnerability.Aliases, vex.VulnerabilityID(a))
			}
			i = len(doc.Statements)
			idx[g] = i
			doc.Statements = append(doc.Statements, st)
		}
		st := &doc.Statements[i]
		p := vex.Product{Component: vex.Component{ID: componentRef(f.Component)}}
		if f.Component.Purl != "" {
			p.Identifiers = map[vex.IdentifierType]string{vex.PURL: f.Component.Purl}
		}
		if !slices.ContainsFunc(st.Products, func(q vex.Product) bool { return q.ID == p.ID }) {
			st.Products = append(st.Products, p)
		}
		note := fmt.Sprintf("%s: %s matched by %s %s", componentRef(f.Component), f.Vulnerability, f.Evidence.Matcher, f.Evidence.Range)
		if f.Evidence.Fixed != "" {
			note += "; fixed in " + f.Evidence.Fixed
		}
		if f.State == vigil.FindingCouldNotEval {
			note = fmt.Sprintf("%s: could not evaluate %s (%s): %s", componentRef(f.Component), f.Vulnerability, f.Evidence.Matcher, f.Evidence.Reason)
		}
		if st.StatusNotes != "" {
			st.StatusNotes += "\n"
		}
		st.StatusNotes += note
	}
	for i := range doc.Statements {
		st := &doc.Statements[i]
		ids := []string{string(st.Vulnerability.Name)}
		for _, a := range st.Vulnerability.Aliases {
			ids = append(ids, string(a))
		}
		if s := assessedStatement(assessed, ids...); s != nil {
			vexdoc.SetOpenVEX(st, *s)
		}
	}
	slices.SortStableFunc(doc.Statements, func(a, b vex.Statement) int {
		return strings.Compare(string(a.Vulnerability.Name), string(b.Vulnerability.Name))
	})
	return doc
}

// SARIF 2.1.0, the subset code-scanning dashboards read: one rule per vulnerability, one result per finding,
// located in the SBOM file and, logically, at the component.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool      sarifTool       `json:"tool"`
	Artifacts []sarifArtifact `json:"artifacts"`
	Results   []sarifResult   `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	ShortDescription sarifText      `json:"shortDescription"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifArtifact struct {
	Location sarifArtifactLocation `json:"location"`
}

type sarifArtifactLocation struct {
	URI   string `json:"uri"`
	Index *int   `json:"index,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Kind                string            `json:"kind"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func scanSARIF(res *portfolio.ScanResult) sarifLog {
	drv := sarifDriver{Name: "vigil", InformationURI: "https://github.com/vigil-dev/vigil", Version: toolVersion,
		Rules: []sarifRule{}}
	rules := map[string]int{}
	zero := 0
	run := sarifRun{Tool: sarifTool{}, Artifacts: []sarifArtifact{{Location: sarifArtifactLocation{URI: res.Name}}},
		Results: []sarifResult{}}
	for _, f := range res.Findings {
		ri, ok := rules[f.Vulnerability]
		if !ok {
			ri = len(drv.Rules)
			rules[f.Vulnerability] = ri
			desc := f.Vulnerability
			if len(f.Aliases) > 0 {
				desc += " (" + strings.Join(f.Aliases, ", ") + ")"
			}
			r := sarifRule{ID: f.Vulnerability, ShortDescription: sarifText{"Known vulnerability " + desc}}
			if len(f.Aliases) > 0 {
				r.Properties = map[string]any{"aliases": f.Aliases}
			}
			drv.Rules = append(drv.Rules, r)
		}
		c := f.Component
		who := strings.TrimSpace(c.Name + " " + c.Version)
		level, kind := "warning", "fail"
		msg := fmt.Sprintf("%s is affected by %s: %s %s", who, f.Vulnerability, f.Evidence.Matcher, f.Evidence.Range)
		if f.Evidence.Fixed != "" {
			msg += "; fixed in " + f.Evidence.Fixed
		}
		if f.State == vigil.FindingCouldNotEval {
			level, kind = "note", "review"
			msg = fmt.Sprintf("%s could not be evaluated against %s: %s", who, f.Vulnerability, f.Evidence.Reason)
		}
		fp := sha256.Sum256([]byte(componentRef(c) + "\x00" + f.Vulnerability))
		props := map[string]any{"state": f.State, "matcher": f.Evidence.Matcher, "range": f.Evidence.Range,
			"source": f.Evidence.Source, "advisory": f.Evidence.Advisory}
		if f.Evidence.Fixed != "" {
			props["fixed"] = f.Evidence.Fixed
		}
		if f.Evidence.Reason != "" {
			props["reason"] = f.Evidence.Reason
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: f.Vulnerability, RuleIndex: ri, Level: level, Kind: kind, Message: sarifText{msg},
			Locations: []sarifLocation{{
				PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifactLocation{URI: res.Name, Index: &zero}},
				LogicalLocations: []sarifLogical{{Name: c.Name, FullyQualifiedName: componentRef(c), Kind: "module"}},
			}},
			PartialFingerprints: map[string]string{"vigilFinding/v1": hex.EncodeToString(fp[:16])},
			Properties:          props,
		})
	}
	run.Tool.Driver = drv
	return sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
}
