package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// ErrNotReplicated is returned (wrapped) when Options.Replicas replicas did
// not acknowledge an acquisition or a claim within Options.ReplicaTimeout.
// The primary has it, so a refused claim's ticks are taken and will not
// run: at most once, rather than twice after a failover.
var ErrNotReplicated = errors.New("solocron/redis: not acknowledged by enough replicas")

// run runs script, and with Options.Replicas, WAIT on the same connection
// (a pipeline), so that the reply means the write is on the replicas too.
func (e *Elector) run(ctx context.Context, script *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	if e.opt.Replicas == 0 {
		return script.Run(ctx, e.client, keys, args...)
	}
	for attempt := 0; ; attempt++ {
		var cmd *goredis.Cmd
		var acks *goredis.Cmd
		_, _ = e.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			cmd = script.EvalSha(ctx, p, keys, args...)
			acks = p.Do(ctx, "WAIT", e.opt.Replicas, e.opt.ReplicaTimeout.Milliseconds())
			return nil
		})
		if goredis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") && attempt == 0 {
			// The script did not run; load it and go again.
			if err := script.Load(ctx, e.client).Err(); err != nil {
				cmd.SetErr(err)
				return cmd
			}
			continue
		}
		if cmd.Err() != nil {
			return cmd
		}
		if n, err := acks.Int64(); err != nil {
			cmd.SetErr(fmt.Errorf("%w: WAIT: %v", ErrNotReplicated, err))
		} else if n < int64(e.opt.Replicas) {
			cmd.SetErr(fmt.Errorf("%w: %d of %d within %v", ErrNotReplicated, n, e.opt.Replicas, e.opt.ReplicaTimeout))
		}
		return cmd
	}
}
