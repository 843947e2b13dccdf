package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/solocron/solocron"
)

const (
	actionRun    = "run"
	actionReset  = "reset"
	actionPause  = "pause"
	actionResume = "resume"
)

// result is what an action did, shown above the page that answers it.
type result struct {
	Class string // ok, error or pending
	Text  string
	code  int
}

// act serves a POST of one of the page's forms: it checks the method,
// the authorisation, the request's origin and the form's token, then
// runs the action and answers with the page, the action's result on top.
func (h *Handler) act(w http.ResponseWriter, r *http.Request, action string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "dashboard: "+action+" accepts POST only", http.StatusMethodNotAllowed)
		return
	}
	if h.opts.Authorize == nil {
		http.Error(w, "dashboard: actions are off (Options.Authorize is not set)", http.StatusForbidden)
		return
	}
	if err := h.opts.Authorize(r); err != nil {
		http.Error(w, "dashboard: not authorised: "+err.Error(), http.StatusForbidden)
		return
	}
	if err := checkSameOrigin(r); err != nil {
		http.Error(w, "dashboard: "+err.Error(), http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "dashboard: reading the form: "+err.Error(), http.StatusBadRequest)
		return
	}
	job := r.PostFormValue("job")
	if err := h.checkToken(action, job, r.PostFormValue("token")); err != nil {
		http.Error(w, "dashboard: "+err.Error(), http.StatusForbidden)
		return
	}
	var res result
	switch action {
	case actionRun:
		res = h.runNow(r, job)
	case actionReset:
		res = h.reset(r, job)
	default:
		res = h.setPaused(r, job, action == actionPause)
	}
	h.page(w, r, &res)
}

// runNow runs the job here when this process leads, and otherwise asks
// the leader for a run through the ledger (RequestRun), so that "run now"
// works from every process's page.
func (h *Handler) runNow(r *http.Request, job string) result {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.RunWait)
	defer cancel()
	err := h.s.RunNow(ctx, job)
	switch {
	case errors.Is(err, solocron.ErrNotLeader): // before any run: the term had ended, or never began
		return h.requestRun(r, job)
	case err == nil:
		return result{"ok", fmt.Sprintf("Ran “%s” now: it finished without error.", job), http.StatusOK}
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		return result{"pending", fmt.Sprintf("“%s” did not finish within %v; it may still be running: reload to see.", job, h.opts.RunWait), http.StatusAccepted}
	case errors.Is(err, solocron.ErrUnknownJob) || errors.Is(err, solocron.ErrJobRunning):
		return refused("Not run", err)
	}
	// The run's own error, most likely (or the ledger's).
	return result{"error", fmt.Sprintf("Ran “%s” now: it failed: %v", job, err), http.StatusOK}
}

func (h *Handler) requestRun(r *http.Request, job string) result {
	err := h.s.RequestRun(r.Context(), job)
	switch {
	case err == nil:
		return result{"ok", fmt.Sprintf("Requested a run of “%s”: the leader starts it within a second "+
			"(this process is not the leader); reload to see its outcome.", job), http.StatusAccepted}
	case errors.Is(err, solocron.ErrUnknownJob):
		return refused("Not run", err)
	}
	return result{"error", fmt.Sprintf("Requesting a run of “%s” failed: %v", job, err), http.StatusInternalServerError}
}

// setPaused pauses or resumes the job across the cluster: it works on
// every process, the flag living in the ledger.
func (h *Handler) setPaused(r *http.Request, job string, pause bool) result {
	set, not := h.s.Resume, "Not resumed"
	done := fmt.Sprintf("Resumed “%s”: its ticks run again; those missed while it was paused follow its misfire policy.", job)
	if pause {
		set, not = h.s.Pause, "Not paused"
		done = fmt.Sprintf("Paused “%s”: the leader skips its ticks, from within a second, until it is resumed; a run in progress finishes.", job)
	}
	err := set(r.Context(), job)
	switch {
	case err == nil:
		return result{"ok", done, http.StatusOK}
	case errors.Is(err, solocron.ErrUnknownJob):
		return refused(not, err)
	}
	return result{"error", fmt.Sprintf("%s: %v", not, err), http.StatusInternalServerError}
}

func (h *Handler) reset(r *http.Request, job string) result {
	err := h.s.ResetJob(r.Context(), job)
	switch {
	case err == nil:
		return result{"ok", fmt.Sprintf("Reset the ledger record of “%s” to now: its next tick runs.", job), http.StatusOK}
	case errors.Is(err, solocron.ErrNotLeader) || errors.Is(err, solocron.ErrUnknownJob) || errors.Is(err, solocron.ErrNotAhead):
		return refused("Not reset", err)
	}
	return result{"error", fmt.Sprintf("Resetting the ledger record of “%s” failed: %v", job, err), http.StatusInternalServerError}
}

// refused explains an action the Scheduler refused.
func refused(what string, err error) result {
	if errors.Is(err, solocron.ErrNotLeader) {
		return result{"error", what + ": this process is not the leader, and this action works on the leader only. " +
			"Open the dashboard of the leader named below.", http.StatusConflict}
	}
	code := http.StatusConflict
	if errors.Is(err, solocron.ErrUnknownJob) {
		code = http.StatusNotFound
	}
	return result{"error", fmt.Sprintf("%s: %v", what, err), code}
}
