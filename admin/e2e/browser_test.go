package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser is one headless Chromium tab and what it said on its console.
type browser struct {
	t      *testing.T
	ctx    context.Context
	mu     sync.Mutex
	errors []string // exceptions and console.error calls
}

// chromiumPath finds Debian's chromium.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed; ./scripts/test installs it (apt-get install chromium)")
	return ""
}

// newBrowser starts a headless Chromium that resolves no host but
// 127.0.0.1, with a window of width×height, closed when the test ends.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-features", "OptimizationHints,MediaRouter,Translate,AutofillServerCommunication"),
		chromedp.Flag("no-pings", true),
		chromedp.DisableGPU,
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	b := &browser{t: t, ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.addError("exception: " + e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.addError("console.error: " + strings.Join(parts, " "))
			}
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		cancelTime()
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	return b
}

func (b *browser) addError(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, s)
}

// consoleErrors returns what the page reported as errors so far.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// run performs one named step; when it fails, the page's screenshot is
// written as an artifact and the test stops.
func (b *browser) run(step string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		path := b.screenshot("failed-" + step)
		b.t.Fatalf("%s: %v (screenshot: %s; console errors: %v)", step, err, path, b.consoleErrors())
	}
}

// screenshot writes the page as a PNG under the artifacts directory and
// returns its path ("" when it could not).
func (b *browser) screenshot(name string) string {
	dir := os.Getenv("MOONBASE_TEST_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	return b.capture(dir, fmt.Sprintf("%s-%s.png", sanitize(b.t.Name()), name))
}

// docShot writes a screenshot of a main screen for docs/admin.md when
// MOONBASE_SCREENSHOTS names a directory.
func (b *browser) docShot(name string) {
	if dir := os.Getenv("MOONBASE_SCREENSHOTS"); dir != "" {
		if b.capture(dir, name+".png") == "" {
			b.t.Errorf("screenshot %s could not be written", name)
		}
	}
}

func (b *browser) capture(dir, file string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		b.t.Logf("screenshot: %v", err)
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("screenshot: %v", err)
		return ""
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot: %v", err)
		return ""
	}
	return path
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

// cookie returns the value of the named cookie the browser holds for url.
func (b *browser) cookie(url, name string) string {
	b.t.Helper()
	var value string
	b.run("read cookie", chromedp.ActionFunc(func(ctx context.Context) error {
		cookies, err := network.GetCookies().WithURLs([]string{url}).Do(ctx)
		if err != nil {
			return err
		}
		for _, c := range cookies {
			if c.Name == name {
				if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
					return fmt.Errorf("cookie %s: HttpOnly %v, SameSite %q; want HttpOnly and Strict", name, c.HTTPOnly, c.SameSite)
				}
				value = c.Value
			}
		}
		if value == "" {
			return fmt.Errorf("no cookie %s", name)
		}
		return nil
	}))
	return value
}

// waitText waits until the element sel's text contains want.
func waitText(sel, want string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var last string
		for {
			var txt string
			err := chromedp.Run(ctx, chromedp.Text(sel, &txt, chromedp.ByQuery, chromedp.NodeVisible))
			if err == nil && strings.Contains(txt, want) {
				return nil
			}
			if err == nil {
				last = txt
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s never contained %q (last: %q)", sel, want, last)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// waitTrue waits until the JavaScript expression js is true.
func waitTrue(js string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			var ok bool
			if err := chromedp.Run(ctx, chromedp.Evaluate(js, &ok)); err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("never true: %s", js)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// setField sets an input's value as typing would, firing input and change.
func setField(sel, value string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false;
			el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true}));
			el.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, sel, value)
		var ok bool
		if err := chromedp.Run(ctx, chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Evaluate(js, &ok)); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no element %s", sel)
		}
		return nil
	})
}
