//go:build linux

package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// TestInABrowser drives the page in a headless Chromium, as a person
// would: reads the leader and the jobs, clicks "Run now" and reads the
// answer, clicks "Pause" and sees the job paused, and checks the page fits
// a phone's width. With
// SOLOCRON_SCREENSHOT=path it writes a screenshot of the desktop page
// there (docs/dashboard.png is one), with SOLOCRON_SCREENSHOT_PHONE one of
// the phone's.
func TestInABrowser(t *testing.T) {
	b := startBrowser(t)

	store := solocrontest.NewStore()
	clock := solocrontest.NewClock(time.Date(2026, 11, 24, 8, 53, 30, 0, time.UTC))
	ahead := time.Date(2027, 11, 24, 9, 0, 0, 0, time.UTC)
	store.SetRecord("rebuild-search-index", solocron.Record{Claimed: ahead, Completed: ahead})
	odd := `purge <tmp> & "cache"`
	// Runs that take a little time, for a screenshot that looks real.
	takes := func(d time.Duration, err error) func(context.Context) error {
		return func(context.Context) error { time.Sleep(d); return err }
	}
	s := start(t, solocron.Options{Elector: store.Elector(), Clock: clock},
		solocron.Job{Name: "send-invoices", Spec: "0 2 * * *", Run: takes(42*time.Millisecond, nil)},
		solocron.Job{Name: "sync-crm", Spec: "*/5 * * * *", Run: takes(12*time.Millisecond, errors.New("crm.example.com: 503 Service Unavailable"))},
		solocron.Job{Name: odd, Spec: "*/5 * * * *", Run: takes(3*time.Millisecond, nil)},
		solocron.Job{Name: "rebuild-search-index", Spec: "@hourly", Run: noop},
	)
	waitRole(t, s, solocron.Leader)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clock.Walk(ctx, time.Date(2026, 11, 24, 9, 2, 10, 0, time.UTC), time.Minute, s); err != nil {
		t.Fatal(err) // runs at 08:55 and 09:00
	}

	mux := http.NewServeMux()
	mux.Handle("/solocron/", http.StripPrefix("/solocron", New(s, Options{Authorize: allow, Clock: clock, Location: time.UTC})))
	srv := httptest.NewServer(mux) // on 127.0.0.1
	defer srv.Close()

	b.resize(1280, 800)
	b.open(srv.URL + "/solocron/")
	leader := b.text(b.one("", "#leader"))
	if want := fmt.Sprintf("this process: pid %d on ", os.Getpid()); !strings.HasPrefix(leader, want) || !strings.Contains(leader, "app example.com/billing") {
		t.Errorf("the leader line reads %q, want it to begin %q and name the app", leader, want)
	}
	rows := b.find("", "#jobs tbody tr")
	var names []string
	for _, r := range rows {
		names = append(names, b.text(b.one(r, ".name")))
	}
	if want := []string{"send-invoices", "sync-crm", odd, "rebuild-search-index"}; strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the table shows jobs %q, want %q", names, want)
	}
	cells := func(row element) string {
		var parts []string
		for _, td := range b.find(row, "td") {
			parts = append(parts, b.text(td))
		}
		return strings.Join(parts, " | ")
	}
	for _, c := range []struct {
		row  int
		want string
	}{
		{0, "send-invoices\n0 2 * * * | 2026-11-25 02:00:00 in 16h 57m | – | – | – | 0 | 0 | 0 |  | Run now Pause"},
		{1, "sync-crm\n*/5 * * * * | 2026-11-24 09:05:00 in 2m 50s | 2026-11-24 09:00:00 2m 10s ago |"},
		{1, "| crm.example.com: 503 Service Unavailable | 2 | 2 | 0 |"},
		// Every tick is refused, so the job is overdue as well.
		{3, "rebuild-search-index\n@hourly | 2026-11-24 10:00:00 in 57m 50s | – | – | – | 0 | 0 | 1 | overdue\ndue "},
		{3, "ledger ahead\nclaimed to 2027-11-24 09:00:00 | Run now Pause Reset record"},
	} {
		if got := cells(rows[c.row]); !strings.Contains(got, c.want) {
			t.Errorf("row %d reads\n%q\nwant it to contain\n%q", c.row, got, c.want)
		}
	}

	b.click(b.one(rows[0], "button.run"))
	if got, want := b.text(b.await("#result")), "Ran “send-invoices” now: it finished without error."; got != want {
		t.Errorf("after Run now the page says %q, want %q", got, want)
	}
	row := b.find("", "#jobs tbody tr")[0]
	if got := b.text(b.one(row, `td[data-label="Runs"]`)); got != "1" {
		t.Errorf("after Run now the job's runs read %q, want 1", got)
	}
	if got := b.text(b.one(row, `td[data-label="Outcome"]`)); got != "ok" {
		t.Errorf("after Run now the job's outcome reads %q, want ok", got)
	}

	b.click(b.one(row, "button.pause"))
	b.awaitText("#result", "Paused “send-invoices”")
	row = b.find("", "#jobs tbody tr")[0]
	if got := b.text(b.one(row, `td[data-label="State"]`)); got != "paused" {
		t.Errorf("after Pause the job's state reads %q, want paused", got)
	}
	if got := b.text(b.one(row, `td[data-label="Actions"]`)); got != "Run now Resume" {
		t.Errorf("after Pause the job's actions read %q, want Run now and Resume", got)
	}
	if st := s.Status(ctx); !st.Jobs[0].Ledger.Paused {
		t.Errorf("after Pause the ledger has the job not paused: %+v", st.Jobs[0].Ledger)
	}
	b.fit()
	saveScreenshot(t, b, "SOLOCRON_SCREENSHOT")

	b.click(b.one(row, "button.resume"))
	b.awaitText("#result", "Resumed “send-invoices”")
	row = b.find("", "#jobs tbody tr")[0]
	if got := b.text(b.one(row, `td[data-label="State"]`)); got != "" {
		t.Errorf("after Resume the job's state reads %q, want nothing", got)
	}

	// On a phone, the table becomes one card per job: nothing wider than
	// the screen.
	b.resize(390, 844)
	b.open(srv.URL + "/solocron/")
	var width []int
	b.script(`return [document.documentElement.scrollWidth, document.documentElement.clientWidth]`, &width)
	if len(width) != 2 || width[0] > width[1] {
		t.Errorf("on a phone the page and the window are %v px wide", width)
	}
	var layout []string
	b.script(`return [getComputedStyle(document.querySelector("#jobs thead")).display,
		getComputedStyle(document.querySelector("#jobs td"), "::before").content]`, &layout)
	if strings.Join(layout, " ") != `none "Job"` {
		t.Errorf("on a phone the table's head and first label are %q, want it hidden and the cells labelled", layout)
	}
	saveScreenshot(t, b, "SOLOCRON_SCREENSHOT_PHONE")
}

// saveScreenshot takes a screenshot and writes it to the path in the
// environment variable env, if set.
func saveScreenshot(t *testing.T, b *browser, env string) {
	t.Helper()
	png := b.screenshot()
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("the screenshot is not a PNG")
	}
	if path := os.Getenv(env); path != "" {
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
