package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"sync"
)

// fragments caches rendered parts of pages that are the same for every user at one state of the portfolio: the
// dashboard's panels, the rows of a list's first page. Keys carry the revision the data came from (see
// Overview.Revision), so a change to the portfolio makes new keys and old entries simply age out. At 100,000
// findings and fifty clients, html/template's reflective execution was half of what the server spent; a part
// rendered once is reused until the state moves. Entries are html/template's own output, escaped when rendered,
// so inserting them as HTML trusts nothing new.
type fragments struct {
	mu sync.Mutex
	m  map[string]any
}

// maxFragments bounds the cache: a dashboard and a first page per filter people use, per revision.
const maxFragments = 256

// get returns the value under key, building and keeping it when missing. An empty key (a revision nobody named)
// is never kept.
func (f *fragments) get(key string, build func() (any, error)) (any, error) {
	if key != "" {
		f.mu.Lock()
		v, ok := f.m[key]
		f.mu.Unlock()
		if ok {
			return v, nil
		}
	}
	v, err := build()
	if err != nil || key == "" {
		return v, err
	}
	f.mu.Lock()
	if f.m == nil || len(f.m) >= maxFragments {
		f.m = map[string]any{} // the oldest revisions are what fills it: start again
	}
	f.m[key] = v
	f.mu.Unlock()
	return v, nil
}

// execute renders the named template of a page's set as a fragment.
func (s *Server) execute(ctx context.Context, set, name string, data any) (template.HTML, error) {
	t, ok := s.templates(ctx)[set]
	if !ok {
		return "", fmt.Errorf("no template set %s", set)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render %s/%s: %w", set, name, err)
	}
	return template.HTML(buf.String()), nil
}
