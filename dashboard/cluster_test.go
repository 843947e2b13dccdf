package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// The cluster's view (the ledger, the same on every process) and the
// actions any process may take: pause, resume, and run now on a standby.

// hungLeader holds the store's lease without running anything, as a
// SIGSTOPped leader would: the test's Schedulers stay standbys, and no
// tick is claimed.
func hungLeader(t *testing.T, store *solocrontest.Store) {
	t.Helper()
	l, err := store.Elector().Campaign(context.Background(), solocron.Candidate{PID: 1, Hostname: "hung"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Release(context.Background()) })
}

func TestAnOverdueJobUnderAHungLeader(t *testing.T) {
	t.Parallel()
	store, clock := solocrontest.NewStore(), solocrontest.NewClock(t0)
	hungLeader(t, store)
	last := time.Date(2026, 11, 24, 8, 55, 0, 0, time.UTC) // the hung leader's last claim
	store.SetRecord("send-invoices", solocron.Record{Claimed: last, Completed: last, Finished: last, Duration: 42 * time.Millisecond,
		Next: last.Add(5 * time.Minute)})
	s := start(t, solocron.Options{Elector: store.Elector(), Clock: clock, OverdueGrace: time.Minute},
		solocron.Job{Name: "send-invoices", Spec: "*/5 * * * *", Run: noop}, solocron.Job{Name: "rebuild-index", Spec: "@daily", Run: noop})
	waitRole(t, s, solocron.Standby)
	h := New(s, Options{Authorize: allow, Clock: clock, Location: time.UTC})
	if page := get(h, "/").body; strings.Contains(page, `class="badge overdue"`) {
		t.Fatalf("a job is overdue before its tick fell due:\n%s", page)
	}

	clock.Set(time.Date(2026, 11, 24, 9, 1, 30, 0, time.UTC)) // 09:00 unclaimed for 90s, more than the grace
	page := get(h, "/").body
	for _, want := range []string{
		`<span class="badge overdue" title="This tick was not claimed in time: check that a process leads and is not hung, and that the ledger accepts the job's claims.">overdue</span>` +
			`<br><small class="wrap">due <time datetime="2026-11-24T09:00:00Z">2026-11-24 09:00:00</time> 1m 30s ago</small>`,
		// The hung leader's last run, though this process ran nothing.
		`<td data-label="Last run"><time datetime="2026-11-24T08:55:00Z">2026-11-24 08:55:00</time> <small>6m 30s ago</small></td>`,
		`<td data-label="Duration">42ms</td>`,
		`<td data-label="Outcome"><span class="ok">ok</span></td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := strings.Count(page, `class="badge overdue"`); n != 1 {
		t.Errorf("%d overdue badges, want 1 (the daily job is on time)", n)
	}

	// Run now on a standby requests a run, which waits for a leader.
	res := post(h, "/run", formFor(t, page, actionRun, "send-invoices"))
	if res.code != http.StatusAccepted || !strings.Contains(res.body, `<span class="badge requested" title="A run was requested; the leader starts it within a second.">run requested</span>`) {
		t.Errorf("POST /run under a hung leader: %d, want 202 and the request pending:\n%s", res.code, res.body)
	}
	if n := strings.Count(res.body, `class="badge requested"`); n != 1 {
		t.Errorf("%d requested badges, want 1", n)
	}

	// A paused job is not overdue: nobody should run it.
	res = post(h, "/pause", formFor(t, res.body, actionPause, "send-invoices"))
	if res.code != http.StatusOK || strings.Contains(res.body, `class="badge overdue"`) ||
		!strings.Contains(res.body, `<span class="badge paused" title="Paused across the cluster: the leader skips its ticks until it is resumed.">paused</span>`) {
		t.Errorf("POST /pause of the overdue job: %d, want it paused and not overdue:\n%s", res.code, res.body)
	}
}

func TestAStandbyShowsTheClustersLastRuns(t *testing.T) {
	t.Parallel()
	leader, standby, clock := leaderAndStandby(t,
		solocron.Job{Name: "ok", Spec: "*/5 * * * *", Run: noop},
		solocron.Job{Name: "fails", Spec: "*/5 * * * *", Run: func(context.Context) error {
			return errors.New("smtp: 451 try again later\nat line 2")
		}})
	h := New(standby, Options{Clock: clock, Location: time.UTC})
	if page := get(h, "/").body; strings.Count(page, `<td data-label="Outcome"><span class="mute">–</span></td>`) != 2 {
		t.Fatalf("outcomes before any run:\n%s", page)
	}
	for _, job := range []string{"ok", "fails"} {
		_ = leader.RunNow(context.Background(), job)
	}
	waitFor(t, "the outcomes in the ledger", func() bool {
		st := standby.Status(context.Background())
		return !st.Jobs[0].Ledger.Finished.IsZero() && !st.Jobs[1].Ledger.Finished.IsZero()
	})
	page := get(h, "/").body
	for _, want := range []string{
		`<td data-label="Last run"><time datetime="2026-11-24T08:57:30Z">2026-11-24 08:57:30</time> <small>now</small></td>`,
		`<td data-label="Outcome"><span class="ok">ok</span></td>`,
		// The ledger keeps an error's first line.
		`<td data-label="Outcome"><span class="err">smtp: 451 try again later</span></td>`,
		`<td class="n" data-label="Runs">0</td>`, // the leader's runs are not counted here
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the standby's page lacks %s", want)
		}
	}
	if strings.Contains(page, `<td data-label="Duration">–</td>`) || strings.Contains(page, `<td class="n" data-label="Runs">1</td>`) {
		t.Errorf("the standby's page lacks a duration, or counts a run of the leader as its own:\n%s", page)
	}
}

func TestTheLedgersErrorIsABanner(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	s, err := solocron.New(solocron.Options{Elector: store.Elector(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h := New(s, Options{})
	store.FailLedger(errors.New("relation solocron_ledger does not exist"))
	page := get(h, "/").body
	if want := `<p class="msg error" id="ledger-error" role="alert">The ledger cannot be read, so the cluster's view is missing below`; !strings.Contains(page, want) ||
		!strings.Contains(page, "relation solocron_ledger does not exist</p>") {
		t.Errorf("the page lacks the ledger's error:\n%s", page)
	}
	store.FailLedger(nil)
	if page := get(h, "/").body; strings.Contains(page, `id="ledger-error"`) {
		t.Errorf("the banner stays once the ledger answers")
	}
}

func TestPauseAndResumeFromThePage(t *testing.T) {
	t.Parallel()
	leader, standby, clock := leaderAndStandby(t,
		solocron.Job{Name: "a", Spec: "*/5 * * * *", Run: noop}, solocron.Job{Name: "b", Spec: "*/5 * * * *", Run: noop})
	paused := func(s *solocron.Scheduler) []bool {
		var out []bool
		for _, j := range s.Status(context.Background()).Jobs {
			out = append(out, j.Ledger.Paused)
		}
		return out
	}
	actionsOf := func(page, job string) []string {
		var out []string
		for _, f := range forms(page) {
			if f.job == job {
				out = append(out, f.action)
			}
		}
		return out
	}

	// Paused from a standby's page: the flag is in the ledger, so the
	// leader sees it.
	sh := New(standby, Options{Authorize: allow, Clock: clock})
	page := get(sh, "/").body
	if got := strings.Join(actionsOf(page, "a"), " "); got != "run pause" {
		t.Fatalf("a job not paused has the forms %q, want run and pause", got)
	}
	res := post(sh, "/pause", formFor(t, page, actionPause, "a"))
	if res.code != http.StatusOK || !strings.Contains(res.body, `<p class="msg ok" id="result" role="status">Paused “a”: the leader skips its ticks`) ||
		strings.Count(res.body, `class="badge paused"`) != 1 || !strings.Contains(res.body, `<button class="resume">Resume</button>`) {
		t.Fatalf("POST /pause: %d\n%s", res.code, res.body)
	}
	if got := paused(leader); !got[0] || got[1] {
		t.Fatalf("the leader's view after the pause: paused %v, want [true false]", got)
	}

	// Resumed from the leader's page, which shows Resume for it.
	lh := New(leader, Options{Authorize: allow, Clock: clock})
	page = get(lh, "/").body
	if got := strings.Join(actionsOf(page, "a"), " "); got != "run resume" {
		t.Fatalf("a paused job has the forms %q, want run and resume", got)
	}
	res = post(lh, "/resume", formFor(t, page, actionResume, "a"))
	if res.code != http.StatusOK || !strings.Contains(res.body, "Resumed “a”: its ticks run again") ||
		strings.Contains(res.body, `class="badge paused"`) {
		t.Fatalf("POST /resume: %d\n%s", res.code, res.body)
	}
	if got := paused(standby); got[0] || got[1] {
		t.Fatalf("the standby's view after the resume: paused %v, want none", got)
	}
}

func TestPauseAndResumeNeedAuthorisationAndAToken(t *testing.T) {
	t.Parallel()
	s := start(t, solocron.Options{Elector: solocrontest.NewStore().Elector()},
		solocron.Job{Name: "a", Spec: "@daily", Run: noop}, solocron.Job{Name: "b", Spec: "@daily", Run: noop})
	waitRole(t, s, solocron.Leader)
	h := New(s, Options{Authorize: allow})
	page := get(h, "/").body
	pauseA := formFor(t, page, actionPause, "a")
	isPaused := func() bool { return s.Status(context.Background()).Jobs[0].Ledger.Paused }

	off := New(s, Options{})
	off.secret = h.secret
	denied := New(s, Options{Authorize: func(*http.Request) error { return errors.New("admins only") }})
	denied.secret = h.secret
	for _, c := range []struct {
		name, want string
		h          *Handler
	}{{"without Authorize", "actions are off", off}, {"refused by Authorize", "not authorised: admins only", denied}} {
		if res := post(c.h, "/pause", pauseA); res.code != http.StatusForbidden || !strings.Contains(res.body, c.want) {
			t.Errorf("POST /pause %s: %d %q, want 403", c.name, res.code, res.body)
		}
	}
	if strings.Contains(get(denied, "/").body, "<form") {
		t.Errorf("the page shows forms to a request Authorize refuses")
	}

	request := func(path string, form map[string][]string, headers ...string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(encode(form)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		return r
	}
	for _, c := range []struct {
		name string
		r    *http.Request
	}{
		{"no token", request("/pause", map[string][]string{"job": {"a"}})},
		{"another job's token", request("/pause", map[string][]string{"job": {"a"}, "token": {h.token(actionPause, "b")}})},
		{"run's token", request("/pause", map[string][]string{"job": {"a"}, "token": {h.token(actionRun, "a")}})},
		{"resume's token", request("/pause", map[string][]string{"job": {"a"}, "token": {h.token(actionResume, "a")}})},
		{"a token one character off", request("/pause", map[string][]string{"job": {"a"}, "token": {flip(pauseA.Get("token"))}})},
		{"Origin of another host", request("/pause", pauseA, "Origin", "http://evil.example")},
		{"Sec-Fetch-Site cross-site", request("/pause", pauseA, "Sec-Fetch-Site", "cross-site")},
	} {
		if res := serve(h, c.r); res.code != http.StatusForbidden {
			t.Errorf("POST /pause with %s: %d %q, want 403", c.name, res.code, res.body)
		}
	}
	if res := get(h, "/pause?"+encode(pauseA)); res.code != http.StatusMethodNotAllowed {
		t.Errorf("GET /pause: %d, want 405", res.code)
	}
	if isPaused() {
		t.Fatal("a refused request paused the job")
	}

	if res := post(h, "/pause", pauseA); res.code != http.StatusOK || !isPaused() {
		t.Fatalf("POST /pause with its form: %d, paused %v", res.code, isPaused())
	}
	// Resume takes its own token, not pause's.
	if res := serve(h, request("/resume", pauseA)); res.code != http.StatusForbidden || !isPaused() {
		t.Errorf("POST /resume with pause's token: %d, paused %v; want 403 and still paused", res.code, isPaused())
	}
	if res := post(h, "/resume", formFor(t, get(h, "/").body, actionResume, "a")); res.code != http.StatusOK || isPaused() {
		t.Errorf("POST /resume with its form: %d, paused %v", res.code, isPaused())
	}
}
