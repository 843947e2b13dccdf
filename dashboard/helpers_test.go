package dashboard

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// t0 is the fake clock's start in the tests: jobs on "*/5 * * * *" are
// next due at 09:00:00.
var t0 = time.Date(2026, 11, 24, 8, 57, 30, 0, time.UTC)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// start returns a started Scheduler, stopped when the test ends.
func start(t *testing.T, o solocron.Options, jobs ...solocron.Job) *solocron.Scheduler {
	t.Helper()
	o.Logger, o.App = quiet, "example.com/billing"
	s, err := solocron.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			t.Fatalf("Add(%q): %v", j.Name, err)
		}
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitRole(t *testing.T, s *solocron.Scheduler, role solocron.Role) {
	t.Helper()
	waitFor(t, "role "+role.String(), func() bool { return s.Status(context.Background()).Role == role })
}

// leaderAndStandby starts two Schedulers with the same jobs on one store
// and fake clock: the first leads.
func leaderAndStandby(t *testing.T, jobs ...solocron.Job) (leader, standby *solocron.Scheduler, clock *solocrontest.Clock) {
	t.Helper()
	store, clock := solocrontest.NewStore(), solocrontest.NewClock(t0)
	leader = start(t, solocron.Options{Elector: store.Elector(), Clock: clock}, jobs...)
	waitRole(t, leader, solocron.Leader)
	standby = start(t, solocron.Options{Elector: store.Elector(), Clock: clock}, jobs...)
	waitRole(t, standby, solocron.Standby)
	return leader, standby, clock
}

func noop(context.Context) error { return nil }

func allow(*http.Request) error { return nil }

// response is a served request's outcome.
type response struct {
	code   int
	header http.Header
	body   string
}

func serve(h http.Handler, r *http.Request) response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return response{w.Code, w.Result().Header, w.Body.String()}
}

func get(h http.Handler, path string) response {
	return serve(h, httptest.NewRequest(http.MethodGet, path, nil))
}

// post sends a form as a same-origin browser would (Origin set to the
// test request's host, example.com).
func post(h http.Handler, path string, form url.Values) response {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "http://example.com")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	return serve(h, r)
}

// form is one of the page's forms, read back from the HTML.
type form struct{ action, job, token string }

var formRE = regexp.MustCompile(`<form method="post" action="([a-z]+)"><input type="hidden" name="job" value="([^"]*)"><input type="hidden" name="token" value="([^"]*)">`)

func forms(page string) []form {
	var out []form
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		out = append(out, form{m[1], html.UnescapeString(m[2]), m[3]})
	}
	return out
}

// formFor returns the page's form for action on job, failing without it.
func formFor(t *testing.T, page, action, job string) url.Values {
	t.Helper()
	for _, f := range forms(page) {
		if f.action == action && f.job == job {
			return url.Values{"job": {f.job}, "token": {f.token}}
		}
	}
	t.Fatalf("the page has no %s form for %q; its forms: %+v", action, job, forms(page))
	return nil
}

var cellRE = regexp.MustCompile(`<span class="name">([^<]*)</span>`)

// jobNames returns the job names the page's table shows, unescaped.
func jobNames(page string) []string {
	var out []string
	for _, m := range cellRE.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func encode(form map[string][]string) string { return url.Values(form).Encode() }

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
