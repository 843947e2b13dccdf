package leasetiming

import (
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	got, err := Timing{}.WithDefaults("solocron/x", 15*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Timing{TTL: 15 * time.Second, RenewInterval: 5 * time.Second, Margin: 3 * time.Second}); got != want {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
	// Set fields are kept; the others follow the TTL given.
	got, err = Timing{TTL: 10 * time.Second, Margin: time.Second}.WithDefaults("solocron/x", 15*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.TTL != 10*time.Second || got.Margin != time.Second || got.RenewInterval != 10*time.Second/3 {
		t.Fatalf("defaults from a set TTL and Margin: %+v", got)
	}
}

func TestRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		in   Timing
		want string
	}{
		{"ShortTTL", Timing{TTL: 500 * time.Millisecond}, "solocron/x: Options.TTL 500ms is too short: at least 1s"},
		{"NegativeTTL", Timing{TTL: -time.Second}, "Options.TTL -1s is too short"},
		{"OddTTL", Timing{TTL: 1500*time.Millisecond + time.Microsecond}, "solocron/x: Options.TTL 1.500001s is not a whole number of milliseconds"},
		{"BigMargin", Timing{Margin: 8 * time.Second}, "solocron/x: Options.Margin 8s must be positive and less than half the TTL (15s)"},
		{"NegativeMargin", Timing{Margin: -time.Second}, "Options.Margin -1s"},
		{"SlowRenewal", Timing{RenewInterval: 7 * time.Second}, "solocron/x: Options.RenewInterval 7s must be positive and at most (TTL - Margin)/2 = 6s"},
		{"NegativeRenewal", Timing{RenewInterval: -time.Second}, "Options.RenewInterval -1s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.in.WithDefaults("solocron/x", 15*time.Second, time.Second)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}
