package cli_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/cli"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestServeEmptyStoreSaysHowToSignIn: `vigil serve` on a store without users says how to create the first admin
// (it printed only "listening"); on a store with users it does not. Each serve is stopped once it listens.
func TestServeEmptyStoreSaysHowToSignIn(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dsn := storetest.MigratedDSN(t, engine)
			serve := func() string {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var errb lockedBuffer
				done := make(chan struct{})
				go func() {
					defer close(done)
					cli.Run(ctx, []string{"--db", dsn, "serve", "--addr", "127.0.0.1:0", "--sync=false"}, strings.NewReader(""), io.Discard, &errb)
				}()
				for !strings.Contains(errb.String(), "listening") {
					select {
					case <-done:
						return errb.String()
					case <-time.After(10 * time.Millisecond):
					}
				}
				cancel()
				<-done
				return errb.String()
			}
			if got := serve(); !strings.Contains(got, "No users yet") || !strings.Contains(got, "vigil init") || !strings.Contains(got, "vigil user add NAME --role admin") {
				t.Errorf("empty store: %q", got)
			}
			r := runner{t, dsn}
			r.run("correct horse battery staple\n", "user", "add", "alice", "--role", "admin")
			if got := serve(); strings.Contains(got, "No users yet") {
				t.Errorf("store with a user: %q", got)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer that serve's goroutine writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
