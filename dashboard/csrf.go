package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// The page's forms are protected against cross-site requests twice over:
// each form carries a token that only this process can make, and a
// browser that says where a request comes from must name this host.

// token is the form's token for action on job: an HMAC of both under the
// process's secret, so a token made for one form is refused by every
// other.
func (h *Handler) token(action, job string) string {
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte("solocron dashboard\x00" + action + "\x00" + job))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var (
	errBadToken = errors.New("the form's token is missing or not valid in this process " +
		"(a page served by another process, or before a restart): reload the page and try again")
	errCrossSite = errors.New("the request comes from another site")
)

// checkToken compares the token in constant time.
func (h *Handler) checkToken(action, job, got string) error {
	want := h.token(action, job)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errBadToken
	}
	return nil
}

// checkSameOrigin refuses a request that a browser says comes from
// another site: Sec-Fetch-Site, when sent, must be same-origin (or none:
// typed by the user), and the host in Origin or, without it, in Referer,
// when sent, must be the request's Host. A request that says nothing
// (curl, an old browser) passes on its token alone.
func checkSameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errCrossSite
	}
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return nil
	}
	u, err := url.Parse(from)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
		return errCrossSite
	}
	return nil
}
