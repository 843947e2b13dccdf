package solocron

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
)

// AppIdentity names the running program: the import path of its main
// package, from the build information that the go command records (so one
// program keeps its identity under any file name or directory, and two
// programs never share one), or, when there is none (a binary built from
// a list of files with go run or go build, which records
// "command-line-arguments"), the executable's file name without ".exe".
// It is the default of Options.App and names the default lock file.
func AppIdentity() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Path != "" && bi.Path != "command-line-arguments" {
		return bi.Path
	}
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	name := filepath.Base(exe)
	if ext := filepath.Ext(name); strings.EqualFold(ext, ".exe") {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

// jobsDigest is a short digest of a set of job names, to tell whether two
// processes registered the same jobs without listing them.
func jobsDigest(names []string) string {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	h := sha256.New()
	for _, n := range sorted {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
