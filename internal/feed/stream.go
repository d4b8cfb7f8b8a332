package feed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Stream reads one large JSON document (an NVD feed file, a KEV catalog) a value at a time, so that each record is
// bounded on its own (untrusted.Limits.MaxRecordSize, MaxDepth) instead of the whole document being held in memory. It is a
// deliberately small scanner: it finds where values begin and end and leaves their syntax to encoding/json.
type Stream struct {
	name  string
	br    *bufio.Reader
	lim   untrusted.Limits
	off   int64 // bytes consumed
	line  int   // line of the next byte
	peekd bool
}

// NewStream returns a Stream over r. lim bounds each value; the caller bounds r itself (untrusted.LimitReader).
func NewStream(name string, r io.Reader, lim untrusted.Limits) *Stream {
	return &Stream{name: name, br: bufio.NewReaderSize(r, 64<<10), lim: lim.WithDefaults(), line: 1}
}

func (s *Stream) errorf(format string, args ...any) error {
	return untrusted.Invalid(s.name, "", "line %d: "+format, append([]any{s.line}, args...)...)
}

func (s *Stream) readByte() (byte, error) {
	c, err := s.br.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, s.errorf("unexpected end of JSON input")
		}
		return 0, untrusted.ReadError(s.name, err)
	}
	s.off++
	if c == '\n' {
		s.line++
	}
	return c, nil
}

// Peek returns the next byte that is not white space, without consuming it; io.EOF at the end of the input.
func (s *Stream) Peek() (byte, error) {
	for {
		b, err := s.br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return 0, io.EOF
			}
			return 0, untrusted.ReadError(s.name, err)
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			if _, err := s.readByte(); err != nil {
				return 0, err
			}
			continue
		}
		return b[0], nil
	}
}

// Expect consumes the next non-space byte, which must be c.
func (s *Stream) Expect(c byte) error {
	got, err := s.Peek()
	if err == io.EOF {
		return s.errorf("unexpected end of JSON input, want %q", c)
	} else if err != nil {
		return err
	}
	if got != c {
		return s.errorf("invalid character %q, want %q", got, c)
	}
	_, err = s.readByte()
	return err
}

// Line returns the line the stream is at (1-based), for messages.
func (s *Stream) Line() int { return s.line }

// Next reports whether another member or element follows in the object or array being read: it consumes a ','
// and returns true, or leaves the closing delimiter and returns false. first is true before the first one.
func (s *Stream) Next(first bool, closing byte) (bool, error) {
	c, err := s.Peek()
	if err == io.EOF {
		return false, s.errorf("unexpected end of JSON input")
	} else if err != nil {
		return false, err
	}
	if c == closing {
		return false, nil
	}
	if first {
		return true, nil
	}
	if c != ',' {
		return false, s.errorf("invalid character %q, want ',' or %q", c, closing)
	}
	_, err = s.readByte()
	return true, err
}

// Key reads an object member's name and the ':' after it.
func (s *Stream) Key() (string, error) {
	raw, err := s.Value()
	if err != nil {
		return "", err
	}
	var k string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &k) != nil {
		return "", s.errorf("want an object key, got %.40q", raw)
	}
	return k, s.Expect(':')
}

// Value reads the next JSON value whole and returns its bytes (valid until the next call only if the caller does
// not keep them: the slice is fresh each time). It refuses a value longer than MaxRecordSize or nested deeper than
// MaxDepth as soon as it sees it, so a hostile record costs at most the limit.
func (s *Stream) Value() ([]byte, error) {
	c, err := s.Peek()
	if err == io.EOF {
		return nil, s.errorf("unexpected end of JSON input")
	} else if err != nil {
		return nil, err
	}
	startLine := s.line
	var buf bytes.Buffer
	put := func(c byte) error {
		if int64(buf.Len()) >= s.lim.MaxRecordSize {
			return untrusted.Invalid(s.name, "", "line %d: a value larger than the limit of %d bytes", startLine, s.lim.MaxRecordSize)
		}
		buf.WriteByte(c)
		return nil
	}
	switch c {
	case '{', '[':
		depth := 0
		for {
			c, err := s.readByte()
			if err != nil {
				return nil, err
			}
			if err := put(c); err != nil {
				return nil, err
			}
			switch c {
			case '{', '[':
				depth++
				if depth > s.lim.MaxDepth {
					return nil, s.errorf("JSON nests deeper than the limit of %d", s.lim.MaxDepth)
				}
			case '}', ']':
				depth--
				if depth == 0 {
					return buf.Bytes(), nil
				}
			case '"':
				if err := s.stringRest(put); err != nil {
					return nil, err
				}
			}
		}
	case '"':
		if _, err := s.readByte(); err != nil {
			return nil, err
		}
		if err := put('"'); err != nil {
			return nil, err
		}
		if err := s.stringRest(put); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case ',', ':', '}', ']':
		return nil, s.errorf("invalid character %q looking for beginning of value", c)
	}
	// A literal: number, true, false, null. It ends at a delimiter or white space.
	for {
		b, err := s.br.Peek(1)
		if err == io.EOF {
			return buf.Bytes(), nil
		} else if err != nil {
			return nil, untrusted.ReadError(s.name, err)
		}
		switch b[0] {
		case ',', '}', ']', ' ', '\t', '\r', '\n', ':':
			return buf.Bytes(), nil
		}
		c, err := s.readByte()
		if err != nil {
			return nil, err
		}
		if err := put(c); err != nil {
			return nil, err
		}
	}
}

// stringRest copies the rest of a string whose opening quote was read, up to and including the closing quote.
func (s *Stream) stringRest(put func(byte) error) error {
	for {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		if err := put(c); err != nil {
			return err
		}
		switch c {
		case '\\':
			c, err := s.readByte()
			if err != nil {
				return err
			}
			if err := put(c); err != nil {
				return err
			}
		case '"':
			return nil
		case '\n':
			return s.errorf("invalid character '\\n' in string literal")
		}
	}
}

// Members reads a JSON object, calling fn with each member's name; fn must read the member's value (Value,
// Elements). An error from fn stops it.
func (s *Stream) Members(fn func(key string) error) error {
	if err := s.Expect('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := s.Next(first, '}')
		if err != nil {
			return err
		}
		if !more {
			return s.Expect('}')
		}
		key, err := s.Key()
		if err != nil {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
	}
}

// Elements reads a JSON array a value at a time, refusing more than max elements (the limit is reported against
// field), and calls fn with each element's index, the line it starts on and its bytes; an error from fn stops it.
func (s *Stream) Elements(field string, max int, fn func(i, line int, raw []byte) error) error {
	if err := s.Expect('['); err != nil {
		return err
	}
	for i, first := 0, true; ; i, first = i+1, false {
		more, err := s.Next(first, ']')
		if err != nil {
			return err
		}
		if !more {
			return s.Expect(']')
		}
		if i >= max {
			return untrusted.Invalid(s.name, field, "more than the limit of %d entries", max)
		}
		line := s.Line()
		raw, err := s.Value()
		if err != nil {
			return err
		}
		if err := fn(i, line, raw); err != nil {
			return err
		}
	}
}

// End checks that nothing but white space follows the document.
func (s *Stream) End() error {
	c, err := s.Peek()
	if err == io.EOF {
		return nil
	} else if err != nil {
		return err
	}
	return s.errorf("invalid character %q after the top-level value", c)
}
