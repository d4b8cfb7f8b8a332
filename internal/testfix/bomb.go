package testfix

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
)

// GzipBomb writes a gzip stream that expands to prefix followed by filler bytes, size bytes in all (rounded up to
// a mebibyte), while staying about a thousand times smaller: the same one-mebibyte member repeated, which gzip
// readers take as one stream. A 4 MB file so made expands to 4 GiB, and it is written in well under a second,
// so tests and harnesses build real bombs instead of keeping them as fixtures.
func GzipBomb(w io.Writer, prefix string, size int64) error {
	member := func(b []byte) ([]byte, error) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(b); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	const mib = 1 << 20
	first, err := member([]byte(prefix + strings.Repeat("x", mib-len(prefix)%mib)))
	if err != nil {
		return err
	}
	if _, err := w.Write(first); err != nil {
		return err
	}
	rest, err := member(bytes.Repeat([]byte("x"), mib))
	if err != nil {
		return err
	}
	for n := int64(len(prefix)/mib + 1); n*mib < size; n++ {
		if _, err := w.Write(rest); err != nil {
			return err
		}
	}
	return nil
}

// Endless returns a reader that yields prefix and then n bytes of 'a' without holding them: a feed file whose one
// value or line never ends (1 GiB for a parser's size limits), made in constant memory.
func Endless(prefix string, n int64) io.Reader {
	return &endless{prefix: []byte(prefix), n: n}
}

type endless struct {
	prefix []byte
	n      int64
}

func (e *endless) Read(p []byte) (int, error) {
	if len(e.prefix) > 0 {
		c := copy(p, e.prefix)
		e.prefix = e.prefix[c:]
		return c, nil
	}
	if e.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	for i := range p {
		p[i] = 'a'
	}
	e.n -= int64(len(p))
	return len(p), nil
}
