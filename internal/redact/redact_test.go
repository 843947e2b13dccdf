package redact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The password is scrubbed even if something did quote it.
func TestScrubsEveryForm(t *testing.T) {
	for url, quoted := range map[string]string{
		"postgres://u:p%40ss%20word@h/db":          "p@ss word and p%40ss%20word",
		"postgres://u:p@ss@h/db":                   "p@ss",
		"host=h password='p@ss word'":              "p@ss word",
		"host=h password=p@ss":                     "p@ss",
		"postgres://h/db?password=p%40ss%20word&x": "p@ss word and p%40ss%20word",
		"redis://u:p@ss@[::1/0":                    "p@ss", // url.Parse refuses it
	} {
		err := Error(errors.New("failed with "+quoted), Secrets(url))
		if strings.Contains(err.Error(), "p@ss") || strings.Contains(err.Error(), "p%40ss") {
			t.Fatalf("%s: %v", url, err)
		}
	}
}

// The user name is not a secret here, and a URL without a password has
// none.
func TestSecretsLeavesTheRest(t *testing.T) {
	for _, url := range []string{"postgres://alice@h/db", "postgres://h/db", "host=h user=alice", ""} {
		if s := Secrets(url); len(s) != 0 {
			t.Errorf("Secrets(%q) = %q, want none", url, s)
		}
	}
}

func TestErrorKeepsIsButNotTheText(t *testing.T) {
	orig := fmt.Errorf("dial with hunter2: %w", context.DeadlineExceeded)
	err := Error(orig, []string{"hunter2"})
	if got, want := err.Error(), "dial with xxxxx: context deadline exceeded"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("errors.Is lost the cause")
	}
	if errors.Unwrap(err) != nil {
		t.Fatal("the unscrubbed error can be unwrapped")
	}
}

func TestErrorLeavesCleanErrorsAlone(t *testing.T) {
	if Error(nil, []string{"hunter2"}) != nil {
		t.Fatal("Error(nil) is not nil")
	}
	orig := errors.New("refused: ab and hunter")
	if err := Error(orig, []string{"ab", "", "hunter2"}); err != orig {
		t.Fatalf("Error changed an error with no secret of 3 bytes or more in it: %v", err)
	}
}
