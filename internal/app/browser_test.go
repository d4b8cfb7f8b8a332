package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is Debian's headless Chromium driven through chromedp for one browser test. Without Chromium the test
// skips loudly, unless $CI is set: then it fails, so CI cannot go green without it.
type chromium struct {
	t     *testing.T
	ctx   context.Context
	shots string // $VIGIL_SCREENSHOTS: where shot saves the screens; "" saves none
	name  string // names the screenshot of the screen a step failed on
}

// newChromium starts Chromium for the test, closed when it ends; every step and read must finish within timeout.
func newChromium(t *testing.T, name string, timeout time.Duration) *chromium {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (scripts/test installs it): the browser test cannot run and CI must not pass without it")
		}
		t.Skip("\n\n*** SKIPPING THE BROWSER TEST: chromium not found (apt-get install chromium, or run scripts/test) ***\n\n")
	}
	b := &chromium{t: t, shots: os.Getenv("VIGIL_SCREENSHOTS"), name: name}
	if b.shots != "" {
		if err := os.MkdirAll(b.shots, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshots in %s", b.shots)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000)}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	// The first action starts the browser; it must run in the long-lived context (a step's own timeout context
	// would end the browser with it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b.ctx = ctx
	return b
}

func chromiumPath() string {
	for _, p := range []string{os.Getenv("VIGIL_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return ""
}

// do runs the steps of one user action, each within 90 s; a failed step fails the test with a screenshot of the
// screen it failed on.
func (b *chromium) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	for i, s := range steps {
		sctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
		err := chromedp.Do(sctx, s)
		cancel()
		if err != nil {
			b.failureShot()
			b.t.Fatalf("%s (step %d): %v", what, i+1, err)
		}
	}
}

// failureShot saves the screen in $VIGIL_SCREENSHOTS, else in a new temporary folder that is kept for whoever
// looks into the failure.
func (b *chromium) failureShot() {
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return
	}
	dir := b.shots
	if dir == "" {
		if dir, err = os.MkdirTemp("", "vigil-screenshots-"); err != nil {
			return
		}
	}
	p := filepath.Join(dir, b.name+"-failed.png")
	if os.WriteFile(p, png, 0o644) == nil {
		b.t.Logf("the screen of the failed step: %s", p)
	}
}

// text is the text of the first element sel selects.
func (b *chromium) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// shot saves a screenshot of the screen as name.png when $VIGIL_SCREENSHOTS asks for them (to look at the
// screens); the tests assert on the pages' text, so a run that nobody looks at takes none (rendering and encoding
// them was about half of the browser tests' time).
func (b *chromium) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
