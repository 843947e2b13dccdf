# Sourced by scripts/tidy-check and scripts/release-check, from the repository
# root. The modules require versions of one another that no public proxy has
# until they are released; localproxy_start serves them from the working tree:
#
#   localproxy_start [-version V] [MODULE_DIR ...]   (flags of internal/modproxy)
#
# builds the modules into a file-system module proxy in $tmp (removed on exit)
# and exports the settings that make the go command use it:
#   GOPROXY     the local proxy, then the module cache's download directory
#               (itself laid out as a proxy), then the configured proxies
#               less "direct" and "off";
#   GOMODCACHE  a module cache of its own, so that versions built from the
#               working tree never reach the real one (nor outlive the run);
#   GONOSUMDB   the repository's modules, which no checksum database knows;
#   GOFLAGS     plus -modcacherw, so that the cache can be removed;
#   GOWORK=off  the workspace would replace the modules being checked.
# $root_module is the root module's path.

root_module=$(awk '$1 == "module" { print $2; exit }' go.mod)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/solocron-proxy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

localproxy_start() {
	go run ./internal/modproxy -o "$tmp/proxy" "$@" | sed 's/^/serving /'
	local upstream
	upstream=$(go env GOPROXY | tr '|' ',' | tr ',' '\n' | grep -v -x -e direct -e off -e '' | paste -sd, -) || true
	GOPROXY="file://$tmp/proxy,file://$(go env GOMODCACHE)/cache/download${upstream:+,$upstream}"
	GONOSUMDB=$(go env GONOSUMDB)
	GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}$root_module"
	GOFLAGS="$(go env GOFLAGS) -modcacherw"
	export GOPROXY GONOSUMDB GOFLAGS GOMODCACHE="$tmp/modcache" GOWORK=off
}

# quiet COMMAND...: runs it, showing its standard error (the go command's
# "downloading" lines among the rest) only when it fails.
quiet() {
	"$@" 2>"$tmp/stderr" || {
		local rc=$?
		cat "$tmp/stderr" >&2
		return $rc
	}
}

# own_sums_removed filters go.sum lines of the repository's own modules out.
own_sums_removed() {
	awk -v p="$root_module" '$1 != p && index($1, p "/") != 1'
}
