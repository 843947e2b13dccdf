package redis

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/solocron/solocron"
)

// TestStaleLedgerNamesKeysAndTerms: a ledger older than the term counter
// (an old copy restored, or the hash deleted while the counter survived)
// is reported by the next term with the keys and both terms, until a term
// claims in it.
func TestStaleLedgerNamesKeysAndTerms(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	c := admin(t, srv)
	n := 0
	lead := func(claim bool) solocron.Lease {
		t.Helper()
		n++
		l, err := e.Campaign(ctx, candidate("a"))
		if err != nil {
			t.Fatal(err)
		}
		if claim {
			if ok, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(n)}}); err != nil || !ok[0] {
				t.Fatalf("claim: %v %v", ok, err)
			}
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		return l
	}
	wantStale := func(l solocron.Lease, parts ...string) {
		t.Helper()
		err := l.LedgerStale()
		if !errors.Is(err, ErrLedgerStale) {
			t.Fatalf("term %d: LedgerStale() = %v, want ErrLedgerStale", l.Term(), err)
		}
		for _, p := range append(parts, e.keys.ledger, e.keys.term) {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("LedgerStale() = %q: does not name %q", err, p)
			}
		}
	}

	old := lead(true)
	backup, err := c.HGetAll(ctx, e.keys.ledger).Result()
	if err != nil {
		t.Fatal(err)
	}
	last := lead(true)
	if err := c.Del(ctx, e.keys.ledger).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, e.keys.ledger, backup).Err(); err != nil {
		t.Fatal(err)
	}
	restored := lead(false)
	wantStale(restored, fmt.Sprint(old.Term()), fmt.Sprint(last.Term()))
	// No term has claimed in it since: the next one is told too.
	again := lead(true)
	wantStale(again, fmt.Sprint(old.Term()), fmt.Sprint(last.Term()))
	if l := lead(true); l.LedgerStale() != nil {
		t.Fatalf("term %d: LedgerStale() = %v after a term claimed in the ledger", l.Term(), l.LedgerStale())
	}

	last = lead(true)
	if err := c.Del(ctx, e.keys.ledger).Err(); err != nil {
		t.Fatal(err)
	}
	deleted := lead(true)
	wantStale(deleted, fmt.Sprint(last.Term()), "no term")
	if l := lead(false); l.LedgerStale() != nil {
		t.Fatalf("term %d: LedgerStale() = %v after a term claimed in the ledger", l.Term(), l.LedgerStale())
	}
}
