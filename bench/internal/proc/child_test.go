package proc

import (
	"testing"
	"time"
)

func TestParseEvent(t *testing.T) {
	ev, ok := parseEvent(7, "@leading 1700000000000000001 42")
	if !ok || ev.PID != 7 || ev.Kind != "leading" || ev.At.UnixNano() != 1700000000000000001 || len(ev.Fields) != 1 || ev.Fields[0] != "42" {
		t.Fatalf("parseEvent = %+v, %v", ev, ok)
	}
	ev, ok = parseEvent(7, `@result 5 {"a": "b c"}`)
	if !ok || len(ev.Fields) != 1 || ev.Fields[0] != `{"a": "b c"}` {
		t.Fatalf("a result keeps its JSON whole: %+v, %v", ev, ok)
	}
	for _, line := range []string{"", "time=x level=WARN msg=hello", "@leading", "@leading soon 1"} {
		if _, ok := parseEvent(7, line); ok {
			t.Errorf("parseEvent(%q) accepted a non-event", line)
		}
	}
}

func TestSelfUsageGrows(t *testing.T) {
	u0, err := SelfUsage()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Millisecond); time.Now().Before(deadline); {
	}
	time.Sleep(5 * time.Millisecond)
	u1, err := SelfUsage()
	if err != nil {
		t.Fatal(err)
	}
	u := u1.Sub(u0)
	if u.CPU < 10*time.Millisecond || u.Switches < 1 {
		t.Fatalf("after 20 ms of spinning and a sleep, usage grew by %+v", u)
	}
}
