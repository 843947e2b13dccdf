package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/electortest"
)

func TestConformance(t *testing.T) {
	url := serverURL(t)
	electortest.Run(t, func(t *testing.T) electortest.NewElector {
		app := newApp(t, url)
		return func(t *testing.T) solocron.Elector {
			return newElector(t, fast(Options{URL: url, App: app}))
		}
	})
}

// TestConformanceState deletes all of the app's keys (what a restart
// without persistence does) and restores old copies of the ledger hash.
func TestConformanceState(t *testing.T) {
	url := serverURL(t)
	electortest.RunState(t, func(t *testing.T) electortest.Store {
		app := newApp(t, url)
		k := newKeys(DefaultPrefix, app)
		c := admin(t, url)
		ctx := func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			t.Cleanup(cancel)
			return ctx
		}
		return electortest.Store{
			New: func(t *testing.T) solocron.Elector {
				return newElector(t, fast(Options{URL: url, App: app}))
			},
			DeleteAll: func(t *testing.T) {
				if err := c.Del(ctx(t), k.all()...).Err(); err != nil {
					t.Fatalf("DEL %v: %v", k.all(), err)
				}
			},
			BackupLedger: func(t *testing.T) func(t *testing.T) {
				dump, err := c.Dump(ctx(t), k.ledger).Result()
				if err != nil && !errors.Is(err, goredis.Nil) {
					t.Fatalf("DUMP %s: %v", k.ledger, err)
				}
				return func(t *testing.T) {
					if dump == "" { // there was no ledger: restoring is deleting
						err = c.Del(ctx(t), k.ledger).Err()
					} else {
						err = c.RestoreReplace(ctx(t), k.ledger, 0, dump).Err()
					}
					if err != nil {
						t.Fatalf("restoring %s: %v", k.ledger, err)
					}
				}
			},
		}
	})
}
