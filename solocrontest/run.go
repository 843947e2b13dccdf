package solocrontest

import (
	"context"

	"github.com/solocron/solocron"
)

// RunContext returns a ctx for calling a job's function directly in a
// test: solocron.RunFrom(ctx) reads r from it.
func RunContext(ctx context.Context, r solocron.Run) context.Context {
	return solocron.ContextWithRun(ctx, r)
}
