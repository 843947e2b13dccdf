package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

func TestOptionsAreValidated(t *testing.T) {
	base := Options{URL: "postgres://u@localhost/db", App: "billing"}
	for _, c := range []struct {
		name string
		edit func(*Options)
		want string // in the error
	}{
		{"NoURL", func(o *Options) { o.URL = "" }, "URL is required"},
		{"NoApp", func(o *Options) { o.App = "" }, "App is required"},
		{"LongTable", func(o *Options) { o.LeaseTable = strings.Repeat("x", 64) }, "LeaseTable"},
		{"SameTables", func(o *Options) { o.LeaseTable, o.LedgerTable = "t", "t" }, "must differ"},
		{"ControlIsLedger", func(o *Options) { o.ControlTable = DefaultLedgerTable }, "must differ"},
		{"LongControlTable", func(o *Options) { o.ControlTable = strings.Repeat("x", 64) }, "ControlTable"},
		{"ShortTTL", func(o *Options) { o.TTL = 500 * time.Millisecond }, "TTL 500ms is too short"},
		{"OddTTL", func(o *Options) { o.TTL = 1500*time.Millisecond + time.Microsecond }, "milliseconds"},
		{"BigMargin", func(o *Options) { o.Margin = 8 * time.Second }, "Margin 8s"},
		{"SlowRenewal", func(o *Options) { o.RenewInterval = 7 * time.Second }, "RenewInterval 7s must be positive and at most (TTL - Margin)/2 = 6s"},
		{"NegativeRenewal", func(o *Options) { o.RenewInterval = -time.Second }, "RenewInterval"},
		{"BadURL", func(o *Options) { o.URL = "postgres://u:pw@localhost:notaport/db" }, "bad Options.URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := base
			c.edit(&o)
			_, err := New(o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: got %v, want an error containing %q", err, c.want)
			}
		})
	}
	e, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	if e.opt.TTL != 15*time.Second || e.opt.RenewInterval != 5*time.Second || e.opt.Margin != 3*time.Second {
		t.Fatalf("defaults: TTL %v, RenewInterval %v, Margin %v; want 15s, 5s, 3s", e.opt.TTL, e.opt.RenewInterval, e.opt.Margin)
	}
}

// No password may appear in an error or in String, whatever fails: the URL
// does not parse, the server refuses, nothing listens.
func TestNoCredentialInErrorsOrString(t *testing.T) {
	const secret = "Sup3rSecretPw"
	check := func(t *testing.T, what string, s string) {
		t.Helper()
		if strings.Contains(s, secret) {
			t.Fatalf("%s shows the password: %s", what, s)
		}
	}
	for _, url := range []string{
		"postgres://u:" + secret + "@127.0.0.1:notaport/db",
		"postgres://u:" + secret + "@127.0.0.1:5432/db?sslmode=bogus",
		"host=127.0.0.1 password=" + secret + " sslmode=bogus",
		"host=127.0.0.1 password='" + secret + "' port=x",
	} {
		_, err := New(Options{URL: url, App: "a"})
		if err == nil {
			t.Fatalf("New accepted a bad URL")
		}
		check(t, "New's error", err.Error())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	urls := []string{"postgres://u:" + secret + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"} // nothing listens
	if testServer(t) {
		// A role that does not exist: the server refuses.
		urls = append(urls, "postgres://no_such_role_solocron:"+secret+"@127.0.0.1:5432/test?sslmode=disable")
	}
	for _, url := range urls {
		e, err := New(Options{URL: url, App: "a"})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "String", e.String())
		if !strings.Contains(e.String(), "127.0.0.1") || !strings.Contains(e.String(), "app a") {
			t.Fatalf("String() = %q, want host and app", e)
		}
		_, err = e.Campaign(ctx, solocron.Candidate{PID: 1, Hostname: "h"})
		if err == nil {
			t.Fatal("Campaign succeeded against a refusing server")
		}
		check(t, "Campaign's error", err.Error())
		_, err = e.Holder(ctx)
		if err == nil {
			t.Fatal("Holder succeeded against a refusing server")
		}
		check(t, "Holder's error", err.Error())
		t.Logf("Holder error: %v", err)
		if _, err = e.Observe(ctx); err == nil {
			t.Fatal("Observe succeeded against a refusing server")
		}
		check(t, "Observe's error", err.Error())
		if err = e.SetPaused(ctx, "job", true); err == nil {
			t.Fatal("SetPaused succeeded against a refusing server")
		}
		check(t, "SetPaused's error", err.Error())
	}
}
