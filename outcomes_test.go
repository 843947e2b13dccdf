package solocron

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// What the ledger keeps of a run's error: its first line, at most
// MaxErrorLen bytes, cut on a character's start; "error" for an error
// without text; "" for success.
func TestOutcomeErrorIsTheBoundedFirstLine(t *testing.T) {
	long := strings.Repeat("é", MaxErrorLen) // 2*MaxErrorLen bytes
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New(""), "error"},
		{errors.New("first\r\nsecond"), "first"},
		{errors.New("x" + long), "x" + strings.Repeat("é", (MaxErrorLen-1)/2)},
	}
	for _, c := range cases {
		got := outcomeError(c.err)
		if got != c.want || len(got) > MaxErrorLen || !utf8.ValidString(got) {
			t.Errorf("outcomeError(%.20q...) = %.20q... (%d bytes), want %.20q... (%d bytes)", c.err, got, len(got), c.want, len(c.want))
		}
	}
}
