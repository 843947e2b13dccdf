// Package engine builds solocron Options for one leadership engine: the
// file lock, and PostgreSQL or Redis when their modules are linked in.
package engine

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/solocron/solocron"
)

// File is the file-lock engine, always available.
const File = "file"

// builder fills in the elector of opts for one engine; shared names the
// state every process of one cluster must share (a lock path, a key).
type builder struct {
	build func(opts *solocron.Options, shared string) (cleanup func(), err error)
	// reachable reports whether the engine's server answers.
	reachable func() error
	// leaseBound engines notice a killed leader only when its lease
	// expires, so each takeover after SIGKILL lasts about a TTL.
	leaseBound bool
}

var builders = map[string]builder{
	File: {
		build: func(opts *solocron.Options, shared string) (func(), error) {
			opts.LockPath = filepath.Join(shared, "solocron.lock")
			return func() {}, nil
		},
		reachable: func() error { return nil },
	},
}

// Names lists the engines linked into this binary, the file lock first.
func Names() []string {
	var names []string
	for n := range builders {
		if n != File {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return slices.Insert(names, 0, File)
}

// LeaseBound reports whether engine name notices a killed leader only
// when its lease expires.
func LeaseBound(name string) bool { return builders[name].leaseBound }

// Available reports why engine name cannot be used now, or nil.
func Available(name string) error {
	b, ok := builders[name]
	if !ok {
		return fmt.Errorf("engine %q is not linked into this build (known: %v)", name, Names())
	}
	return b.reachable()
}

// Options returns solocron Options on engine name, with shared naming the
// cluster (a directory for the file lock, a key or namespace for servers)
// and logs at Warn and above to stderr.
func Options(name, shared string, opts solocron.Options) (solocron.Options, func(), error) {
	b, ok := builders[name]
	if !ok {
		return opts, nil, fmt.Errorf("unknown engine %q (known: %v)", name, Names())
	}
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cleanup, err := b.build(&opts, shared)
	return opts, cleanup, err
}

// known lists every engine the harness can measure, linked in or not.
var known = []string{File, "postgres", "redis"}

// Missing lists the known engines not linked into this build.
func Missing() []string {
	var out []string
	for _, n := range known {
		if _, ok := builders[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}
