//go:build linux

package dashboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A client of ChromeDriver's W3C WebDriver HTTP API, enough to open a
// page, read what it shows, click and take a screenshot.

// browser is one WebDriver session in a headless Chromium.
type browser struct {
	t      *testing.T
	base   string // the session's URL
	client *http.Client
}

// startBrowser starts chromedriver and a headless Chromium session, both
// ended when the test ends. Without them it skips the test (fails under
// CI).
func startBrowser(t *testing.T) *browser {
	t.Helper()
	chromium, err1 := exec.LookPath("chromium")
	driver, err2 := exec.LookPath("chromedriver")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium or chromedriver is not on PATH")
		}
		t.Skip("chromium or chromedriver is not on PATH; install them (Debian: apt-get install chromium chromium-driver) to run this test")
	}
	profile, err := os.MkdirTemp("", "dashboard-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(profile) }) // after the browser is gone: cleanups run last first

	port := freePort(t)
	cmd := exec.Command(driver, "--port="+strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Chromium's processes join its group
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromedriver: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	d := &browser{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 15 * time.Second}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var status struct{ Ready bool }
		if d.try(http.MethodGet, "/status", nil, &status) == nil && status.Ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not answer within 10s:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	var created struct{ SessionID string }
	d.call(http.MethodPost, "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile},
		},
	}}}, &created)
	d.base += "/session/" + created.SessionID
	t.Cleanup(func() { _ = d.try(http.MethodDelete, "", nil, nil) }) // quits Chromium
	return d
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// try sends a WebDriver command and decodes its value into out.
func (d *browser) try(method, path string, body, out any) error {
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		in = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, in)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var reply struct{ Value json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return fmt.Errorf("%s %s: %d, %v", method, path, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, reply.Value)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(reply.Value, out)
}

func (d *browser) call(method, path string, body, out any) {
	d.t.Helper()
	if err := d.try(method, path, body, out); err != nil {
		d.t.Fatalf("webdriver: %v", err)
	}
}

// open loads url and waits for it (the default page load strategy).
func (d *browser) open(url string) {
	d.call(http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

// resize sets the window's size in CSS pixels.
func (d *browser) resize(width, height int) {
	d.call(http.MethodPost, "/window/rect", map[string]int{"width": width, "height": height}, nil)
}

// fit makes the window as tall as the page, for a screenshot of all of it.
func (d *browser) fit() {
	d.t.Helper()
	var size []int // the window's width, the page's height, and the height of the window's frame
	d.script(`return [window.outerWidth, document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]`, &size)
	if len(size) != 3 {
		d.t.Fatalf("window sizes: %v", size)
	}
	d.resize(size[0], size[1]+size[2])
}

// element is a WebDriver element reference.
type element string

// find returns the elements that match a CSS selector, within from if it
// is not empty.
func (d *browser) find(from element, css string) []element {
	d.t.Helper()
	path := "/elements"
	if from != "" {
		path = "/element/" + string(from) + "/elements"
	}
	var refs []map[string]string // {"element-6066-11e4-a52e-4f735466cecf": id}
	d.call(http.MethodPost, path, map[string]string{"using": "css selector", "value": css}, &refs)
	out := make([]element, 0, len(refs))
	for _, r := range refs {
		for _, id := range r {
			out = append(out, element(id))
		}
	}
	return out
}

// one returns the one element that matches css.
func (d *browser) one(from element, css string) element {
	d.t.Helper()
	found := d.find(from, css)
	if len(found) != 1 {
		d.t.Fatalf("%d elements match %q, want 1", len(found), css)
	}
	return found[0]
}

// await waits up to 5 s for an element to match css, as after a click
// that submits a form, and returns it.
func (d *browser) await(css string) element {
	d.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if found := d.find("", css); len(found) == 1 {
			return found[0]
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("no element matches %q after 5s", css)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// awaitText waits up to 5 s for the one element that matches css to read
// text that begins with prefix, as after a click that submits a form on a
// page that already shows that element, and returns its text.
func (d *browser) awaitText(css, prefix string) string {
	d.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		// try, not call: the page may be replaced between the two requests.
		var refs []map[string]string
		if d.try(http.MethodPost, "/elements", map[string]string{"using": "css selector", "value": css}, &refs) == nil && len(refs) == 1 {
			for _, id := range refs[0] {
				var s string
				if d.try(http.MethodGet, "/element/"+id+"/text", nil, &s) == nil && strings.HasPrefix(s, prefix) {
					return s
				}
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("no element matching %q reads %q… after 5s", css, prefix)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// text is an element's text as rendered (what a person reads).
func (d *browser) text(e element) string {
	d.t.Helper()
	var s string
	d.call(http.MethodGet, "/element/"+string(e)+"/text", nil, &s)
	return s
}

// click clicks e.
func (d *browser) click(e element) {
	d.call(http.MethodPost, "/element/"+string(e)+"/click", struct{}{}, nil)
}

// script runs JavaScript in the page (the page has none of its own) and
// decodes what it returns into out.
func (d *browser) script(js string, out any) {
	d.call(http.MethodPost, "/execute/sync", map[string]any{"script": js, "args": []any{}}, out)
}

// screenshot returns a PNG of the window.
func (d *browser) screenshot() []byte {
	d.t.Helper()
	var b64 string
	d.call(http.MethodGet, "/screenshot", nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		d.t.Fatalf("screenshot: %v", err)
	}
	return png
}
