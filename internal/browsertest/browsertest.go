// Package browsertest drives Debian's Chromium, headless, for end-to-end
// tests of pages served on loopback. A test without Chromium skips with a
// message; .ci/install.sh installs it and CI's browser checks fail on a
// skip.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is the browser's path, or the test skips.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed: no chromium, chromium-browser or google-chrome on PATH; install Debian's chromium package (.ci/install.sh does) to run the browser tests")
	return ""
}

// Tab is one tab of a Chromium of its own.
type Tab struct {
	T   testing.TB
	Ctx context.Context
	// Wait bounds each WaitFor.
	Wait time.Duration

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// New starts Chromium with a window of the given size; every action must
// finish within timeout of now. The browser is closed when the test ends.
func New(t testing.TB, width, height int, timeout time.Duration) *Tab {
	t.Helper()
	path := Chromium(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these, Chromium calls home, and the closed network
		// refuses it many times a second.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Cleanups run last-registered first: the browser exits before the
	// allocator, and both before t.TempDir removes the profile.
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(browserCtx, timeout)
	t.Cleanup(cancel)
	tab := &Tab{T: t, Ctx: ctx, Wait: 8 * time.Second}
	messages := chromedp.Console(browserCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tab.mu.Lock()
			tab.console = append(tab.console, m)
			tab.mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("set viewport: %v", err)
	}
	return tab
}

// Do runs actions and fails the test, with the page's text, on an error.
func (tab *Tab) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tab.T.Helper()
	if err := chromedp.Do(tab.Ctx, actions...); err != nil {
		tab.T.Fatalf("%s: %v\npage: %s", what, err, tab.Text())
	}
}

// WaitFor polls a JavaScript expression until it is true.
func (tab *Tab) WaitFor(what, expr string) {
	tab.T.Helper()
	if _, err := chromedp.Run(tab.Ctx, chromedp.Poll[bool]("Boolean("+expr+")", chromedp.WithPollingTimeout(tab.Wait))); err != nil {
		tab.T.Fatalf("waiting for %s (%s): %v\npage: %s", what, expr, err, tab.Text())
	}
}

// Eval evaluates a JavaScript expression into T.
func Eval[T any](tab *Tab, expr string) T {
	tab.T.Helper()
	v, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tab.T.Fatalf("evaluate %s: %v\npage: %s", expr, err, tab.Text())
	}
	return v
}

// Text is the page's visible text, for failure messages; it never fails.
func (tab *Tab) Text() string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tab.Ctx), 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// CheckConsole fails the test on an uncaught exception or a
// Content-Security-Policy violation: part of the page would not work.
func (tab *Tab) CheckConsole() {
	tab.T.Helper()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	for _, m := range tab.console {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			tab.T.Errorf("browser console: %s (%s:%d)", m, m.URL, m.Line+1)
		}
	}
}

// Screenshot writes what the viewport shows, or with full the whole page,
// as a PNG file.
func (tab *Tab) Screenshot(file string, full bool) {
	tab.T.Helper()
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(tab.Ctx, shot)
	if err != nil {
		tab.T.Fatalf("screenshot %s: %v", file, err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tab.T.Fatal(err)
	}
	tab.T.Logf("wrote %s", file)
}
