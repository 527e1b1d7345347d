#!/usr/bin/env bash
# Installs what the local stack runs on, into the ignored cache folder (.cache/,
# or TELLER_CACHE_DIR) or from Debian's packages. Idempotent: a piece that is
# already there is skipped, so `npm start` runs this on every start.
#
#   bash scripts/install.sh                 # everything
#   bash scripts/install.sh kafka nginx     # only these pieces
#
# Pieces: kafka (Apache Kafka 3.9.1 jars from Maven Central), ferretdb
# (FerretDB 1.24.2 embedded in scripts/ferretdb, built with Go), redis, nginx,
# ab (ApacheBench, for the benchmarks), chromium (the headless browser the
# /docs page's test drives; the stack itself does not need it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TELLER_CACHE_DIR:-.cache}"
[[ "$CACHE" = /* ]] || CACHE="$ROOT/$CACHE"

step() { printf 'install: %-9s %s\n' "$1" "$2"; }
fail() {
  printf 'install: %-9s FAILED: %s\n' "$1" "$2" >&2
  exit 1
}
need() { # need PIECE COMMAND WHAT-IT-IS
  command -v "$2" >/dev/null 2>&1 || fail "$1" "$2 ($3) is missing; install it and run this again"
}
elapsed() { echo "$((SECONDS - $1)) s"; }

# A digest of the files a piece is built from: a change rebuilds it.
digest() { cat "$@" | sha256sum | cut -c1-16; }

install_kafka() {
  local libs="$CACHE/kafka/libs" pom="$ROOT/scripts/kafka/pom.xml"
  local marker="$CACHE/kafka/installed-$(digest "$pom")"
  if [[ -f "$marker" ]]; then
    step kafka "present ($(find "$libs" -name '*.jar' | wc -l) jars in ${libs#"$ROOT"/})"
    return
  fi
  need kafka java "a Java 17+ runtime"
  need kafka mvn "Apache Maven, to fetch Kafka's jars from Maven Central"
  local t=$SECONDS
  step kafka "fetching Apache Kafka 3.9.1 jars from Maven Central..."
  rm -rf "$CACHE/kafka"
  mkdir -p "$libs"
  local out="$CACHE/kafka/maven.log"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DoutputDirectory="$libs" >"$out" 2>&1 ||
    { tail -n 30 "$out" >&2; fail kafka "Maven could not fetch the jars (output above, whole in ${out#"$ROOT"/})"; }
  [[ -f "$libs/kafka_2.13-3.9.1.jar" ]] || fail kafka "kafka_2.13-3.9.1.jar is not in $libs after the Maven step"
  touch "$marker"
  step kafka "done: $(find "$libs" -name '*.jar' | wc -l) jars, $(du -sh "$libs" | cut -f1) in $(elapsed $t)"
}

install_ferretdb() {
  local src="$ROOT/scripts/ferretdb" bin="$CACHE/bin/teller-ferretdb" build="$CACHE/ferretdb"
  local patches
  shopt -s nullglob
  patches=("$src"/patches/*.patch)
  shopt -u nullglob
  local marker="$CACHE/bin/.teller-ferretdb-$(digest "$src/go.mod" "$src/go.sum" "$src/main.go" "${patches[@]}")"
  if [[ -x "$bin" && -f "$marker" ]]; then
    step ferretdb "present (${bin#"$ROOT"/})"
    return
  fi
  need ferretdb go "the Go toolchain, to build FerretDB 1.24.2"
  need ferretdb git "Git, to apply scripts/ferretdb/patches to FerretDB's source"
  local t=$SECONDS
  step ferretdb "building FerretDB 1.24.2 with Go and ${#patches[@]} patch(es) (about a minute the first time)..."
  mkdir -p "$CACHE/bin"
  rm -f "$CACHE"/bin/.teller-ferretdb-*
  # FerretDB's source as the Go module proxy serves it (read-only in the module
  # cache), copied to the cache folder and patched there.
  local pristine
  pristine="$(cd "$src" && go mod download -json github.com/FerretDB/FerretDB |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" && [[ -d "$pristine" ]] ||
    fail ferretdb "go mod download did not give FerretDB's source (see its output above)"
  if [[ -d "$build" ]]; then chmod -R u+w "$build"; fi
  rm -rf "$build"
  mkdir -p "$build"
  cp -R "$pristine" "$build/source"
  chmod -R u+w "$build/source"
  # A repository of its own, so that git applies the patches there and not to Teller's tree.
  git -C "$build/source" init -q || fail ferretdb "git init failed in ${build#"$ROOT"/}/source"
  local patch
  for patch in "${patches[@]}"; do
    git -C "$build/source" apply "$patch" || fail ferretdb "${patch#"$ROOT"/} does not apply to FerretDB's source"
  done
  # The committed go.mod plus a replace by the patched source, as a module file
  # of the build's own: scripts/ferretdb still builds against the published
  # module as it stands. The go.sum beside it is the committed one.
  { cat "$src/go.mod"; printf '\nreplace github.com/FerretDB/FerretDB => %s\n' "$build/source"; } >"$build/go.mod"
  cp "$src/go.sum" "$build/go.sum"
  # Built beside the target and moved into place, so a failed build never leaves half a binary.
  (cd "$src" && GOFLAGS="-mod=readonly -buildvcs=false" go build -modfile="$build/go.mod" -trimpath -o "$bin.tmp" .) ||
    fail ferretdb "go build failed in scripts/ferretdb (see its output above)"
  mv "$bin.tmp" "$bin"
  touch "$marker"
  step ferretdb "done: ${bin#"$ROOT"/} in $(elapsed $t)"
}

APT_UPDATED=
install_apt() { # install_apt PIECE COMMAND PACKAGE
  local piece=$1 cmd=$2 pkg=$3
  if command -v "$cmd" >/dev/null 2>&1; then
    step "$piece" "present ($(command -v "$cmd"))"
    return
  fi
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    fail "$piece" "$cmd is missing: install the Debian package $pkg (sudo apt-get install $pkg) or its equivalent"
  fi
  local t=$SECONDS
  step "$piece" "installing Debian package $pkg..."
  if [[ -z $APT_UPDATED ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || fail "$piece" "apt-get update failed"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null ||
    fail "$piece" "apt-get install $pkg failed"
  command -v "$cmd" >/dev/null 2>&1 || fail "$piece" "$cmd is still missing after installing $pkg"
  step "$piece" "done: $pkg in $(elapsed $t)"
}

pieces=("$@")
[[ ${#pieces[@]} -gt 0 ]] || pieces=(kafka ferretdb redis nginx ab chromium)
for piece in "${pieces[@]}"; do
  case "$piece" in
    kafka) install_kafka ;;
    ferretdb) install_ferretdb ;;
    redis) install_apt redis redis-server redis-server ;;
    nginx) install_apt nginx nginx nginx ;;
    ab) install_apt ab ab apache2-utils ;;
    chromium) install_apt chromium chromium chromium ;;
    *) fail "$piece" "unknown piece; choose among kafka ferretdb redis nginx ab chromium" ;;
  esac
done
