package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// go-redis has one logger per process (goredis.SetLogger), which by default
// writes plain lines to stderr. The first New installs goRedisLogger in its
// place, once: replacing it again later would race with go-redis's reads of
// it. Each New with a Logger then points it at that Logger, so the lines of
// every go-redis client in the process go to the last Logger given.
var (
	installGoRedisLogger sync.Once
	goRedisTarget        atomic.Pointer[slog.Logger] // nil: slog.Default()
)

// useLogger routes go-redis's lines to l from now on (nil keeps the current
// target).
func useLogger(l *slog.Logger) {
	installGoRedisLogger.Do(func() { goredis.SetLogger(goRedisLogger{}) })
	if l != nil {
		goRedisTarget.Store(l)
	}
}

// goRedisLogger forwards go-redis's lines to slog at WARN, the ctx passed
// on (a handler may read a trace from it): go-redis writes lines only when
// something went wrong that it handles or returns to its caller as an
// error (a failed dial, a dropped connection).
type goRedisLogger struct{}

func (goRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l := goRedisTarget.Load()
	if l == nil {
		l = slog.Default()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if !l.Enabled(ctx, slog.LevelWarn) {
		return
	}
	l.LogAttrs(ctx, slog.LevelWarn, fmt.Sprintf(format, v...), slog.String("logger", "go-redis"))
}
