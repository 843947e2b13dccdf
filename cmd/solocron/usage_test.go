package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelpEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"},
		{"status", "-h"}, {"pause", "-h"}, {"resume", "--help"}, {"run", "-h"}, {"version", "-h"},
		{"ledger", "-h"}, {"ledger", "check", "-h"}, {"ledger", "repair", "-h"},
		{"help", "status"}, {"help", "ledger", "repair"},
		{"status", "--json", "-h", "--lock", "/nowhere"},
	} {
		r := cli(t, args...)
		r.want(t, exitOK)
		if !strings.HasPrefix(r.stdout, "usage: solocron") || r.stderr != "" {
			t.Fatalf("solocron %s: want usage on stdout alone\n%s", strings.Join(args, " "), r)
		}
	}
	// The exit statuses are documented in the usage and the README.
	cli(t, "-h").want(t, exitOK, exitUsageText)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), exitUsageText) {
		t.Fatalf("README.md lacks the exit statuses as the usage gives them:\n%s", exitUsageText)
	}
}

func TestUsageErrors(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "app.lock")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "usage: solocron"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"status"}, "name the store"},
		{[]string{"status", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"status", "--lock", lock, "--redis", "redis://127.0.0.1:6379", "--app", "a"}, "name one store"},
		{[]string{"status", "--lock", lock, "--app", "a"}, "not both"},
		{[]string{"status", "--postgres", "postgres://127.0.0.1/test"}, "need --app NAME"},
		{[]string{"status", "--redis", "redis://127.0.0.1:6379", "--app", "a", "--schema", "s"}, "go with --postgres"},
		{[]string{"status", "--postgres", "postgres://127.0.0.1/test", "--app", "a", "--prefix", "p"}, "goes with --redis"},
		{[]string{"status", "--lock", lock, "--grace", "-1s"}, "--grace must not be negative"},
		{[]string{"status", "--lock", lock, "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"status", "--lock", lock, "extra"}, "status takes no arguments"},
		{[]string{"pause", "--lock", lock}, "pause: name the job"},
		{[]string{"resume", "--lock", lock, "a", "b"}, "resume takes one job"},
		{[]string{"run", "--lock", lock, "--wait", "soon", "a"}, "invalid value"},
		{[]string{"ledger"}, "name a subcommand"},
		{[]string{"ledger", "fix"}, `unknown subcommand "fix"`},
		{[]string{"ledger", "repair", "--postgres", "postgres://127.0.0.1/test", "--app", "a"}, "ledger repair: name the job"},
		{[]string{"ledger", "repair", "--lock", lock, "a", "b"}, "ledger repair takes one job"},
		{[]string{"version", "--lock", lock}, "flag provided but not defined: -lock"},
		{[]string{"status", "--redis", "mysql://x", "--app", "a"}, "redis"},
	} {
		cli(t, c.args...).want(t, exitUsage, c.want)
	}
}

// TestUnreachable: a store that cannot be reached is exit status 3.
func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	cli(t, "status", "--lock", filepath.Join(dir, "typo.lock")).want(t, exitUnreachable, "no lock file at "+filepath.Join(dir, "typo.lock"))
	// A relative path is the shell's: relative to where it is typed.
	cli(t, "status", "--lock", "typo.lock").want(t, exitUnreachable, "no lock file at ")
	cli(t, "status", "--redis", "redis://127.0.0.1:1", "--app", "a", "--timeout", "2s").want(t, exitUnreachable, "who leads")
	cli(t, "pause", "a", "--redis", "redis://127.0.0.1:1", "--app", "a", "--timeout", "2s").want(t, exitUnreachable, "pause a")
	cli(t, "status", "--postgres", "postgres://postgres@127.0.0.1:1/test?sslmode=disable", "--app", "a", "--timeout", "2s").want(t, exitUnreachable, "who leads")
}

func TestVersion(t *testing.T) {
	cli(t, "version").want(t, exitOK, "solocron (devel) go")
}
