package vigil

import (
	"context"
	"sync"
)

// A request memo lets the layers that serve one request read a value that rarely changes — the organization, the
// audit trail's head — once rather than once per layer: a finding page reaches the organization from the finding
// view, the page's "today" and every cached look-up. It lives only as long as the request's context, so a change
// committed by another request (or another server sharing PostgreSQL) is seen by the next request, never missed.
type memo struct {
	mu   sync.Mutex
	vals map[any]*memoEntry
}

type memoEntry struct {
	once sync.Once
	v    any
	err  error
}

type memoKey struct{}

// WithMemo returns a context carrying an empty request memo (see Memo). Servers add one per read-only request,
// and only to those: the memo also marks the request as one that changes nothing (see ReadOnly).
func WithMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{vals: map[any]*memoEntry{}})
}

// ReadOnly reports whether ctx is a read-only request's (one given a memo): such a request may be answered from
// a moment-old state, which a request that writes must never decide from.
func ReadOnly(ctx context.Context) bool {
	_, ok := ctx.Value(memoKey{}).(*memo)
	return ok
}

// Memo returns the value of load under key, computing it once per request memo; without a memo in ctx it simply
// calls load. A failed load is remembered too: within one request a second attempt would fail the same way. Keys
// follow context-key habits: an unexported type per caller, so packages cannot collide. load must not ask for its
// own key (it would wait for itself).
func Memo[T any](ctx context.Context, key any, load func() (T, error)) (T, error) {
	m, ok := ctx.Value(memoKey{}).(*memo)
	if !ok {
		return load()
	}
	m.mu.Lock()
	e := m.vals[key]
	if e == nil {
		e = &memoEntry{}
		m.vals[key] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.v, e.err = load() })
	v, _ := e.v.(T)
	return v, e.err
}
