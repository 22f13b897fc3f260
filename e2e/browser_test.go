package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

// chromium finds Debian's Chromium; the browser test needs a real browser.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := exec.LookPath(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: scripts/setup --with-browser installs it")
	}
	t.Skip("chromium is not installed; run scripts/setup --with-browser")
	return ""
}

// browser starts headless Chromium and returns a context for chromedp.
func browser(t *testing.T) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 860),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser on this long-lived context: a browser first started
	// under a per-step timeout would close when that step's context ends.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// stepper returns what a browser test drives the page with: it runs the
// actions in turn within timeout and, at the first that fails, stops the test
// with that step's number, the page's text and the node's logs.
func stepper(t *testing.T, ctx context.Context, timeout time.Duration, logs func() string) func(...chromedp.Action) {
	return func(actions ...chromedp.Action) {
		t.Helper()
		actx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		for i, act := range actions {
			if err := chromedp.Run(actx, act); err != nil {
				var page string
				pctx, stop := context.WithTimeout(ctx, 5*time.Second)
				_ = chromedp.Run(pctx, chromedp.Evaluate(`document.body.innerText`, &page))
				stop()
				t.Fatalf("browser, step %d: %v\npage: %s\nnode logs:\n%s", i, err, page, logs())
			}
		}
	}
}

// TestBrowserPlaysAndCountsOneListen logs in through the web app, plays a
// track, checks that sound really comes out (the element's clock advances
// and a WebAudio analyser hears a signal), that exactly one verified listen
// is recorded, and that seeking back and replaying does not count twice.
func TestBrowserPlaysAndCountsOneListen(t *testing.T) {
	node := nodetest.Start(t, "--listen-threshold", "6s")
	artist, _ := signupArtist(t, node.URL, "bela", "Bela Browser")
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "tone.m4a", Seconds: 20, Title: "Browser Tone", Cover: true})
	var up struct{ Track track }
	artist.must(artist.uploadFile(src), 202, &up)
	tr := artist.waitTrack(up.Track.ID)
	if tr.Status != "ready" {
		t.Fatalf("track %s: %s", tr.Status, tr.Error)
	}
	listener := newClient(t, node.URL)
	listener.must(listener.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lena", "password": "password-lena"}), 201, nil)

	ctx := browser(t)
	run := stepper(t, ctx, 45*time.Second, node.Logs)
	run(
		chromedp.Navigate(node.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, "lena"),
		chromedp.SendKeys(`[data-testid=login-password]`, "password-lena"),
		chromedp.Click(`[data-testid=login-submit]`),
		// Logged in: the app navigates away from the login page.
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		// Navigate inside the app (no reload) to the track page.
		chromedp.Evaluate(fmt.Sprintf(`history.pushState(null, '', '/app/tracks/%d'); dispatchEvent(new PopStateEvent('popstate'))`, tr.ID), nil),
		chromedp.WaitVisible(`[data-testid=play-track]`),
	)

	// Press play and time the first audible frame.
	var firstAudioMS float64
	run(chromedp.Evaluate(`new Promise((resolve) => {
		const t0 = performance.now();
		document.querySelector('[data-testid=play-track]').click();
		const check = () => {
			const a = document.querySelector('audio');
			if (a && a.currentTime > 0 && !a.paused) resolve(performance.now() - t0);
			else requestAnimationFrame(check);
		};
		check();
	})`, &firstAudioMS, awaitPromise))
	t.Logf("time to first audio: %.0f ms", firstAudioMS)
	if out := os.Getenv("NINETEN_BENCH_OUT"); out != "" {
		os.WriteFile(out, fmt.Appendf(nil, "%.1f\n", firstAudioMS), 0o644)
	}

	// Sound is really coming out: an analyser on the element hears a signal.
	var rms float64
	run(chromedp.Evaluate(`(async () => {
		const a = document.querySelector('audio');
		const ctx = new AudioContext();
		const src = ctx.createMediaElementSource(a);
		const an = ctx.createAnalyser();
		an.fftSize = 2048;
		src.connect(an); an.connect(ctx.destination);
		await ctx.resume();
		const buf = new Float32Array(an.fftSize);
		let best = 0;
		const until = performance.now() + 1500;
		while (performance.now() < until) {
			await new Promise((r) => setTimeout(r, 50));
			an.getFloatTimeDomainData(buf);
			let sum = 0;
			for (const v of buf) sum += v * v;
			best = Math.max(best, Math.sqrt(sum / buf.length));
		}
		return best;
	})()`, &rms, awaitPromise))
	if rms < 0.01 {
		t.Fatalf("the analyser heard silence (RMS %.4f)", rms)
	}

	// Keep listening until the verified listen is reported back to the player.
	run(chromedp.Poll(`(() => { const s = window.nineten.player.state(); return s.lastReport && s.lastReport.counted })()`, nil,
		chromedp.WithPollingTimeout(30*time.Second)))
	waitPlayCount(t, listener, tr.ID, 1)

	// Seek back and listen again in the same session: still one listen.
	var seq1 float64
	run(
		chromedp.Evaluate(`window.nineten.player.state().lastReport.seq`, &seq1),
		chromedp.Evaluate(`document.querySelector('audio').currentTime = 0`, nil),
		chromedp.Poll(`(() => { const a = document.querySelector('audio'); return a.currentTime > 7 })()`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click(`[data-testid=player-toggle]`),
		chromedp.Poll(fmt.Sprintf(`window.nineten.player.state().lastReport.seq > %v`, seq1), nil, chromedp.WithPollingTimeout(10*time.Second)),
	)
	var after track
	listener.must(listener.json("GET", fmt.Sprintf("/api/v1/tracks/%d", tr.ID), nil), 200, &after)
	if after.PlayCount != 1 {
		t.Errorf("after seeking back and replaying, play_count = %d, want 1", after.PlayCount)
	}
	var recent struct{ Items []struct{ Track track } }
	listener.must(listener.json("GET", "/api/v1/me/listens", nil), 200, &recent)
	if len(recent.Items) != 1 {
		t.Errorf("recently played has %d entries, want 1", len(recent.Items))
	}
	var shot []byte
	run(chromedp.CaptureScreenshot(&shot))
	if dir := os.Getenv("NINETEN_SCREENSHOT_DIR"); dir != "" {
		os.WriteFile(dir+"/player.png", shot, 0o644)
	}
}

func awaitPromise(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams {
	return p.WithAwaitPromise(true)
}

func waitPlayCount(t *testing.T, c *client, id int64, want int64) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(15 * time.Second); ; <-tick.C {
		var tr track
		c.must(c.json("GET", fmt.Sprintf("/api/v1/tracks/%d", id), nil), 200, &tr)
		if tr.PlayCount == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("play_count = %d, want %d", tr.PlayCount, want)
		}
	}
}
