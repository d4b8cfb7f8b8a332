package feed

import "io"

// LineLimit returns a reader that fails with an EINVALID error naming the file and line as soon as one line (bytes
// between newlines) grows past max bytes. CSV readers buffer a whole line, so without it a single endless line
// would be read into memory up to the file's limit.
func LineLimit(name string, r io.Reader, max int) io.Reader {
	return &lineLimit{name: name, r: r, max: max, line: 1}
}

type lineLimit struct {
	name string
	r    io.Reader
	max  int
	cur  int // bytes in the current line so far
	line int
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			l.line++
			l.cur = 0
			continue
		}
		l.cur++
		if l.cur > l.max {
			return i, boundError{Invalid(l.name, "", "line %d: longer than the limit of %d bytes", l.line, l.max), false}
		}
	}
	return n, err
}
