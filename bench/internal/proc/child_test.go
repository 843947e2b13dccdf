package proc

import (
	"os"
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

func TestThreadUsageGrows(t *testing.T) {
	u0, err := ThreadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Millisecond); time.Now().Before(deadline); {
	}
	time.Sleep(5 * time.Millisecond)
	u1, err := ThreadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	u, err := u1.Since(u0)
	if err != nil {
		t.Fatal(err)
	}
	if u.CPU < 10*time.Millisecond || u.Switches < 1 {
		t.Fatalf("after 20 ms of spinning and a sleep, usage grew by %+v", u)
	}
}

func TestThreadsSince(t *testing.T) {
	earlier := Threads{1: {CPU: 10, Switches: 1}, 2: {CPU: 5, Switches: 2}}
	later := Threads{1: {CPU: 15, Switches: 3}, 2: {CPU: 5, Switches: 2}, 3: {CPU: 7, Switches: 4}}
	u, err := later.Since(earlier)
	if err != nil || u != (Usage{CPU: 12, Switches: 6}) {
		t.Fatalf("a thread born since counts whole: got %+v, %v", u, err)
	}
	delete(later, 2)
	if _, err := later.Since(earlier); err == nil {
		t.Fatal("a thread that exited since went unnoticed")
	}
}
