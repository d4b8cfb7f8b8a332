package untrusted

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
)

// ReadAll reads r whole, refusing more than max bytes with an EINVALID error naming the file. Unlike
// io.LimitReader it never hands a silently truncated document to a parser (whose error would then be misleading).
func ReadAll(name string, r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, ReadError(name, err)
	}
	if n > max {
		return nil, tooLarge(name, max)
	}
	return buf.Bytes(), nil
}

// CheckSize refuses a document already in memory that is larger than max bytes, as ReadAll would have.
func CheckSize(name string, b []byte, max int64) error {
	if int64(len(b)) > max {
		return tooLarge(name, max)
	}
	return nil
}

func tooLarge(name string, max int64) error {
	return Invalid(name, "", "larger than the limit of %d bytes", max)
}

// ReadError keeps a bounded reader's refusal (IsLimit) as it is and names the file on any other read error.
func ReadError(name string, err error) error {
	if IsLimit(err) {
		return err
	}
	return Invalid(name, "", "read: %v", err)
}

// LimitReader returns a reader that yields r's bytes and then, once more than max bytes have come, fails with an
// EINVALID error naming the file, rather than ending early as io.LimitReader does. When total is not nil it is a
// budget shared by several readers (all the entries of one archive) and is charged as bytes are read.
func LimitReader(name string, r io.Reader, max int64, total *Budget) io.Reader {
	return &limitReader{name: name, r: r, left: max, max: max, total: total}
}

// Budget is a byte count shared by the readers of one walk or archive; they may run in parallel goroutines.
type Budget struct {
	left atomic.Int64
	max  int64
}

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget {
	b := &Budget{max: max}
	b.left.Store(max)
	return b
}

// Left returns the bytes that may still be read (negative once the budget is overdrawn).
func (b *Budget) Left() int64 { return b.left.Load() }

// Max returns the budget's limit.
func (b *Budget) Max() int64 { return b.max }

// Overdrawn is the error a reader of the budget returns once it is spent, naming the file being read.
func (b *Budget) Overdrawn(name string) error {
	return boundError{Invalid(name, "", "the archive decompresses to more than the limit of %d bytes", b.max), true}
}

type limitReader struct {
	name  string
	r     io.Reader
	left  int64
	max   int64
	total *Budget
}

// boundError is the EINVALID error a limitReader or lineLimit returns, so that IsLimit tells it from the errors
// of the reader underneath.
// budget marks an overdrawn shared Budget (as opposed to one reader's own limit).
type boundError struct {
	error
	budget bool
}

// IsLimit reports whether err is a LimitReader's refusal: one reader's limit or a shared Budget.
func IsLimit(err error) bool {
	var b boundError
	return errors.As(err, &b)
}

// IsBudget reports whether err is a LimitReader's refusal because a shared Budget is overdrawn.
func IsBudget(err error) bool {
	var b boundError
	return errors.As(err, &b) && b.budget
}

func (e boundError) Unwrap() error { return e.error }

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, boundError{Invalid(l.name, "", "larger than the limit of %d bytes", l.max), false}
	}
	if l.total != nil && l.total.Left() < 0 {
		return 0, l.total.Overdrawn(l.name)
	}
	// Read at most one byte past the limit so that crossing it is noticed without reading much further.
	lim := l.left + 1
	if l.total != nil && l.total.Left()+1 < lim {
		lim = l.total.Left() + 1
	}
	if int64(len(p)) > lim {
		p = p[:lim]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, boundError{Invalid(l.name, "", "larger than the limit of %d bytes", l.max), false}
	}
	if l.total != nil && l.total.left.Add(-int64(n)) < 0 {
		return n, l.total.Overdrawn(l.name)
	}
	return n, err
}

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
