package solocron

import (
	"strings"
	"testing"
	"time"
)

func TestSpecErrorsSayWhatToDo(t *testing.T) {
	five, six := (&Options{}).parser(), (&Options{Seconds: true}).parser()
	cases := []struct {
		seconds bool
		spec    string
		want    []string
	}{
		{false, "0 0 2 * * *", []string{"Options.Seconds", "found 6"}},
		{true, "0 2 * * *", []string{"Options.Seconds is set", `prefix it with "0 "`}},
		{false, "0 25 * * *", []string{`the hour field "25"`, "above maximum (23)"}},
		{false, "61 * * * *", []string{`the minute field "61"`}},
		{false, "0 0 32 * *", []string{`the day-of-month field "32"`}},
		{false, "0 0 * 13 *", []string{`the month field "13"`}},
		{false, "0 0 * * mon-xyz", []string{`the day-of-week field "mon-xyz"`}},
		{true, "61 0 0 * * *", []string{`the second field "61"`}},
		{false, "TZ=Europe/Berlin 0 25 * * *", []string{`the hour field "25"`}},
		{false, "0 0 * *", []string{"minute, hour, day-of-month, month, day-of-week"}},
	}
	for _, c := range cases {
		p := five
		if c.seconds {
			p = six
		}
		_, err := parseSpec(p, c.spec, time.UTC)
		if err == nil {
			t.Errorf("%q: no error", c.spec)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q (Seconds %v): error %q does not say %q", c.spec, c.seconds, err, w)
			}
		}
	}
}
