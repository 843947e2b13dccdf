package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

func TestStatusJSON(t *testing.T) {
	t.Parallel()
	leader, standby, _ := leaderAndStandby(t, solocron.Job{Name: "send-invoices", Spec: "*/5 * * * *", Run: noop})
	for _, c := range []struct {
		s    *solocron.Scheduler
		role string
	}{{leader, "leader"}, {standby, "standby"}} {
		res := get(New(c.s, Options{}), "/status.json")
		if res.code != http.StatusOK || res.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: GET /status.json: %d %q", c.role, res.code, res.header.Get("Content-Type"))
		}
		var got struct {
			Role   string `json:"role"`
			Holder struct {
				PID  int    `json:"pid"`
				Term uint64 `json:"term"`
				App  string `json:"app"`
			} `json:"holder"`
			Health struct {
				LastOK *time.Time `json:"last_ok"`
			} `json:"health"`
			Jobs []struct {
				Name string    `json:"name"`
				Spec string    `json:"spec"`
				Next time.Time `json:"next"`
				Runs *uint64   `json:"runs"`
			} `json:"jobs"`
		}
		if err := json.Unmarshal([]byte(res.body), &got); err != nil {
			t.Fatalf("%s: %v in %s", c.role, err, res.body)
		}
		want := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		switch {
		case got.Role != c.role:
			t.Errorf("role %q, want %q", got.Role, c.role)
		case got.Holder.PID != os.Getpid() || got.Holder.Term == 0 || got.Holder.App != "example.com/billing":
			t.Errorf("%s: holder %+v", c.role, got.Holder)
		case len(got.Jobs) != 1 || got.Jobs[0].Name != "send-invoices" || got.Jobs[0].Spec != "*/5 * * * *" ||
			!got.Jobs[0].Next.Equal(want) || got.Jobs[0].Runs == nil || *got.Jobs[0].Runs != 0:
			t.Errorf("%s: jobs %+v", c.role, got.Jobs)
		}
		// The body is the Status's own encoding.
		st, _ := json.Marshal(c.s.Status(context.Background()))
		if c.role == "leader" && strings.TrimSpace(res.body) != string(st) {
			t.Errorf("body\n%s\nis not the Status's encoding\n%s", res.body, st)
		}
	}
}

func TestPageOfTheLeader(t *testing.T) {
	t.Parallel()
	leader, _, clock := leaderAndStandby(t, solocron.Job{Name: "send-invoices", Spec: "*/5 * * * *", Run: noop})
	res := get(New(leader, Options{Clock: clock, Location: time.UTC}), "/")
	if res.code != http.StatusOK || res.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", res.code, res.header.Get("Content-Type"))
	}
	csp := res.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, want := range []string{
		fmt.Sprintf(`<dd id="leader">this process: pid %d on <b>`, os.Getpid()),
		`<code>example.com/billing</code>`,
		`<span class="badge leader">leader</span>`,
		`<span class="ok">answering</span>`,
		`<td data-label="Job"><span class="name">send-invoices</span><br><code class="spec">*/5 * * * *</code></td>`,
		`<time datetime="2026-11-24T09:00:00Z">2026-11-24 09:00:00</time> <small>in 2m 30s</small>`,
		`times in UTC &#43;00:00`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// Without Authorize, no actions.
	if strings.Contains(res.body, "<form") || strings.Contains(res.body, "<th>Actions</th>") {
		t.Errorf("the page shows actions without Options.Authorize")
	}
}

func TestPageOfAStandby(t *testing.T) {
	t.Parallel()
	_, standby, _ := leaderAndStandby(t, solocron.Job{Name: "send-invoices", Spec: "*/5 * * * *", Run: noop})
	res := get(New(standby, Options{Authorize: allow}), "/")
	if res.code != http.StatusOK {
		t.Fatalf("GET /: %d", res.code)
	}
	for _, want := range []string{
		fmt.Sprintf(`<dd id="leader">pid %d on <b>`, os.Getpid()), // another process would show its pid
		`<span class="badge standby">standby</span>`,
		`This process is not the leader: “Run now” asks the leader to run the job, pause and resume work from here`,
		`<button class="run" title="Asks the leader to run it">Run now</button>`, // RequestRun
		`<button class="pause">Pause</button>`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

func TestPageWhenNobodyLeads(t *testing.T) {
	t.Parallel()
	s, err := solocron.New(solocron.Options{Elector: solocrontest.NewStore().Elector(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	res := get(New(s, Options{}), "/")
	for _, want := range []string{`<span class="badge stopped">stopped</span>`, `<dd id="leader"><span class="err">nobody leads</span>`, `No jobs registered.`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

func TestPageOfAStandbyThatCannotReachItsElector(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	leader := start(t, solocron.Options{Elector: store.Elector()}, solocron.Job{Name: "a", Spec: "@daily", Run: noop})
	waitRole(t, leader, solocron.Leader)
	e := &flaky{Elector: store.Elector()}
	s := start(t, solocron.Options{Elector: e, CheckInterval: 10 * time.Millisecond}, solocron.Job{Name: "b", Spec: "@daily", Run: noop})
	h := New(s, Options{})
	page := get(h, "/").body
	for _, want := range []string{`<dd id="mismatch" class="err">`, `<span class="ok">answering</span> · last answer <time`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}

	e.down.Store(true)
	waitFor(t, "the elector's error in Health", func() bool { return s.Status(context.Background()).Health.ElectorErr != nil })
	page = get(h, "/").body
	for _, want := range []string{
		`<dd id="leader"><span class="err">unknown: store down</span>`,
		`<span class="err">failing since <time`,
		`: store down</span><br>last answer <time`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// flaky is an elector whose store stops answering Holder when down is set.
type flaky struct {
	solocron.Elector
	down atomic.Bool
}

func (f *flaky) Holder(ctx context.Context) (solocron.Holder, error) {
	if f.down.Load() {
		return solocron.Holder{}, errors.New("store down")
	}
	return f.Elector.Holder(ctx)
}

func TestActionsAcceptPostOnly(t *testing.T) {
	t.Parallel()
	s := start(t, solocron.Options{Elector: solocrontest.NewStore().Elector()}, solocron.Job{Name: "a", Spec: "@daily", Run: noop})
	h := New(s, Options{Authorize: allow})
	for _, path := range []string{"/run", "/reset", "/pause", "/resume", "/run?job=a"} {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut} {
			res := serve(h, httptest.NewRequest(m, path, nil))
			if res.code != http.StatusMethodNotAllowed || res.header.Get("Allow") != "POST" {
				t.Errorf("%s %s: %d, Allow %q; want 405, Allow POST", m, path, res.code, res.header.Get("Allow"))
			}
		}
	}
	for _, path := range []string{"/", "/status.json"} {
		res := post(h, path, nil)
		if res.code != http.StatusMethodNotAllowed || res.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: %d, Allow %q; want 405", path, res.code, res.header.Get("Allow"))
		}
	}
	if res := get(h, "/nope"); res.code != http.StatusNotFound {
		t.Errorf("GET /nope: %d, want 404", res.code)
	}
	if s.Status(context.Background()).Jobs[0].Runs != 0 {
		t.Errorf("a refused request ran the job")
	}
}

func TestActionsAreOffWithoutAuthorisation(t *testing.T) {
	t.Parallel()
	s := start(t, solocron.Options{Elector: solocrontest.NewStore().Elector()}, solocron.Job{Name: "a", Spec: "@daily", Run: noop})
	waitRole(t, s, solocron.Leader)
	on := New(s, Options{Authorize: allow})
	valid := formFor(t, get(on, "/").body, actionRun, "a")

	off := New(s, Options{})
	off.secret = on.secret // even with a valid token
	if res := post(off, "/run", valid); res.code != http.StatusForbidden || !strings.Contains(res.body, "actions are off") {
		t.Errorf("POST /run without Authorize: %d %q, want 403", res.code, res.body)
	}

	denied := New(s, Options{Authorize: func(r *http.Request) error {
		if r.Header.Get("X-Admin") != "yes" {
			return errors.New("admins only")
		}
		return nil
	}})
	denied.secret = on.secret
	if res := post(denied, "/run", valid); res.code != http.StatusForbidden || !strings.Contains(res.body, "not authorised: admins only") {
		t.Errorf("POST /run refused by Authorize: %d %q, want 403", res.code, res.body)
	}
	if page := get(denied, "/").body; len(forms(page)) != 0 || strings.Contains(page, "Actions") {
		t.Errorf("the page shows actions (and their tokens) to a request Authorize refuses")
	}
	if s.Status(context.Background()).Jobs[0].Runs != 0 {
		t.Errorf("a refused request ran the job")
	}
}

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	t.Parallel()
	s := start(t, solocron.Options{Elector: solocrontest.NewStore().Elector()},
		solocron.Job{Name: "a", Spec: "@daily", Run: noop}, solocron.Job{Name: "b", Spec: "@daily", Run: noop})
	waitRole(t, s, solocron.Leader)
	h := New(s, Options{Authorize: allow})
	page := get(h, "/").body
	runA, runB := formFor(t, page, actionRun, "a"), formFor(t, page, actionRun, "b")
	other := New(s, Options{Authorize: allow}) // another process, or this one restarted

	request := func(form map[string][]string, headers ...string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/run", strings.NewReader(encode(form)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		return r
	}
	refused := []struct {
		name string
		r    *http.Request
		h    *Handler
	}{
		{"no token", request(map[string][]string{"job": {"a"}}), h},
		{"an empty token", request(map[string][]string{"job": {"a"}, "token": {""}}), h},
		{"another job's token", request(map[string][]string{"job": {"a"}, "token": runB["token"]}), h},
		{"another action's token", request(map[string][]string{"job": {"a"}, "token": {h.token(actionReset, "a")}}), h},
		{"the token of another process", request(runA), other},
		{"a token one character off", request(map[string][]string{"job": {"a"}, "token": {flip(runA.Get("token"))}}), h},
		{"the token in the query only", httptest.NewRequest(http.MethodPost, "/run?"+encode(runA), nil), h},
		{"Origin of another host", request(runA, "Origin", "http://evil.example"), h},
		{"Origin of another port", request(runA, "Origin", "http://example.com:8080"), h},
		{"Origin null", request(runA, "Origin", "null"), h},
		{"Referer of another host", request(runA, "Referer", "http://evil.example/page"), h},
		{"Sec-Fetch-Site cross-site", request(runA, "Sec-Fetch-Site", "cross-site"), h},
		{"Sec-Fetch-Site same-site", request(runA, "Sec-Fetch-Site", "same-site", "Origin", "http://example.com"), h},
	}
	for _, c := range refused {
		if res := serve(c.h, c.r); res.code != http.StatusForbidden {
			t.Errorf("%s: %d %q, want 403", c.name, res.code, res.body)
		}
	}
	if n := s.Status(context.Background()).Jobs[0].Runs; n != 0 {
		t.Fatalf("refused requests ran the job %d times", n)
	}

	accepted := []struct {
		name string
		r    *http.Request
	}{
		{"same origin", request(runA, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")},
		{"a same-host Referer", request(runA, "Referer", "http://EXAMPLE.com/solocron/")},
		{"no origin at all (curl)", request(runA)},
	}
	for i, c := range accepted {
		if res := serve(h, c.r); res.code != http.StatusOK || !strings.Contains(res.body, "finished without error") {
			t.Errorf("%s: %d, want 200 and the run's result", c.name, res.code)
		}
		if n := s.Status(context.Background()).Jobs[0].Runs; n != uint64(i+1) {
			t.Errorf("%s: %d runs, want %d", c.name, n, i+1)
		}
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestRunNowFromThePage(t *testing.T) {
	t.Parallel()
	runs := make(chan solocron.Run, 1)
	job := solocron.Job{Name: "send-invoices", Spec: "*/5 * * * *", Run: func(ctx context.Context) error {
		r, _ := solocron.RunFrom(ctx)
		runs <- r
		return nil
	}}
	leader, standby, clock := leaderAndStandby(t, job)
	h := New(leader, Options{Authorize: allow, Clock: clock})
	res := post(h, "/run", formFor(t, get(h, "/").body, actionRun, "send-invoices"))
	if res.code != http.StatusOK {
		t.Fatalf("POST /run: %d %s", res.code, res.body)
	}
	if r := <-runs; !r.Manual || !r.Tick.Equal(t0) {
		t.Errorf("the run: %+v, want a manual run at %v", r, t0)
	}
	for _, want := range []string{
		`<p class="msg ok" id="result" role="status">Ran “send-invoices” now: it finished without error.</p>`,
		`<td class="n" data-label="Runs">1</td>`,
		`<time datetime="2026-11-24T08:57:30Z">2026-11-24 08:57:30</time> <small>now</small>`, // last tick
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the answer lacks %s", want)
		}
	}

	// On a standby, "run now" asks the leader through the ledger
	// (RequestRun), and answers at once.
	sh := New(standby, Options{Authorize: allow})
	res = post(sh, "/run", formFor(t, get(sh, "/").body, actionRun, "send-invoices"))
	if res.code != http.StatusAccepted || !strings.Contains(res.body,
		`<p class="msg ok" id="result" role="status">Requested a run of “send-invoices”: the leader starts it within a second`) {
		t.Errorf("POST /run on a standby: %d, want 202 and the request on top:\n%s", res.code, res.body)
	}
	select {
	case r := <-runs:
		if !r.Requested || !r.Manual {
			t.Errorf("the leader's run after a run now on a standby: %+v, want a requested run", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the leader did not run the job within 5s of a run now on a standby")
	}
	if n := standby.Status(context.Background()).Jobs[0].Runs; n != 0 {
		t.Errorf("the standby ran the job %d times itself", n)
	}
}

func TestRunNowReportsTheRunsError(t *testing.T) {
	t.Parallel()
	s := start(t, solocron.Options{Elector: solocrontest.NewStore().Elector()}, solocron.Job{Name: "a", Spec: "@daily", Run: func(context.Context) error {
		return errors.New("smtp: 451 try again later")
	}})
	waitRole(t, s, solocron.Leader)
	h := New(s, Options{Authorize: allow})
	res := post(h, "/run", formFor(t, get(h, "/").body, actionRun, "a"))
	if res.code != http.StatusOK || !strings.Contains(res.body, "Ran “a” now: it failed: smtp: 451 try again later") ||
		!strings.Contains(res.body, `<span class="err">smtp: 451 try again later</span>`) {
		t.Errorf("POST /run of a failing job: %d\n%s", res.code, res.body)
	}
}

func TestRunNowOfALongRunAnswersThatItGoesOn(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := start(t, solocron.Options{Elector: solocrontest.NewStore().Elector()}, solocron.Job{Name: "a", Spec: "@daily", Run: func(ctx context.Context) error {
		<-release
		return nil
	}})
	defer close(release)
	waitRole(t, s, solocron.Leader)
	h := New(s, Options{Authorize: allow, RunWait: 50 * time.Millisecond})
	form := formFor(t, get(h, "/").body, actionRun, "a")
	res := post(h, "/run", form)
	if res.code != http.StatusAccepted || !strings.Contains(res.body, "“a” did not finish within 50ms") ||
		!strings.Contains(res.body, `<span class="badge running">running</span>`) {
		t.Errorf("POST /run of a long run: %d\n%s", res.code, res.body)
	}
	if res := post(h, "/run", form); res.code != http.StatusConflict || !strings.Contains(res.body, "Not run: solocron: job is running") {
		t.Errorf("POST /run while it runs: %d\n%s", res.code, res.body)
	}
}

func TestUnknownJob(t *testing.T) {
	t.Parallel()
	s := start(t, solocron.Options{Elector: solocrontest.NewStore().Elector()}, solocron.Job{Name: "a", Spec: "@daily", Run: noop})
	waitRole(t, s, solocron.Leader)
	h := New(s, Options{Authorize: allow})
	// A valid token for a job this process does not have (removed since
	// the page was served, or registered by another version).
	res := post(h, "/run", map[string][]string{"job": {"gone"}, "token": {h.token(actionRun, "gone")}})
	if res.code != http.StatusNotFound || !strings.Contains(res.body, `Not run: solocron: unknown job: &#34;gone&#34;`) {
		t.Errorf("POST /run of an unknown job: %d\n%s", res.code, res.body)
	}
	for _, c := range []struct{ action, want string }{{actionPause, "Not paused"}, {actionResume, "Not resumed"}} {
		res := post(h, "/"+c.action, map[string][]string{"job": {"gone"}, "token": {h.token(c.action, "gone")}})
		if res.code != http.StatusNotFound || !strings.Contains(res.body, c.want+`: solocron: unknown job: &#34;gone&#34;`) {
			t.Errorf("POST /%s of an unknown job: %d\n%s", c.action, res.code, res.body)
		}
	}
}

func TestResetAFarAheadRecord(t *testing.T) {
	t.Parallel()
	store, clock := solocrontest.NewStore(), solocrontest.NewClock(t0)
	ahead := t0.Add(365 * 24 * time.Hour)
	store.SetRecord("rebuild-index", solocron.Record{Claimed: ahead, Completed: ahead})
	s := start(t, solocron.Options{Elector: store.Elector(), Clock: clock}, solocron.Job{Name: "rebuild-index", Spec: "*/5 * * * *", Run: noop},
		solocron.Job{Name: "healthy", Spec: "*/5 * * * *", Run: noop})
	waitFor(t, "the far-ahead record in Status", func() bool {
		return !s.Status(context.Background()).Jobs[0].LedgerAhead.IsZero()
	})
	h := New(s, Options{Authorize: allow, Clock: clock, Location: time.UTC})
	page := get(h, "/").body
	if !strings.Contains(page, `<span class="badge ahead" title="The ledger holds a claim far ahead of now, so it refuses every tick up to it; reset repairs it.">ledger ahead</span><br><small class="wrap">claimed to <time datetime="2027-11-24T08:57:30Z">2027-11-24 08:57:30</time></small>`) {
		t.Errorf("the page has no ledger-ahead badge:\n%s", page)
	}
	var resets []string
	for _, f := range forms(page) {
		if f.action == actionReset {
			resets = append(resets, f.job)
		}
	}
	if len(resets) != 1 || resets[0] != "rebuild-index" {
		t.Errorf("reset forms for %q, want only rebuild-index's", resets)
	}

	res := post(h, "/reset", formFor(t, page, actionReset, "rebuild-index"))
	if res.code != http.StatusOK || !strings.Contains(res.body, "Reset the ledger record of “rebuild-index” to now") ||
		strings.Contains(res.body, "ledger ahead") {
		t.Errorf("POST /reset: %d\n%s", res.code, res.body)
	}
	if rec, _ := store.Record("rebuild-index"); !rec.Claimed.Equal(t0) {
		t.Errorf("the record after the reset: %+v, want claimed at %v", rec, t0)
	}
	// A reset of a record not ahead is refused by the Scheduler.
	res = post(h, "/reset", map[string][]string{"job": {"healthy"}, "token": {h.token(actionReset, "healthy")}})
	if res.code != http.StatusConflict || !strings.Contains(res.body, "Not reset: solocron: the job&#39;s ledger record is not ahead of now") {
		t.Errorf("POST /reset of a healthy record: %d\n%s", res.code, res.body)
	}
}

// Job names are printable UTF-8 and may hold HTML; error texts may too.
func TestEverythingIsEscaped(t *testing.T) {
	t.Parallel()
	name := `<script>alert("x")</script> & 'quotes' <i>`
	s := start(t, solocron.Options{Elector: solocrontest.NewStore().Elector()}, solocron.Job{Name: name, Spec: "@daily", Run: func(context.Context) error {
		return errors.New(`<img src=x onerror="alert(1)">`)
	}})
	waitRole(t, s, solocron.Leader)
	h := New(s, Options{Authorize: allow})
	page := get(h, "/").body
	if names := jobNames(page); len(names) != 1 || names[0] != name {
		t.Errorf("the table shows %q, want %q", names, name)
	}
	res := post(h, "/run", formFor(t, page, actionRun, name)) // the hidden field carries the name back intact
	if res.code != http.StatusOK {
		t.Fatalf("POST /run: %d\n%s", res.code, res.body)
	}
	for _, raw := range []string{"<script>", "<i>", "<img", `"x"`, "'quotes'"} {
		if strings.Contains(page, raw) || strings.Contains(res.body, raw) {
			t.Errorf("the page holds %s unescaped", raw)
		}
	}
	if !strings.Contains(res.body, `&lt;img src=x onerror=&#34;alert(1)&#34;&gt;`) {
		t.Errorf("the run's error is not shown escaped:\n%s", res.body)
	}
	var st struct{ Jobs []struct{ Name string } }
	body := get(h, "/status.json").body
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Jobs[0].Name != name {
		t.Errorf("status.json: %v, jobs %+v", err, st.Jobs)
	}
	if strings.Contains(body, "<") {
		t.Errorf("status.json holds a raw '<': %s", body)
	}
}

func TestMountedUnderAPrefix(t *testing.T) {
	t.Parallel()
	s := start(t, solocron.Options{Elector: solocrontest.NewStore().Elector()}, solocron.Job{Name: "a", Spec: "@daily", Run: noop})
	waitRole(t, s, solocron.Leader)
	h := New(s, Options{Authorize: allow})
	mux := http.NewServeMux()
	mux.Handle("/solocron/", http.StripPrefix("/solocron", h))
	mux.Handle("/ops/cron/", http.StripPrefix("/ops/cron/", h)) // the prefix with its slash
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "the app", http.StatusTeapot) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := srv.Client()

	for _, base := range []string{"/solocron/", "/ops/cron/"} {
		resp, err := client.Get(srv.URL + base)
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<a href="status.json">`) {
			t.Fatalf("GET %s: %d", base, resp.StatusCode)
		}
		// The page's links and forms are relative to it.
		resp, err = client.Get(srv.URL + base + "status.json")
		if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %sstatus.json: %v %v", base, err, resp)
		}
		readAll(t, resp)
		f := formFor(t, page, actionRun, "a")
		req, _ := http.NewRequest(http.MethodPost, srv.URL+base+"run", strings.NewReader(encode(f)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL)
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "finished without error") {
			t.Errorf("POST %srun: %d\n%s", base, resp.StatusCode, body)
		}
		resp, err = client.Get(srv.URL + base + "nope")
		if err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %snope: %v %v, want 404", base, err, resp)
		}
		readAll(t, resp)
	}
	// Without the trailing slash, the mux redirects to the page.
	resp, err := client.Get(srv.URL + "/solocron")
	if err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/solocron/" {
		t.Errorf("GET /solocron: %v %v", err, resp)
	}
	readAll(t, resp)
}

func TestNilScheduler(t *testing.T) {
	t.Parallel()
	if res := get(New(nil, Options{}), "/"); res.code != http.StatusInternalServerError || !strings.Contains(res.body, "nil Scheduler") {
		t.Errorf("GET / of a nil Scheduler's dashboard: %d %q", res.code, res.body)
	}
}
