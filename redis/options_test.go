package redis

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidation(t *testing.T) {
	const u = "redis://127.0.0.1:6379/0"
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"no store", Options{App: "a"}, "exactly one of Options.URL and Options.Client"},
		{"no app", Options{URL: u}, "Options.App is required"},
		{"brace", Options{URL: u, App: "a{b}"}, "braces"},
		{"short ttl", Options{URL: u, App: "a", TTL: 50 * time.Millisecond}, "too short"},
		{"sub-ms ttl", Options{URL: u, App: "a", TTL: 150500 * time.Microsecond}, "whole number of milliseconds"},
		{"renew leaves no margin", Options{URL: u, App: "a", TTL: 10 * time.Second, RenewInterval: 5 * time.Second}, "RenewInterval 5s must be positive and at most (TTL - Margin)/2 = 4s"},
		{"negative renew", Options{URL: u, App: "a", RenewInterval: -time.Second}, "RenewInterval"},
		{"margin too big", Options{URL: u, App: "a", TTL: time.Second, Margin: 600 * time.Millisecond}, "Margin"},
		{"negative poll", Options{URL: u, App: "a", PollInterval: -time.Millisecond}, "PollInterval"},
		{"negative replicas", Options{URL: u, App: "a", Replicas: -1}, "Options.Replicas -1"},
		{"replica timeout", Options{URL: u, App: "a", Replicas: 1, ReplicaTimeout: 5 * time.Second}, "ReplicaTimeout 5s must be between 1ms and RenewInterval"},
		{"scheme", Options{URL: "http://127.0.0.1/", App: "a"}, `scheme "http"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	e, err := New(Options{URL: "redis://127.0.0.1:6379/3", App: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	o := e.opt
	if o.TTL != 10*time.Second || o.RenewInterval != o.TTL/3 || o.Margin != 2*time.Second || o.PollInterval != 500*time.Millisecond || o.Prefix != "solocron:" {
		t.Fatalf("defaults: %+v", o)
	}
	if got, want := e.String(), "redis redis://127.0.0.1:6379/3 app billing (key solocron:{billing}:lease)"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

// TestNoCredentialInErrors feeds New URLs with a password that are wrong
// in every way it knows; no error may quote the user or the password.
func TestNoCredentialInErrors(t *testing.T) {
	const user, pass = "alice-admin", "Pa55word-never-shown"
	for _, raw := range []string{
		"redis://" + user + ":" + pass + "@127.0.0.1:notaport/0",
		"redis://" + user + ":" + pass + "@127.0.0.1:6379/notadb",
		"redis://" + user + ":" + pass + "@127.0.0.1:6379/0/extra",
		"redis://" + user + ":" + pass + "@[::1/0",
		"redis://" + user + ":" + pass + "@host%zz/0",
		"ftp://" + user + ":" + pass + "@127.0.0.1/",
		"redis://" + user + ":" + pass + "\x7f@127.0.0.1/",
	} {
		_, err := New(Options{URL: raw, App: "a"})
		if err == nil {
			t.Errorf("New accepted a bad URL")
			continue
		}
		if strings.Contains(err.Error(), pass) || strings.Contains(err.Error(), user) {
			t.Errorf("error quotes a credential: %v", err)
		}
	}
	e, err := New(Options{URL: "rediss://" + user + ":" + pass + "@127.0.0.1:6380/2", App: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if s := e.String(); strings.Contains(s, pass) || strings.Contains(s, user) || !strings.Contains(s, "rediss://127.0.0.1:6380/2") {
		t.Fatalf("String() = %q", s)
	}
}
