package dashboard

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/solocron/solocron"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed page.css
	pageCSS string

	pageTemplate = template.Must(template.New("page").Parse(pageHTML))

	// The page runs no script and loads nothing; its one style sheet is
	// allowed by its hash, and it may not be framed (its buttons act).
	contentPolicy = "default-src 'none'; style-src 'sha256-" + hashOf(pageCSS) + "'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// The page's data, formatted: the template only lays it out.
type (
	pageView struct {
		CSS      template.CSS
		Now      stamp
		Zone     string
		Result   *result // the action this page answers, if any
		Elector  string
		Role     string
		PID      int
		Host     string
		Leader   leaderView
		Mismatch string
		Health   healthView
		// LedgerErr says why the cluster's view (last runs, pauses,
		// overdue jobs) is missing: the ledger could not be read.
		LedgerErr string
		Actions   bool // the request may act: the actions column is shown
		Jobs      []jobView
	}
	leaderView struct {
		None  string // why nobody is shown: nobody leads, or the elector's error
		Self  bool
		PID   int
		Host  string
		Term  uint64
		Since stamp
		App   string
	}
	healthView struct {
		Err        string
		ErrorSince stamp
		LastOK     stamp
	}
	jobView struct {
		Name, Spec string
		Next       stamp
		// The last run that finished, on any process: see lastRun.
		LastRun      stamp
		LastDuration string
		LastError    string // empty when it succeeded
		Runs         uint64 // this process's figures
		Errors       uint64
		Skips        uint64
		Running      bool
		Ahead        stamp // LedgerAhead
		Overdue      stamp // the tick not claimed in time
		Paused       bool
		Requested    stamp  // a requested run not started yet
		RunToken     string // empty when the request may not act
		ResetToken   string
		PauseAction  string // pause, or resume for a paused job
		PauseToken   string
		Leads        bool // this process leads, so reset works
	}
	// stamp is a time as shown: the zero time has no Text.
	stamp struct{ Text, Rel, ISO string }
)

// page answers with the page, res on top when it answers an action.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, res *result) {
	st := h.status(r)
	v := h.view(st, res, h.opts.Authorize != nil && h.opts.Authorize(r) == nil)
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		http.Error(w, "dashboard: rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", contentPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	code := http.StatusOK
	if res != nil {
		code = res.code
	}
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) view(st solocron.Status, res *result, act bool) pageView {
	// Health and another process's term are in real time; the jobs' ticks
	// and this process's term on the Scheduler's clock.
	now, real := h.now(), time.Now()
	v := pageView{
		CSS: template.CSS(pageCSS), Now: h.stamp(now, now), Zone: now.In(h.opts.Location).Format("MST -07:00"),
		Result: res, Elector: st.Elector, Role: st.Role.String(), PID: h.pid, Host: h.host,
		Mismatch: st.Mismatch, Actions: act,
	}
	if st.LedgerErr != nil {
		v.LedgerErr = st.LedgerErr.Error()
	}
	switch hd := st.Holder; {
	case errors.Is(st.HolderErr, solocron.ErrNoHolder):
		v.Leader.None = "nobody leads"
	case st.HolderErr != nil:
		v.Leader.None = "unknown: " + st.HolderErr.Error()
	default:
		self := st.Role == solocron.Leader
		v.Leader = leaderView{Self: self, PID: hd.PID, Host: hd.Hostname, Term: hd.Term, App: hd.App}
		if self {
			v.Leader.Since = h.stamp(hd.Since, now)
		} else {
			v.Leader.Since = h.stamp(hd.Since, real)
		}
	}
	if err := st.Health.ElectorErr; err != nil {
		v.Health.Err = err.Error()
	}
	v.Health.ErrorSince, v.Health.LastOK = h.stamp(st.Health.ErrorSince, real), h.stamp(st.Health.LastOK, real)
	for _, j := range st.Jobs {
		tick, took, failure := lastRun(j)
		jv := jobView{
			Name: j.Name, Spec: j.Spec, Next: h.stamp(j.Next, now), // from the schedule, on every process
			LastRun: h.stamp(tick, now), LastDuration: duration(took), LastError: failure,
			Runs: j.Runs, Errors: j.Errors, Skips: j.Skips, Running: j.Running, Ahead: h.stamp(j.LedgerAhead, now),
			Overdue: h.stamp(j.Overdue, now), Paused: j.Ledger.Paused, Requested: h.stamp(j.Ledger.Requested, real),
			PauseAction: actionPause, Leads: st.Role == solocron.Leader,
		}
		if jv.Paused {
			jv.PauseAction = actionResume
		}
		if act {
			jv.RunToken, jv.ResetToken = h.token(actionRun, j.Name), h.token(actionReset, j.Name)
			jv.PauseToken = h.token(jv.PauseAction, j.Name)
		}
		v.Jobs = append(v.Jobs, jv)
	}
	return v
}

// lastRun is the job's last run that finished: the cluster's, from the
// ledger, so that every process's page shows it, or this process's when
// that is newer (outcomes reach the ledger in batches, a moment after the
// run, and not at all while the ledger cannot be read). failure is the
// run's error, empty when it succeeded.
func lastRun(j solocron.JobStatus) (tick time.Time, took time.Duration, failure string) {
	l := j.Ledger
	if !j.LastTick.After(l.Finished) {
		return l.Finished, l.Duration, l.Error
	}
	if j.LastError != nil {
		failure = j.LastError.Error()
	}
	return j.LastTick, j.LastDuration, failure
}

func (h *Handler) stamp(t, now time.Time) stamp {
	if t.IsZero() {
		return stamp{}
	}
	d, rel := t.Sub(now), "now"
	switch {
	case d >= time.Second:
		rel = "in " + human(d)
	case d <= -time.Second:
		rel = human(-d) + " ago"
	}
	return stamp{Text: t.In(h.opts.Location).Format(time.DateTime), Rel: rel, ISO: t.Format(time.RFC3339Nano)}
}

// human writes a span of time to the second, in its two largest units.
func human(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return fmt.Sprintf("%dm %ds", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%dh %dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd %dh", s/86400, s%86400/3600)
}

// duration writes a run's duration with three significant digits or so.
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Microsecond:
		return d.String()
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	case d < time.Minute:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
