package solocron

import (
	"strings"
	"unicode/utf8"
)

// outcomeError is what the ledger keeps of a run's error: "" for success,
// else its first line, cut to MaxErrorLen bytes on a rune boundary.
func outcomeError(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > MaxErrorLen {
		cut := MaxErrorLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	if msg == "" {
		msg = "error" // a non-nil error with no text still failed
	}
	return msg
}
