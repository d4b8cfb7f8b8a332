package version_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/version"
)

func TestCache(t *testing.T) {
	c := version.NewCache(4)
	tests := []struct {
		eco, a, b string
		want      int
		wantCode  string
	}{
		{"npm", "1.0.0", "1.0.1", -1, ""},
		{"npm", "1.0.1", "1.0.0", +1, ""}, // served from the cache, reversed
		{"Debian", "1:1.0", "2.0", +1, ""},
		{"npm", "latest", "1.0.0", 0, vigil.EINVALID},
		{"npm", "latest", "1.0.0", 0, vigil.EINVALID}, // a remembered error is still an error
		{"nope", "1", "1", 0, vigil.EINVALID},
	}
	for i, tt := range tests {
		got, err := c.Compare(tt.eco, tt.a, tt.b)
		if vigil.ErrorCode(err) != tt.wantCode {
			t.Fatalf("%d: code = %q, want %q (%v)", i, vigil.ErrorCode(err), tt.wantCode, err)
		}
		if got != tt.want {
			t.Errorf("%d: Compare(%s, %s, %s) = %d, want %d", i, tt.eco, tt.a, tt.b, got, tt.want)
		}
		if c.Len() > 4 {
			t.Fatalf("%d: cache holds %d entries, bound is 4", i, c.Len())
		}
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := version.NewCache(16)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				a, b := fmt.Sprintf("1.%d.0", i%40), fmt.Sprintf("1.%d.0", (i+g)%40)
				got, err := c.Compare("Go", a, b)
				want, _ := version.Compare("Go", a, b)
				if err != nil || got != want {
					errs <- fmt.Errorf("Compare(%s, %s) = %d, %v; want %d", a, b, got, err, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
