package untrusted

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// CheckJSON returns an EINVALID error naming the line and column when the JSON text b nests objects and arrays
// deeper than lim.MaxDepth or holds a string longer than lim.MaxString (when set). It scans bytes (skipping
// strings) instead of decoding, so a hostile document is refused before a decoder recurses into it or a later walk
// copies a huge string around, and it costs a small fraction of a decode.
func CheckJSON(name string, b []byte, lim Limits) error {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			// Skip the string: find the closing quote, one not escaped by an odd run of backslashes before it.
			// IndexByte finds each quote many bytes at a time; strings are most of a document's bytes.
			start := i
			for {
				q := bytes.IndexByte(b[i+1:], '"')
				if q < 0 {
					i = len(b)
					break
				}
				i += 1 + q
				k := i - 1
				for k > start && b[k] == '\\' {
					k--
				}
				if (i-1-k)%2 == 0 {
					break
				}
			}
			if lim.MaxString > 0 && i-start-1 > lim.MaxString {
				line, col := LineCol(b, int64(start))
				return Invalid(name, "", "line %d, column %d: a JSON string longer than the limit of %d bytes", line, col, lim.MaxString)
			}
		case '{', '[':
			depth++
			if depth > lim.MaxDepth {
				line, col := LineCol(b, int64(i))
				return Invalid(name, "", "line %d, column %d: JSON nests deeper than the limit of %d", line, col, lim.MaxDepth)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// LineCol returns the 1-based line and column of byte offset off in b.
func LineCol(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	if off < 0 {
		off = 0
	}
	pre := b[:off]
	line = bytes.Count(pre, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(pre, '\n') + 1) + 1
	return line, col
}

// JSONError turns an error from encoding/json about the document data into an EINVALID error that names the file
// and the place: the JSON path of a value of the wrong type (affected[0].ranges[1].events[2].introduced: got a
// number, want a string), the line and column of a syntax error. base is a path prefix for documents that are
// part of a larger file (vulnerabilities[3]); it may be empty. Any other error is wrapped as is.
func JSONError(name, base string, data []byte, err error) error {
	return JSONErrorAt(name, base, data, err, 1)
}

// JSONErrorAt is JSONError for a record that starts on line startLine of its file (a streamed array element):
// syntax errors give the file's line, and a column only when the record's first line is not the one meant.
func JSONErrorAt(name, base string, data []byte, err error, startLine int) error {
	if IsLimit(err) {
		return err
	}
	field, msg := describeJSON(data, err, startLine)
	return Invalid(name, JoinPath(base, field), "%s", msg)
}

// DescribeJSON words a decoding error of data as JSONError does, without a file name: for a part of a document
// whose rejection is reported with the rest of it (a STIX bundle's object).
func DescribeJSON(data []byte, err error) string {
	field, msg := describeJSON(data, err, 1)
	if field == "" {
		return msg
	}
	return field + ": " + msg
}

func describeJSON(data []byte, err error, startLine int) (field, msg string) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included; point at that byte.
		line, col := LineCol(data, max(se.Offset-1, 0))
		text := strings.TrimPrefix(se.Error(), "json: ")
		if startLine > 1 && line == 1 {
			return "", fmt.Sprintf("line %d: malformed JSON: %s", startLine, text)
		}
		return "", fmt.Sprintf("line %d, column %d: malformed JSON: %s", line+startLine-1, col, text)
	case errors.As(err, &te):
		// The offset finds the array indexes, but only when the decoder read data itself: a library that decodes a
		// part of it (SPDX's reader) reports an offset into that part, and then the field name is all there is.
		path := PathAt(data, te.Offset)
		if path == "" || (te.Field != "" && indexes.ReplaceAllString(path, "") != te.Field) {
			path = te.Field
		}
		return path, fmt.Sprintf("got a JSON %s, want %s", te.Value, jsonKind(te.Type.String()))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "", "truncated JSON"
	}
	return "", strings.TrimPrefix(err.Error(), "json: ")
}

// indexes matches the array indexes of a JSON path, which encoding/json leaves out of UnmarshalTypeError.Field.
var indexes = regexp.MustCompile(`\[\d+\]`)

// JoinPath joins JSON path parts: "a[0]" + "b" = "a[0].b", "a" + "[1]" = "a[1]".
func JoinPath(base, path string) string {
	switch {
	case base == "":
		return path
	case path == "":
		return base
	case strings.HasPrefix(path, "["):
		return base + path
	}
	return base + "." + path
}

// jsonKind names the JSON type a Go type is decoded from, for messages read by people who never saw the Go code.
func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		return "an object"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return goType
}

// PathAt returns the JSON path (a.b[2].c) of the value in data that encoding/json was reading at byte offset off:
// UnmarshalTypeError reports an offset and a path without array indexes, and people need the indexes to find the
// record. It re-reads data token by token, so call it only on the error path. It returns "" for the top level.
func PathAt(data []byte, off int64) string {
	type frame struct {
		array     bool
		index     int
		key       string
		expectKey bool
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for i, f := range stack {
			if f.array {
				if f.index < 0 {
					continue
				}
				b.WriteByte('[')
				b.WriteString(strconv.Itoa(f.index))
				b.WriteByte(']')
			} else if !f.expectKey || i < len(stack)-1 {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			p := path()
			if top >= 0 {
				stack = stack[:top]
			}
			if top-1 >= 0 && !stack[top-1].array {
				stack[top-1].expectKey = true
			}
			if dec.InputOffset() >= off {
				return p
			}
			continue
		}
		if top >= 0 && !stack[top].array && stack[top].expectKey {
			if s, ok := tok.(string); ok {
				stack[top].key = s
				stack[top].expectKey = false
				continue
			}
		}
		if top >= 0 && stack[top].array {
			stack[top].index++
		}
		p := path()
		if dec.InputOffset() >= off {
			return p
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			stack = append(stack, frame{array: d == '[', index: -1, expectKey: d == '{'})
		} else if top >= 0 && !stack[top].array {
			stack[top].expectKey = true
		}
	}
}
