#!/usr/bin/env bash
# Runs validate.js with its npm dependencies installed (npm ci from package-lock.json).
#
#   tests/deploy/validate/run.sh install              # only install node_modules
#   tests/deploy/validate/run.sh [validate.js args]   # install when needed, then validate
#
# WORKERPAIR_NODE_DIR: where node_modules goes (default: this folder; ctest passes its build dir).
# Missing node, npm or kubectl is a FAILURE, never a skip: the manifests would go unchecked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${WORKERPAIR_NODE_DIR:-$here}

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "FAIL: '$1' is not installed; the Kubernetes manifests cannot be validated. $2" >&2
    exit 1
  fi
}
need node "Install Debian's nodejs and npm packages (scripts/setup.sh does)."
need npm "Install Debian's npm package (scripts/setup.sh does)."
need kubectl "Install kubectl >= 1.27 (it renders kustomize); see docs/OPERATIONS.md, 'Validate offline'."

if [[ "${1:-}" == "install" || ! -f "$dir/node_modules/.package-lock.json" ||
      "$here/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
  mkdir -p "$dir"
  if [[ "$dir" != "$here" ]]; then cp "$here/package.json" "$here/package-lock.json" "$dir/"; fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
[[ "${1:-}" == "install" ]] && exit 0

export NODE_PATH="$dir/node_modules"
exec node "$here/validate.js" --root "$here/../../.." "$@"
