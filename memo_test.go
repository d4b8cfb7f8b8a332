package vigil_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigil-dev/vigil"
)

type keyA struct{}
type keyB struct{}

func TestMemo(t *testing.T) {
	var calls atomic.Int32
	load := func(v int, err error) func() (int, error) {
		return func() (int, error) { calls.Add(1); return v, err }
	}
	tests := []struct {
		name      string
		ctx       context.Context
		gets      int
		wantCalls int32
	}{
		{"without a memo every call loads", context.Background(), 3, 3},
		{"with a memo the first call loads", vigil.WithMemo(context.Background()), 3, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			for range tc.gets {
				v, err := vigil.Memo(tc.ctx, keyA{}, load(7, nil))
				if v != 7 || err != nil {
					t.Fatalf("got %d, %v", v, err)
				}
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("loads: got %d, want %d", got, tc.wantCalls)
			}
		})
	}

	t.Run("keys are apart, errors are remembered", func(t *testing.T) {
		ctx := vigil.WithMemo(context.Background())
		calls.Store(0)
		boom := errors.New("boom")
		if _, err := vigil.Memo(ctx, keyB{}, load(0, boom)); !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
		if _, err := vigil.Memo(ctx, keyB{}, load(1, nil)); !errors.Is(err, boom) {
			t.Errorf("a failed load is the request's answer: got %v", err)
		}
		if v, _ := vigil.Memo(ctx, keyA{}, load(2, nil)); v != 2 {
			t.Errorf("another key: got %d", v)
		}
		if calls.Load() != 2 {
			t.Errorf("loads: %d", calls.Load())
		}
	})

	t.Run("concurrent callers share one load", func(t *testing.T) {
		ctx := vigil.WithMemo(context.Background())
		calls.Store(0)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if v, _ := vigil.Memo(ctx, keyA{}, load(3, nil)); v != 3 {
					t.Errorf("got %d", v)
				}
			})
		}
		wg.Wait()
		if calls.Load() != 1 {
			t.Errorf("loads: %d", calls.Load())
		}
	})
}

func TestReadOnly(t *testing.T) {
	if vigil.ReadOnly(context.Background()) {
		t.Error("a bare context is not a read-only request's")
	}
	if !vigil.ReadOnly(vigil.WithMemo(context.Background())) {
		t.Error("a context with a memo is a read-only request's")
	}
}
