package engine

import (
	"cmp"
	"os"
	"strings"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/redis"
)

// RedisURL is the server the redis engine uses; SOLOBENCH_REDIS_URL
// overrides it.
func RedisURL() string {
	return cmp.Or(os.Getenv("SOLOBENCH_REDIS_URL"), "redis://127.0.0.1:6379/0")
}

// RedisTTL is the lease TTL the harness gives the redis engine. A killed
// leader is detected only when its lease expires, so takeover after
// SIGKILL takes up to this long; the default (10s) would make the
// takeover and chaos scenarios last hours.
const RedisTTL = time.Second

// redisTTL is the TTL of one scenario's cluster. An idle standby tries the
// lease about once per lease period, so its cost scales with 1/TTL: the
// standby scenario measures it at the engine's default TTL, as deployed;
// the scenarios that kill leaders use RedisTTL. shared starts with
// "solobench-<scenario>-" (see memberArgs).
func redisTTL(shared string) time.Duration {
	if strings.HasPrefix(shared, "solobench-standby-") {
		return redis.DefaultTTL
	}
	return RedisTTL
}

func init() {
	builders["redis"] = builder{
		build: func(opts *solocron.Options, shared string) (func(), error) {
			e, err := redis.New(redis.Options{URL: RedisURL(), App: shared, TTL: redisTTL(shared)})
			if err != nil {
				return nil, err
			}
			opts.Elector = e
			return func() { e.Close() }, nil
		},
		reachable: func() error {
			return probe(func() (solocron.Elector, error) {
				return redis.New(redis.Options{URL: RedisURL(), App: "solobench-probe", TTL: RedisTTL})
			})
		},
		leaseBound: true,
	}
}
