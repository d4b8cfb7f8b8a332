// Package spdx reads SPDX 2.x SBOMs (2.1, 2.2 and 2.3; JSON and tag-value) into Vigil components with
// spdx/tools-golang, which converts every version to the 2.3 model. Its tag-value reader is strict and its errors
// name neither file nor line, so this package splits tag-value documents into lines itself and reports the line
// that the library refused. Input is untrusted: reads are bounded and errors name the file and the field.
package spdx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	tvreader "github.com/spdx/tools-golang/tagvalue/reader"

	"github.com/spdx/tools-golang/convert"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	spdxcommon "github.com/spdx/tools-golang/spdx/common"
	v21 "github.com/spdx/tools-golang/spdx/v2/v2_1/tagvalue/reader"
	v22 "github.com/spdx/tools-golang/spdx/v2/v2_2/tagvalue/reader"
	v23 "github.com/spdx/tools-golang/spdx/v2/v2_3/tagvalue/reader"

	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Parse reads an SPDX 2.x document from r: JSON when its first non-space byte is '{', tag-value otherwise.
// A zero field of lim means the SBOM default (model.DefaultLimits).
func Parse(name string, r io.Reader, lim untrusted.Limits) (*model.Document, error) {
	return model.Read(name, r, lim, func(name string, b []byte, lim untrusted.Limits) (*model.Document, error) {
		if model.FirstByte(b) == '{' {
			return ParseJSON(name, b, lim)
		}
		return ParseTagValue(name, b, lim)
	})
}

// maxTagValuePairs bounds the tag-value lines held in memory (each costs about 40 bytes plus the library's own
// structures). Real documents stay far below: a Yocto image with 50,000 files has about 400,000.
const maxTagValuePairs = 2_000_000

var versions = map[string]string{"SPDX-2.1": "2.1", "SPDX-2.2": "2.2", "SPDX-2.3": "2.3"}

// ParseJSON parses an SPDX 2.x JSON document held in b.
func ParseJSON(name string, b []byte, lim untrusted.Limits) (*model.Document, error) {
	lim, name = lim.Or(model.DefaultLimits()), model.Name(name)
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if err := untrusted.CheckSize(name, b, lim.MaxRecordSize); err != nil {
		return nil, err
	}
	if err := untrusted.CheckJSON(name, b, lim); err != nil {
		return nil, err
	}
	var head struct {
		SPDXVersion any `json:"spdxVersion"`
		Context     any `json:"@context"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, untrusted.JSONError(name, "", b, err)
	}
	sv, _ := head.SPDXVersion.(string)
	if sv == "" && head.Context != nil {
		return nil, untrusted.Invalid(name, "@context", "SPDX 3 (JSON-LD) is not supported; send SPDX 2.2 or 2.3")
	}
	if head.SPDXVersion == nil {
		return nil, untrusted.Invalid(name, "spdxVersion", "missing: not an SPDX 2 document")
	}
	version, ok := versions[sv]
	if !ok {
		return nil, untrusted.Invalid(name, "spdxVersion", "unsupported SPDX version %q (want SPDX-2.1, SPDX-2.2 or SPDX-2.3)", untrusted.Clip(fmt.Sprint(head.SPDXVersion)))
	}
	doc, err := safeReadJSON(b)
	if err != nil {
		return nil, untrusted.JSONError(name, "", b, err)
	}
	return convertDoc(doc, name, model.FormatSPDXJSON, version, lim, jsonLocator{})
}

// ParseTagValue parses an SPDX 2.x tag-value document held in b.
func ParseTagValue(name string, b []byte, lim untrusted.Limits) (*model.Document, error) {
	lim, name = lim.Or(model.DefaultLimits()), model.Name(name)
	if err := untrusted.CheckSize(name, b, lim.MaxRecordSize); err != nil {
		return nil, err
	}
	pairs, lines, err := splitTagValues(b, name)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, untrusted.Invalid(name, "", "no SPDX tag-value pairs found")
	}
	pairs, lines = dropSnippets(pairs, lines)
	sv, svLine := "", 0
	for i, p := range pairs {
		if p.Tag == "SPDXVersion" {
			sv, svLine = p.Value, lines[i]
			break
		}
	}
	version, ok := versions[sv]
	if !ok {
		field := "SPDXVersion"
		if svLine > 0 {
			field = fmt.Sprintf("line %d: SPDXVersion", svLine)
		}
		return nil, untrusted.Invalid(name, field, "unsupported or missing SPDX version %q (want SPDX-2.1, SPDX-2.2 or SPDX-2.3)", untrusted.Clip(sv))
	}
	parse := parserFor(version)
	parsed, err := safeParse(parse, pairs)
	if err != nil {
		line := failingLine(parse, pairs, lines, err)
		return nil, untrusted.Invalid(name, fmt.Sprintf("line %d", line), "%s", tagValueMessage(err))
	}
	var doc spdx.Document
	if err := safeConvert(parsed, &doc); err != nil {
		return nil, untrusted.Invalid(name, "", "cannot convert SPDX %s to 2.3: %v", version, err)
	}
	return convertDoc(&doc, name, model.FormatSPDXTagValue, version, lim, newTVLocator(pairs, lines))
}

// dropSnippets removes snippet sections. Vigil has no use for snippets (they describe parts of files), and the
// library refuses a snippet section that does not follow a file section ("received unknown tag SnippetSPDXID in
// Package section"), which rejects the SPDX specification's own 2.2 and 2.3 tag-value examples.
func dropSnippets(pairs []tvreader.TagValuePair, lines []int) ([]tvreader.TagValuePair, []int) {
	outP, outL := pairs[:0:0], lines[:0:0]
	for i, p := range pairs {
		if strings.HasPrefix(p.Tag, "Snippet") || p.Tag == "LicenseInfoInSnippet" {
			continue
		}
		outP, outL = append(outP, p), append(outL, lines[i])
	}
	return outP, outL
}

type parseFunc func([]tvreader.TagValuePair) (spdxcommon.AnyDocument, error)

func parserFor(version string) parseFunc {
	switch version {
	case "2.1":
		return func(p []tvreader.TagValuePair) (spdxcommon.AnyDocument, error) { return v21.ParseTagValues(p) }
	case "2.2":
		return func(p []tvreader.TagValuePair) (spdxcommon.AnyDocument, error) { return v22.ParseTagValues(p) }
	default:
		return func(p []tvreader.TagValuePair) (spdxcommon.AnyDocument, error) { return v23.ParseTagValues(p) }
	}
}

// failingLine finds the line of the pair the library refused. The library parses pairs in order and stops at the
// first bad one, so the shortest prefix of pairs that fails with the same message ends at that pair; a binary search
// finds it with log2(n) re-parses, paid only when a document is rejected.
func failingLine(parse parseFunc, pairs []tvreader.TagValuePair, lines []int, want error) int {
	lo, hi := 1, len(pairs) // the answer k is in [lo, hi]: pairs[:hi] fails with want
	for lo < hi {
		mid := lo + (hi-lo)/2
		_, err := safeParse(parse, pairs[:mid])
		if err != nil && err.Error() == want.Error() {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lines[hi-1]
}

func safeParse(parse parseFunc, pairs []tvreader.TagValuePair) (doc spdxcommon.AnyDocument, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tag-value parser failed: %v", r)
		}
	}()
	return parse(pairs)
}

// tagValueMessage rewords the library's terser errors.
func tagValueMessage(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "received unknown tag"):
		return msg + " (the tag is misspelled or not valid in this section)"
	case strings.Contains(msg, "does not have SPDX identifier"):
		return msg + " (add an SPDXID line right after it)"
	}
	return msg
}

// splitTagValues splits a tag-value document into (tag, value) pairs the way the library's reader does (comments
// and blank lines skipped, <text>…</text> values spanning lines), recording the line each pair starts on. The
// library's own reader uses bufio.Scanner, which fails on lines over 64 KiB.
func splitTagValues(b []byte, name string) ([]tvreader.TagValuePair, []int, error) {
	var pairs []tvreader.TagValuePair
	var lines []int
	text := string(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	inText := false
	var tag string
	var val strings.Builder
	start := 0
	lineNo := 0
	for len(text) > 0 {
		lineNo++
		if len(pairs) >= maxTagValuePairs {
			return nil, nil, untrusted.Invalid(name, fmt.Sprintf("line %d", lineNo), "more than %d tag-value pairs", maxTagValuePairs)
		}
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		line = strings.TrimSuffix(line, "\r")
		if inText {
			before, _, closed := strings.Cut(line, "</text>")
			if !closed {
				val.WriteString(line)
				val.WriteByte('\n')
				continue
			}
			val.WriteString(before)
			pairs = append(pairs, tvreader.TagValuePair{Tag: tag, Value: val.String()})
			lines = append(lines, start)
			inText = false
			continue
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		t, v, ok := strings.Cut(trimmed, ":")
		if !ok {
			return nil, nil, untrusted.Invalid(name, fmt.Sprintf("line %d", lineNo), "no colon: want \"Tag: value\", got %q", untrusted.Clip(trimmed))
		}
		tag = strings.TrimSpace(t)
		if _, after, hasText := strings.Cut(v, "<text>"); hasText {
			if inner, _, closed := strings.Cut(after, "</text>"); closed {
				pairs = append(pairs, tvreader.TagValuePair{Tag: tag, Value: inner})
				lines = append(lines, lineNo)
				continue
			}
			val.Reset()
			val.WriteString(after)
			val.WriteByte('\n')
			inText, start = true, lineNo
			continue
		}
		pairs = append(pairs, tvreader.TagValuePair{Tag: tag, Value: strings.TrimSpace(v)})
		lines = append(lines, lineNo)
	}
	if inText {
		return nil, nil, untrusted.Invalid(name, fmt.Sprintf("line %d", start), "<text> opened here is never closed with </text>")
	}
	return pairs, lines, nil
}

// The library is not ours: a panic inside it on hostile input must become an error, never a crash.

func safeReadJSON(b []byte) (doc *spdx.Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("SPDX JSON reader failed: %v", r)
		}
	}()
	return spdxjson.Read(bytes.NewReader(b))
}

func safeConvert(from spdxcommon.AnyDocument, to *spdx.Document) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("conversion failed: %v", r)
		}
	}()
	return convert.Document(from, to)
}
