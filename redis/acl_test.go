package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// TestACLUser runs the elector as a Redis ACL user confined to the app's
// keys and channel, then, in a separate process so that go-redis's own
// log lines are caught too, with a wrong password: the failure must be
// clear and no output may hold a password.
func TestACLUser(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	adm := admin(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	user, pass := "solocron-test-"+hex.EncodeToString(b[:4]), "pw-"+hex.EncodeToString(b)
	k := newKeys(DefaultPrefix, app)
	pattern := strings.TrimSuffix(k.lease, "lease") + "*"
	rules := append([]any{"ACL", "SETUSER", user, "reset", "on", ">" + pass, "~" + pattern, "&" + pattern, "-@all"}, aclCommands...)
	if err := adm.Do(ctx, rules...).Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	t.Cleanup(func() { adm.Do(context.Background(), "ACL", "DELUSER", user) })

	withUser := func(pw string) string {
		u, _ := url.Parse(srv)
		u.User = url.UserPassword(user, pw)
		return u.String()
	}
	e := newElector(t, fast(Options{URL: withUser(pass), App: app}))
	if s := e.String(); strings.Contains(s, pass) || strings.Contains(s, user) {
		t.Fatalf("String() shows a credential: %q", s)
	}
	l, err := e.Campaign(ctx, solocron.Candidate{PID: 1, Hostname: "acl"})
	if err != nil {
		t.Fatalf("Campaign as ACL user %s: %v", user, err)
	}
	if ok, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(1)}}); err != nil || !ok[0] {
		t.Fatalf("Claim as ACL user: %v %v", ok, err)
	}
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "job", Tick: tick(1), Ran: true}}); err != nil {
		t.Fatalf("Complete as ACL user: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("Release as ACL user: %v", err)
	}
	// What any process, or the solocron command, does while nobody leads.
	if err := e.SetPaused(ctx, "job", true); err != nil {
		t.Fatalf("SetPaused as ACL user: %v", err)
	}
	if err := e.RequestRun(ctx, "job"); err != nil {
		t.Fatalf("RequestRun as ACL user: %v", err)
	}
	if c, err := e.Control(ctx); err != nil || !c["job"].Paused {
		t.Fatalf("Control as ACL user: %v %v", c, err)
	}
	if r, err := e.Observe(ctx); err != nil || !r["job"].Finished.Equal(tick(1)) || !r["job"].Paused {
		t.Fatalf("Observe as ACL user: %v %v", r, err)
	}

	wrong := "wrong-" + pass
	p := startWorker(t, "badauth", "W_URL="+withUser(wrong), "W_APP="+app)
	got := p.expectAll(20*time.Second, "campaign", "holder", "string")
	p.wait(10 * time.Second)
	out := fmt.Sprint(got) + p.errText()
	t.Logf("with a wrong password: %v", got)
	if strings.Contains(out, pass) || strings.Contains(out, wrong) {
		t.Fatalf("a password appears in the output:\n%s", out)
	}
	if !strings.Contains(got["campaign"], "WRONGPASS") || !strings.Contains(got["holder"], "WRONGPASS") {
		t.Fatalf("errors do not say the password was refused: %v", got)
	}
}

// aclCommands are all the commands an application's user needs (the
// README quotes them): the scripts' own calls are checked too.
var aclCommands = []any{"+evalsha", "+eval", "+subscribe", "+unsubscribe", "+ping", "+hello", "+client|setname",
	"+get", "+set", "+hget", "+hgetall", "+hset", "+hdel", "+hmget", "+pexpire", "+pttl", "+del", "+publish", "+time"}

func init() { workers["badauth"] = badAuthWorker }

// badAuthWorker tries to campaign and to read the holder, and prints the
// errors and String().
func badAuthWorker() error {
	e, err := New(fast(Options{URL: os.Getenv("W_URL"), App: os.Getenv("W_APP")}))
	if err != nil {
		return err
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = e.Campaign(ctx, solocron.Candidate{PID: os.Getpid(), Hostname: "badauth"})
	fmt.Printf("campaign %v\n", err)
	_, err = e.Holder(ctx)
	fmt.Printf("holder %v\n", err)
	fmt.Printf("string %s\n", e.String())
	if err == nil || errors.Is(err, solocron.ErrNoHolder) {
		return errors.New("Holder succeeded with a wrong password")
	}
	return nil
}
