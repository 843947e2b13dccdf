// Package dashboard serves a Scheduler's status to people and monitoring:
// a small HTML page (leader, this process's role and health, a table of
// the jobs) and the same status as JSON. The page needs no external asset
// and no JavaScript, and reads on a phone as on a desktop.
//
// The table shows the cluster's view, read from the ledger and the same
// on every process, so a standby's page tells as much as the leader's:
// each job's last run on any process (its tick, duration, and "ok" or
// its error), whether it is overdue (its tick not claimed in time, with
// that tick), paused, or has a requested run pending; a banner says so
// when the ledger cannot be read. The run counters are this process's.
//
// The handler serves, relative to where it is mounted:
//
//	GET  /             the page
//	GET  /status.json  Scheduler.Status as JSON (see solocron.Status.MarshalJSON)
//	POST /run          "run now": Scheduler.RunNow on the leader, Scheduler.RequestRun
//	                   elsewhere; form fields job, token (as for every action)
//	POST /pause        pause the job across the cluster (Scheduler.Pause)
//	POST /resume       resume it (Scheduler.Resume)
//	POST /reset        repair a far-ahead ledger record (Scheduler.ResetJob)
//
// An action answers with the page, its result on top: 200 when it was
// done (a run that failed included), 202 when a run goes on past
// Options.RunWait or was requested of the leader (the answer does not
// wait for it), 409 when the job is running, its record is not ahead, or
// a reset is asked of a process that does not lead (reset works on the
// leader only; run now, pause and resume on every process), and 404 for
// a job this process does not have.
//
// The status names hosts, process ids and error texts: mount the handler
// behind the application's authentication. The actions are off unless
// Options.Authorize is set; see Options.Authorize for how they are
// protected against cross-site requests.
package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/solocron/solocron"
)

// Options configure a Handler. The zero value serves the page and the
// JSON, with the actions off, in real time and time.Local.
type Options struct {
	// Authorize turns the actions on: the page shows the "run now",
	// "pause" or "resume", and "reset" buttons to the requests it returns
	// nil for, and the action endpoints accept the POSTs it returns nil
	// for (403 otherwise, with the error's text). nil means the actions
	// are off.
	//
	// An accepted POST must also pass two checks against cross-site
	// request forgery. It must carry its form's token: an HMAC of the
	// action and the job under a secret drawn at random by New, compared
	// in constant time; so a token is good for one action on one job in
	// this process until it exits (a page served by another process, or
	// before a restart, must be reloaded). And when the browser says
	// where the request comes from, that must be this host:
	// Sec-Fetch-Site must be same-origin (or none), and the host in Origin (or,
	// without it, in Referer) must be the request's Host, so a reverse
	// proxy in front must pass Host on unchanged. A client that sends
	// none of them (curl) passes on the token alone.
	Authorize func(r *http.Request) error

	// Clock is the Scheduler's Options.Clock, from which the page tells
	// how far away the jobs' ticks are; nil means real time. (Health and
	// another process's term are told from real time.)
	Clock solocron.Clock

	// Location is the time zone the page shows times in; nil means
	// time.Local.
	Location *time.Location

	// RunWait is how long a "run now" request waits for the run to end
	// before answering that it goes on; 0 means 10s.
	RunWait time.Duration
}

const (
	defaultRunWait = 10 * time.Second
	// statusTimeout bounds Status, which asks the elector who leads on a
	// standby: a page should answer even when the elector does not.
	statusTimeout = 5 * time.Second
	maxFormBytes  = 64 << 10
)

// Handler is the dashboard of one Scheduler, an http.Handler.
type Handler struct {
	s      *solocron.Scheduler
	opts   Options
	now    func() time.Time
	secret []byte // keys the forms' tokens
	pid    int
	host   string
}

// New returns the dashboard of s. Mount it under a prefix with
// http.StripPrefix, for example:
//
//	mux.Handle("/solocron/", http.StripPrefix("/solocron", dashboard.New(s, dashboard.Options{})))
func New(s *solocron.Scheduler, o Options) *Handler {
	now := time.Now
	if o.Clock != nil {
		now = o.Clock.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.RunWait <= 0 {
		o.RunWait = defaultRunWait
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails: it crashes the program instead
	host, _ := os.Hostname()
	return &Handler{s: s, opts: o, now: now, secret: secret, pid: os.Getpid(), host: host}
}

// ServeHTTP routes the request; see the package documentation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.s == nil {
		http.Error(w, "dashboard: New was given a nil Scheduler", http.StatusInternalServerError)
		return
	}
	// The path is relative to the mount point, with or without its
	// leading slash (http.StripPrefix("/solocron") or "/solocron/").
	switch path := strings.TrimPrefix(r.URL.Path, "/"); path {
	case "", "status.json":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "dashboard: "+r.Method+" is not allowed here; use GET", http.StatusMethodNotAllowed)
			return
		}
		if path == "" {
			h.page(w, r, nil)
		} else {
			h.json(w, r)
		}
	case actionRun, actionReset, actionPause, actionResume:
		h.act(w, r, path)
	default:
		http.NotFound(w, r)
	}
}

func (h *Handler) status(r *http.Request) solocron.Status {
	ctx, cancel := context.WithTimeout(r.Context(), statusTimeout)
	defer cancel()
	return h.s.Status(ctx)
}

func (h *Handler) json(w http.ResponseWriter, r *http.Request) {
	body, err := json.Marshal(h.status(r))
	if err != nil {
		http.Error(w, "dashboard: encoding the status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(body, '\n'))
}
