package solocron

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestLocalSpecIgnoresTheLocationOfItsArgument runs itself again with
// TZ set, since time.Local is read once at startup.
func TestLocalSpecIgnoresTheLocationOfItsArgument(t *testing.T) {
	if os.Getenv("SOLOCRON_LOCAL_SPEC_CHILD") == "" {
		for _, tz := range []string{"Etc/GMT-3", "Europe/Berlin"} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestLocalSpecIgnoresTheLocationOfItsArgument$", "-test.v")
			cmd.Env = append(os.Environ(), "SOLOCRON_LOCAL_SPEC_CHILD=1", "TZ="+tz)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("TZ=%s: %v\n%s", tz, err, out)
			}
		}
		return
	}
	for _, spec := range []string{"0 2 * * *", "0 * * * *", "*/30 2 * * *"} {
		sched, err := parseSpec((&Options{}).parser(), spec, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		from := time.Date(2026, 6, 1, 12, 0, 0, 0, time.Local)
		want := sched.Next(from)
		if got := sched.Next(from.UTC()); !got.Equal(want) {
			t.Fatalf("TZ=%s %q: Next of a UTC time = %v, of the same instant in Local = %v", os.Getenv("TZ"), spec, got, want)
		}
		if spec == "0 2 * * *" && want.In(time.Local).Hour() != 2 {
			t.Fatalf("TZ=%s %q: next tick %v is not at 02:00 local", os.Getenv("TZ"), spec, want.In(time.Local))
		}
	}
}
