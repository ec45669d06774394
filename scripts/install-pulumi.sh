#!/usr/bin/env bash
# Make sure a Pulumi engine that can run Python programs is available, and
# print the absolute folder that contains it: `pulumi`, `pulumi-language-python`,
# `pulumi-language-python-exec` and `pulumi-resource-pulumi-python`.
# That folder is the only line on stdout; progress goes to stderr.
#
#   PATH="$(scripts/install-pulumi.sh):$PATH" pulumi version
#
# A `pulumi` on PATH at PULUMI_MIN_VERSION or newer, with the Python plugins in
# its folder, is used as it is. Otherwise the engine is built once with `go`
# from the Go module proxy at the release pinned in engine/versions.env, and
# kept in ${XDG_CACHE_HOME:-~/.cache}/pulumi-codemagic/engine-<version>-<hash>/bin.
# The hash covers this script and engine/ (go.mod, go.sum, versions.env and
# the language host source), so a change there builds a new engine next to
# the old one.
set -euo pipefail

# Everything goes to stderr except the final folder, written to fd 3.
exec 3>&1 1>&2

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
engine_src=$repo_root/engine
# shellcheck source-path=SCRIPTDIR source=../engine/versions.env
source "$engine_src/versions.env"

plugin_files=(pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python)

log() { echo "install-pulumi: $*"; }
die() {
	echo "install-pulumi: error: $*"
	exit 1
}

# version_at_least A B: true when version A >= version B (both without "v").
version_at_least() {
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

# has_engine DIR: true when DIR contains every executable the tests need.
has_engine() {
	local name
	for name in "${plugin_files[@]}"; do
		[ -x "$1/$name" ] || return 1
	done
}

# pulumi_version PULUMI: prints the version of that binary without the "v".
pulumi_version() {
	PULUMI_SKIP_UPDATE_CHECK=true "$1" version 2>/dev/null | head -n 1 | sed 's/^v//'
}

seconds_since() { echo $(($(date +%s) - $1)); }

# 1. A Pulumi CLI installed the usual way.
if path_pulumi=$(command -v pulumi); then
	path_dir=$(dirname "$(readlink -f "$path_pulumi")")
	path_version=$(pulumi_version "$path_pulumi" || true)
	if [ -z "$path_version" ]; then
		log "ignoring $path_pulumi: \`pulumi version\` printed no version"
	elif ! version_at_least "$path_version" "$PULUMI_MIN_VERSION"; then
		log "ignoring $path_pulumi: version $path_version is older than $PULUMI_MIN_VERSION"
	elif ! has_engine "$path_dir"; then
		log "ignoring $path_pulumi: $path_dir lacks one of ${plugin_files[*]:1}"
	else
		log "using pulumi $path_version from $path_dir"
		echo "$path_dir" >&3
		exit 0
	fi
fi

# 2. An engine built earlier by this script.
source_hash=$(
	cd "$repo_root"
	{
		echo scripts/install-pulumi.sh
		find engine -type f \( -name '*.go' -o -name go.mod -o -name go.sum -o -name versions.env \) -print
	} | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c 1-12
)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-codemagic
engine_home=$cache_root/engine-$PULUMI_VERSION-$source_hash
if has_engine "$engine_home/bin"; then
	log "using the engine built earlier in $engine_home/bin"
	echo "$engine_home/bin" >&3
	exit 0
fi

# 3. Build it.
command -v go >/dev/null ||
	die "no Pulumi CLI >= $PULUMI_MIN_VERSION on PATH, and \`go\` was not found to build one." \
		"Install Go >= $GO_MIN_VERSION, or install the Pulumi CLI with its Python plugins."
go_version=$(go env GOVERSION | sed 's/^go//')
if ! version_at_least "$go_version" "$GO_MIN_VERSION" && [ "$(go env GOTOOLCHAIN)" = local ]; then
	die "go $go_version is older than the $GO_MIN_VERSION that Pulumi $PULUMI_VERSION needs," \
		"and GOTOOLCHAIN=local stops go from fetching a newer toolchain. Install Go >= $GO_MIN_VERSION."
fi

cd "$engine_src"
log "checking that the Go module proxy serves Pulumi $PULUMI_VERSION (GOPROXY=$(go env GOPROXY))"
if ! sdk_json=$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" 2>&1); then
	die "could not download github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" \
		"(GOPROXY=$(go env GOPROXY)): $sdk_json"
fi
sdk_dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$sdk_json")
[ -d "$sdk_dir" ] || die "go mod download printed no module folder for sdk/v3: $sdk_json"

mkdir -p "$cache_root"
build_dir=$(mktemp -d "$cache_root/.build-XXXXXX")
trap 'rm -rf "$build_dir"' EXIT
mkdir "$build_dir/bin"

# -buildvcs=false: no VCS stamp, so the build needs no git and equal sources give equal binaries.
build_flags=(-mod=readonly -trimpath -buildvcs=false)
started=$(date +%s)
log "building the Pulumi CLI $PULUMI_VERSION from source; the first build takes about" \
	"6 to 12 minutes on 2 cores and adds about 3 GB to the Go module and build caches"
go build "${build_flags[@]}" \
	-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
	-o "$build_dir/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
log "built pulumi in $(seconds_since "$started") s"

step_started=$(date +%s)
log "building the Python language host (engine/cmd/pulumi-language-python)"
go build "${build_flags[@]}" -ldflags "-X main.version=$PULUMI_VERSION" \
	-o "$build_dir/bin/pulumi-language-python" ./cmd/pulumi-language-python
log "built pulumi-language-python in $(seconds_since "$step_started") s"

# Pulumi's launch scripts for Python programs and dynamic providers ship in
# the sdk/v3 module; the module cache keeps them read-only.
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$build_dir/bin/"
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$build_dir/bin/"

built_version=$(pulumi_version "$build_dir/bin/pulumi" || true)
[ "$built_version" = "$PULUMI_VERSION" ] ||
	die "the built pulumi reports version '$built_version', expected $PULUMI_VERSION"

# Publish with one rename, so an interrupted build never leaves a half engine.
# If another run published the same engine meanwhile, keep that one.
if ! mv -T "$build_dir" "$engine_home" 2>/dev/null; then
	has_engine "$engine_home/bin" || die "could not move the engine to $engine_home"
	log "another run finished the same engine first; using it"
fi
log "engine ready in $engine_home/bin after $(seconds_since "$started") s"
echo "$engine_home/bin" >&3
