package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGoRedisLinesGoToTheLogger checks, in a process of its own (go-redis's
// logger is global to the process), that go-redis's own lines about a failed
// dial reach Options.Logger as WARN records and not stderr.
func TestGoRedisLinesGoToTheLogger(t *testing.T) {
	p := startWorker(t, "golog", "W_URL=redis://127.0.0.1:"+strconv.Itoa(freePort(t))+"/0")
	var record map[string]any
	deadline := time.After(30 * time.Second)
	for record == nil {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("worker exited without a go-redis record; stderr:\n%s", p.errText())
			}
			var r map[string]any
			if json.Unmarshal([]byte(line), &r) == nil && strings.Contains(fmt.Sprint(r["msg"]), "failed to dial") {
				record = r
			}
		case <-deadline:
			t.Fatalf("no go-redis record within 30s; stderr:\n%s", p.errText())
		}
	}
	p.wait(30 * time.Second)
	if record["level"] != "WARN" || record["logger"] != "go-redis" {
		t.Errorf("record %v: want level WARN and logger go-redis", record)
	}
	if strings.Contains(p.errText(), "failed to dial") {
		t.Errorf("go-redis still wrote to stderr:\n%s", p.errText())
	}
}

func init() { workers["golog"] = goLogWorker }

// goLogWorker makes an Elector whose Logger writes JSON to stdout, reads the
// holder from a closed port (so go-redis fails to dial and says so), and
// prints the error.
func goLogWorker() error {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	e, err := New(Options{URL: os.Getenv("W_URL"), App: "golog", Logger: logger})
	if err != nil {
		return err
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = e.Holder(ctx)
	fmt.Printf("holder %v\n", err)
	return nil
}

// TestLastLoggerGiven checks the rule Options.Logger documents: go-redis's
// lines go to the Logger of the last New given one; a New without one
// changes nothing.
func TestLastLoggerGiven(t *testing.T) {
	prev := goRedisTarget.Load()
	t.Cleanup(func() { goRedisTarget.Store(prev) })
	var first, second strings.Builder
	newLogger := func(b *strings.Builder) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
	for _, l := range []*slog.Logger{newLogger(&first), nil} {
		e, err := New(Options{URL: "redis://127.0.0.1:1/0", App: "last-logger", Logger: l})
		if err != nil {
			t.Fatal(err)
		}
		e.Close()
	}
	goRedisLogger{}.Printf(context.Background(), "line %d", 1)
	useLogger(newLogger(&second))
	goRedisLogger{}.Printf(context.Background(), "line %d", 2)
	if !strings.Contains(first.String(), "line 1") || strings.Contains(first.String(), "line 2") {
		t.Errorf("first Logger got %q, want line 1 only", first.String())
	}
	if !strings.Contains(second.String(), "level=WARN msg=\"line 2\" logger=go-redis") {
		t.Errorf("second Logger got %q, want line 2 at WARN", second.String())
	}
}
