// Package redact scrubs credentials from errors, for the engines whose
// connection strings carry a password.
package redact

import (
	"errors"
	"net/url"
	"strings"
)

// Secrets digs the password out of a connection string that its driver
// may have refused, URL or keyword/value form, so that it can be scrubbed
// from errors: as written, percent-unescaped, and any password=
// parameter.
func Secrets(raw string) []string {
	var secrets []string
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	// As written, percent-escapes and all; also when url.Parse refused
	// it: what lies between ':' and the last '@' of the authority.
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 && strings.LastIndex(rest[:j], "@") >= 0 {
			rest = rest[:j]
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pass, ok := strings.Cut(rest[:at], ":"); ok {
				secrets = append(secrets, pass)
				if p, err := url.PathUnescape(pass); err == nil {
					secrets = append(secrets, p)
				}
			}
		}
	}
	// Keyword/value form and URL query parameters: password=...
	for s := raw; ; {
		i := strings.Index(s, "password=")
		if i < 0 {
			break
		}
		s = s[i+len("password="):]
		v := s
		if strings.HasPrefix(v, "'") {
			v = v[1:]
			if j := strings.Index(v, "'"); j >= 0 {
				v = v[:j]
			}
		} else if j := strings.IndexAny(v, " &"); j >= 0 {
			v = v[:j]
		}
		secrets = append(secrets, v)
		if u, err := url.QueryUnescape(v); err == nil {
			secrets = append(secrets, u)
		}
	}
	return secrets
}

// Error replaces every secret of at least 3 bytes in err's text with
// "xxxxx" (shorter ones would scrub ordinary words). Drivers and servers
// do not quote passwords in their errors; this is the belt to that brace.
// It returns err itself when there was nothing to scrub.
func Error(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		if len(s) >= 3 {
			clean = strings.ReplaceAll(clean, s, "xxxxx")
		}
	}
	if clean == msg {
		return err
	}
	return redactedError{msg: clean, err: err}
}

// redactedError prints the scrubbed text. It answers errors.Is (context
// errors, ErrNotLeader) but does not unwrap, so the original text cannot
// be reached.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string        { return e.msg }
func (e redactedError) Is(target error) bool { return errors.Is(e.err, target) }
