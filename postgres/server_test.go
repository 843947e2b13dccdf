package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron/internal/redact"
)

// The tests run against a real server. Without one they skip, or fail
// when CI=true.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testSchemaPrefix keeps test tables out of public: each test has a
// schema of its own, dropped with everything in it at the end, so that a
// test may drop or alter its tables without touching anyone else's.
const testSchemaPrefix = "solocron_test_"

func testURL(t testing.TB) string {
	t.Helper()
	url, err := reachServer()
	if err != nil {
		msg := fmt.Sprintf("no PostgreSQL server for the tests (SOLOCRON_POSTGRES_URL, default %s): %v\n"+
			"start one with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
			defaultTestURL, redact.Error(err, redact.Secrets(url)))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return url
}

// testServer reports whether the test server is reachable, for tests that
// use it only in part.
func testServer(t testing.TB) bool {
	_, err := reachServer()
	return err == nil
}

func reachServer() (string, error) {
	url := os.Getenv("SOLOCRON_POSTGRES_URL")
	if url == "" {
		url = defaultTestURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return url, err
	}
	_ = c.Close(ctx)
	return url, nil
}

// testOptions gives each test its own App, schema and tables, dropped at
// the end, so that tests run in parallel and again.
func testOptions(t testing.TB) Options {
	t.Helper()
	url := testURL(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if len(name) > 30 {
		name = name[:30]
	}
	o := Options{
		URL:          url,
		App:          name + "-" + id,
		Schema:       testSchemaPrefix + id,
		LeaseTable:   "lease_" + id,
		LedgerTable:  "ledger_" + id,
		ControlTable: "control_" + id,
	}
	t.Cleanup(func() { dropSchema(t, o) })
	return o
}

// dropSchema drops the test's own schema, never another.
func dropSchema(t testing.TB, o Options) {
	if !strings.HasPrefix(o.Schema, testSchemaPrefix) {
		t.Errorf("refusing to drop schema %q: not a test schema", o.Schema)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, o.URL)
	if err != nil {
		t.Logf("dropping the test schema: %v", err)
		return
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+newTables(o).schema+` CASCADE`); err != nil {
		t.Logf("dropping the test schema: %v", err)
	}
}

func mustNew(t testing.TB, o Options) *Elector {
	t.Helper()
	e, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// sql runs one statement on a connection of its own, as an operator would.
func sqlExec(t testing.TB, url, stmt string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, stmt, args...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
