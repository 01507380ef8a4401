#!/usr/bin/env bash
# Builds the native Fabric components from source with the Go toolchain, at the versions pinned
# in network/versions.env, into .bin/ (git-ignored). A second run with nothing changed is a no-op.
#
#   fabric-bin.sh [all|ca|fabric]     default: all
#
# Exit codes: 0 built (or already built); 1 a build failed; 3 the Go module proxy refused a pinned
# module (nothing is downloaded from anywhere else: see the README, "Blocked: Fabric binaries").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../versions.env
source "$ROOT/network/versions.env"
BIN="$ROOT/.bin"
BUILD="$BIN/build"
WHAT="${1:-all}"
mkdir -p "$BIN" "$BUILD"

need() { command -v "$1" >/dev/null 2>&1 || { echo "fabric-bin: '$1' is required but not installed ($2)" >&2; exit 1; }; }
need go "Go >= 1.26, https://go.dev/doc/install"
need gcc "fabric-ca-server needs cgo (sqlite); install gcc"

# Runs a command, printing elapsed time every 15 s so a cold build never looks hung.
with_progress() {
  local label="$1"; shift
  local start=$SECONDS log="$BUILD/$label.log"
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( (SECONDS - start) % 15 == 0 )); then echo "  ... $label: $((SECONDS - start)) s"; fi
  done
  if wait "$pid"; then echo "  $label built in $((SECONDS - start)) s"; return 0; fi
  echo "fabric-bin: building $label failed; last lines of $log:" >&2
  tail -n 20 "$log" >&2
  if grep -q "403 Forbidden" "$log"; then return 3; fi
  return 1
}

build_ca() {
  local stamp="$BIN/.fabric-ca.stamp" want="$FABRIC_CA_MODULE@$FABRIC_CA_VERSION"
  if [[ -x "$BIN/fabric-ca-server" && -x "$BIN/fabric-ca-client" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    echo "fabric-ca $FABRIC_CA_VERSION: already built"
    return 0
  fi
  echo "fabric-ca $FABRIC_CA_VERSION: building fabric-ca-server and fabric-ca-client (cold: about 1-2 min)"
  # A throw-away module that requires the pinned version: `go install pkg@version` would also
  # list every version of the module to look for a deprecation notice, which the proxy refuses.
  local mod="$BUILD/fabric-ca"
  mkdir -p "$mod"
  printf 'module dvp.local/fabric-ca-build\n\ngo 1.26\n\nrequire %s %s\n' "$FABRIC_CA_MODULE" "$FABRIC_CA_VERSION" >"$mod/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "%s/cmd/fabric-ca-client"\n\t_ "%s/cmd/fabric-ca-server"\n)\n' \
    "$FABRIC_CA_MODULE" "$FABRIC_CA_MODULE" >"$mod/tools.go"
  local ldflags="-X $FABRIC_CA_MODULE/lib/metadata.Version=${FABRIC_CA_VERSION#v}"
  (cd "$mod" && with_progress fabric-ca-deps go mod tidy) || return $?
  (cd "$mod" && CGO_ENABLED=1 GOBIN="$BIN" with_progress fabric-ca \
    go install -ldflags "$ldflags" "$FABRIC_CA_MODULE/cmd/fabric-ca-server" "$FABRIC_CA_MODULE/cmd/fabric-ca-client") || return $?
  echo "$want" >"$stamp"
}

build_fabric() {
  local stamp="$BIN/.fabric.stamp" want="$FABRIC_MODULE@$FABRIC_COMMIT"
  local all=1 cmd
  for cmd in peer orderer configtxgen osnadmin ccaas_builder/bin/build; do [[ -x "$BIN/$cmd" ]] || all=0; done
  if [[ $all == 1 && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    echo "fabric $FABRIC_VERSION: already built"
    return 0
  fi
  echo "fabric $FABRIC_VERSION ($FABRIC_COMMIT): building peer, orderer, configtxgen, osnadmin, ccaas_builder (cold: several minutes)"
  local ldflags="-X $FABRIC_MODULE/common/metadata.Version=$FABRIC_VERSION -X $FABRIC_MODULE/common/metadata.CommitSHA=${FABRIC_COMMIT:0:7}"
  local pkgs=()
  for cmd in $FABRIC_CMDS; do pkgs+=("$FABRIC_MODULE/$cmd@$FABRIC_COMMIT"); done
  local rc=0
  for p in "${pkgs[@]}"; do
    GOBIN="$BIN" with_progress "$(basename "${p%@*}")" go install -ldflags "$ldflags" "$p" || { rc=$?; break; }
  done
  if [[ $rc == 0 ]]; then
    mkdir -p "$BIN/ccaas_builder/bin"
    for cmd in build detect release; do
      GOBIN="$BIN/ccaas_builder/bin" with_progress "ccaas-$cmd" go install "$FABRIC_CCAAS_MODULE/cmd/$cmd@$FABRIC_COMMIT" || { rc=$?; break; }
    done
  fi
  if [[ $rc == 3 ]]; then
    cat >&2 <<MSG
fabric-bin: BLOCKED. The Go module proxy refuses the pinned Fabric module
  ($FABRIC_MODULE@$FABRIC_COMMIT: "403 Forbidden / This module version is not available").
  This project does not download Fabric from anywhere else. peer, orderer, configtxgen, osnadmin
  and the ccaas builder are therefore not built; everything that needs them is reported as blocked.
MSG
  fi
  [[ $rc == 0 ]] && echo "$want" >"$stamp"
  return $rc
}

start=$SECONDS
case "$WHAT" in
  ca) build_ca ;;
  fabric) build_fabric ;;
  all) build_ca; build_fabric ;;
  *) echo "usage: fabric-bin.sh [all|ca|fabric]" >&2; exit 2 ;;
esac
echo "fabric-bin: done in $((SECONDS - start)) s"
