package web

import (
	"context"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
)

// This file holds what the server admits and cleans up around every request, at the outermost layer
// (Server.ServeHTTP) because nothing deeper outlives the request: uploads take one of a few slots or are turned
// away with 429 and Retry-After, their parses share a memory budget (reserveParse), and the temporary files of every multipart form parsed anywhere in the chain are
// removed when the request ends. net/http removes them only for a form parsed on the request it created itself,
// and every middleware here and in chi works on copies (WithContext), so before this each upload over 8 MiB left
// its whole multipart-* file in $TMPDIR.

// Parsing amplification: the memory an upload takes per byte of its input while it is parsed and stored,
// measured on 40 MB documents of 1.2 M properties or annotations (bench/memory for the server, the heap for the
// parsers alone): a CycloneDX JSON SBOM peaks at about 8 times its size in the server (4 in its parser, 30 before
// its schema was checked a component at a time), CycloneDX XML at 5 in its parser, SPDX JSON at 12, the worst,
// which is what every SBOM is weighed at: two uploads near the 64 MB limit are parsed one after the other. A feed
// upload goes through the importer, which reads and parses a compressed feed a document at a time within its own
// bounds; 8 covers the file and its largest documents in flight.
const (
	sbomAmplification   = 12
	importAmplification = 8
)

// reserveParse waits until the parse budget has room for a parse of n bytes of input amplified amp times (a parse
// larger than the whole budget waits until it runs alone), and returns the function that gives the room back. It
// returns ctx's error when the client goes first. The wait is short in practice: only the MaxUploads uploads
// being served can be waiting.
func (s *Server) reserveParse(ctx context.Context, n, amp int64) (func(), error) {
	w := min(n*amp, s.opt.ParseMemory)
	if !s.parseMem.TryAcquire(w) {
		if err := s.parseMem.Acquire(ctx, w); err != nil {
			return nil, err
		}
	}
	return func() { s.parseMem.Release(w) }, nil
}

// uploadRetryAfter is what a client turned away for want of an upload slot is told to wait: about one upload.
const uploadRetryAfter = 10 * time.Second

// busyError refuses a request the server has no room for now; it answers 429 with Retry-After.
type busyError struct {
	what  string
	after time.Duration
}

func (e *busyError) Error() string {
	return e.what + ": the server is busy; retry in " + strconv.Itoa(int(e.after.Seconds())) + " seconds"
}

// forms are the multipart forms parsed while serving one request, removed (their temporary files) at its end.
type forms struct {
	mu   sync.Mutex
	list []*multipart.Form
}

type formsKey struct{}

func (f *forms) removeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.list {
		m.RemoveAll()
	}
	f.list = nil
}

// parseMultipart parses r's multipart form (at most 8 MiB held in memory, the rest of a file in a temporary
// file) once, and has the temporary files removed when the request ends, whichever copy of the request parsed
// them. Every multipart parse in this package goes through it. The body must already be bounded.
func parseMultipart(r *http.Request) error {
	if r.MultipartForm != nil {
		return nil
	}
	err := r.ParseMultipartForm(8 << 20)
	if r.MultipartForm != nil {
		if f, ok := r.Context().Value(formsKey{}).(*forms); ok {
			f.mu.Lock()
			f.list = append(f.list, r.MultipartForm)
			f.mu.Unlock()
		}
	}
	return err
}

// ServeHTTP admits the request (an upload needs a slot) and cleans up after it (see the top of this file).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.isUpload(r) {
		select {
		case s.uploads <- struct{}{}:
			defer func() { <-s.uploads }()
		default:
			s.writeError(w, r, &busyError{what: "upload", after: uploadRetryAfter})
			return
		}
	}
	f := &forms{}
	defer f.removeAll()
	s.router.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), formsKey{}, f)))
}

// isUpload reports whether r needs an upload slot: a write to a route marked Upload, or any multipart body, which
// the CSRF check parses (spooling its files to disk) wherever it is sent.
func (s *Server) isUpload(r *http.Request) bool {
	if safeMethod(r.Method) {
		return false
	}
	return isMultipart(r) || s.uploadRoutes.Match(chi.NewRouteContext(), r.Method, r.URL.Path)
}

// isMultipart reports whether r carries a multipart form.
func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}
