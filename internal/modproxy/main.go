// Command modproxy lays this repository's modules out as a file-system module
// proxy ('go help goproxy'), so that the go command can fetch versions of them
// that are not published yet. scripts/tidy-check and scripts/release-check put
// it first in GOPROXY.
//
//	go run ./internal/modproxy -o DIR [-version V] [MODULE_DIR ...]
//
// Without -version it serves each module of the repository at every version
// that another module of the repository requires of it. With -version it serves
// the named module directories (default: all) at V, and rewrites their
// requirements on the repository's modules to V, as a release would.
//
// A module's files are the working tree's files that git does not ignore,
// tracked or not, less the directories of nested modules and vendored
// packages, as the go command zips a module; a module in a subdirectory
// without a LICENSE gets the repository's. It prints each module and version
// it serves. It uses the standard library only, so the root module gains no
// dependency.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

func main() {
	out := flag.String("o", "", "directory to write the proxy into (required)")
	version := flag.String("version", "", "serve the named modules at this version")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: modproxy -o DIR [-version V] [MODULE_DIR ...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || (*version == "" && flag.NArg() > 0) {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *version, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
}

type goMod struct {
	Module  struct{ Path string }
	Require []struct{ Path, Version string }
}

type module struct {
	dir   string // slash-separated, relative to the repository root; "." for the root
	path  string
	mod   goMod
	files []string // relative to the repository root
}

func run(out, version string, dirs []string) error {
	root, err := git(".", "rev-parse", "--show-toplevel")
	if err != nil {
		return err
	}
	root = strings.TrimSpace(root)
	mods, err := modules(root)
	if err != nil {
		return err
	}
	byDir := map[string]*module{}
	byPath := map[string]*module{}
	for _, m := range mods {
		byDir[m.dir] = m
		byPath[m.path] = m
	}

	type served struct {
		m       *module
		version string
	}
	var serve []served
	if version != "" {
		if len(dirs) == 0 {
			for _, m := range mods {
				dirs = append(dirs, m.dir)
			}
		}
		for _, d := range dirs {
			m := byDir[path.Clean(filepath.ToSlash(d))]
			if m == nil {
				return fmt.Errorf("%s: not a module directory of this repository", d)
			}
			if !slices.ContainsFunc(serve, func(s served) bool { return s.m == m }) {
				serve = append(serve, served{m, version})
			}
		}
	} else {
		seen := map[string]bool{}
		for _, m := range mods {
			for _, r := range m.mod.Require {
				if dep := byPath[r.Path]; dep != nil && !seen[r.Path+"@"+r.Version] {
					seen[r.Path+"@"+r.Version] = true
					serve = append(serve, served{dep, r.Version})
				}
			}
		}
	}

	when, err := commitTime(root)
	if err != nil {
		return err
	}
	lists := map[string][]string{}
	for _, s := range serve {
		goModData, err := os.ReadFile(filepath.Join(root, s.m.dir, "go.mod"))
		if err != nil {
			return err
		}
		if version != "" {
			if goModData, err = requireAt(goModData, s.m, byPath, version); err != nil {
				return err
			}
		}
		dir, err := escapedDir(out, s.m.path, s.version)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		base := filepath.Join(dir, s.version)
		info, _ := json.Marshal(struct{ Version, Time string }{s.version, when})
		if err := os.WriteFile(base+".info", info, 0o666); err != nil {
			return err
		}
		if err := os.WriteFile(base+".mod", goModData, 0o666); err != nil {
			return err
		}
		if err := writeZip(base+".zip", root, s.m, s.version, goModData, byDir); err != nil {
			return err
		}
		lists[dir] = append(lists[dir], s.version)
		fmt.Printf("%s %s ./%s\n", s.m.path, s.version, s.m.dir)
	}
	for dir, versions := range lists {
		sort.Strings(versions)
		if err := os.WriteFile(filepath.Join(dir, "list"), []byte(strings.Join(versions, "\n")+"\n"), 0o666); err != nil {
			return err
		}
	}
	return nil
}

// modules returns the repository's modules and assigns each file that git
// does not ignore to the innermost module holding it.
func modules(root string) ([]*module, error) {
	list, err := git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(list, "\x00") {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		// Tracked files deleted from the working tree are gone; links and
		// other irregular files are left out, as the go command does.
		if fi, err := os.Lstat(filepath.Join(root, f)); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, f)
	}
	sort.Strings(files)

	byDir := map[string]*module{}
	var mods []*module
	for _, f := range files {
		if path.Base(f) != "go.mod" {
			continue
		}
		js, err := goCmd(root, "mod", "edit", "-json", f)
		if err != nil {
			return nil, err
		}
		m := &module{dir: path.Dir(f)}
		if err := json.Unmarshal([]byte(js), &m.mod); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		m.path = m.mod.Module.Path
		byDir[m.dir] = m
		mods = append(mods, m)
	}
	for _, f := range files {
		d := path.Dir(f)
		for byDir[d] == nil && d != "." {
			d = path.Dir(d)
		}
		if m := byDir[d]; m != nil {
			rel := f
			if d != "." {
				rel = strings.TrimPrefix(f, d+"/")
			}
			if !isVendoredPackage(rel) {
				m.files = append(m.files, f)
			}
		}
	}
	return mods, nil
}

// isVendoredPackage reports whether name, relative to its module's root, lies
// in a vendored package, as golang.org/x/mod/zip decides it.
func isVendoredPackage(name string) bool {
	var i int
	if strings.HasPrefix(name, "vendor/") {
		i += len("vendor/")
	} else if j := strings.Index(name, "/vendor/"); j >= 0 {
		i += j + len("/vendor/")
	} else {
		return false
	}
	return strings.Contains(name[i:], "/")
}

// requireAt rewrites m's requirements on the repository's modules to version.
func requireAt(goModData []byte, m *module, byPath map[string]*module, version string) ([]byte, error) {
	var args []string
	for _, r := range m.mod.Require {
		if byPath[r.Path] != nil && r.Version != version {
			args = append(args, "-require="+r.Path+"@"+version)
		}
	}
	if len(args) == 0 {
		return goModData, nil
	}
	tmp, err := os.CreateTemp("", "modproxy-*.mod")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(goModData); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if _, err := goCmd(".", append(append([]string{"mod", "edit"}, args...), tmp.Name())...); err != nil {
		return nil, err
	}
	return os.ReadFile(tmp.Name())
}

func writeZip(name, root string, m *module, version string, goModData []byte, byDir map[string]*module) error {
	prefix := m.path + "@" + version + "/"
	entries := map[string]string{} // name in the module -> file in the repository
	for _, f := range m.files {
		rel := f
		if m.dir != "." {
			rel = strings.TrimPrefix(f, m.dir+"/")
		}
		entries[rel] = f
	}
	if _, ok := entries["LICENSE"]; !ok && m.dir != "." {
		for _, f := range byDir["."].files {
			if f == "LICENSE" {
				entries["LICENSE"] = f
			}
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		data := goModData
		if n != "go.mod" {
			var err error
			if data, err = os.ReadFile(filepath.Join(root, entries[n])); err != nil {
				return err
			}
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: prefix + n, Method: zip.Deflate})
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(name, buf.Bytes(), 0o666)
}

// escapedDir is the proxy's directory for a module's versions: upper-case
// letters are escaped as '!' and the lower-case letter ('go help goproxy').
func escapedDir(out, modPath, version string) (string, error) {
	for _, s := range []string{modPath, version} {
		if strings.Contains(s, "!") || strings.Contains(s, "..") {
			return "", fmt.Errorf("%q: cannot be escaped for a proxy", s)
		}
	}
	var b strings.Builder
	for _, r := range modPath {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	if strings.ToLower(version) != version {
		return "", fmt.Errorf("version %q: upper-case letters are not supported", version)
	}
	return filepath.Join(out, filepath.FromSlash(b.String()), "@v"), nil
}

// commitTime is HEAD's commit time, for the versions' .info files.
func commitTime(root string) (string, error) {
	out, err := git(root, "show", "-s", "--format=%ct", "HEAD")
	if err != nil {
		return "", err
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return "", fmt.Errorf("commit time %q: %v", out, err)
	}
	return time.Unix(sec, 0).UTC().Format(time.RFC3339), nil
}

func git(dir string, args ...string) (string, error) { return command(dir, "git", args...) }

func goCmd(dir string, args ...string) (string, error) { return command(dir, "go", args...) }

func command(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
