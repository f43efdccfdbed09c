# Shared by the scripts: where the pinned tools live. Sourced, not run.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DENO_VERSION="2.9.6"
# Deno from the npm registry lives in the project, so no global install is touched.
export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
# Debian's toolchain builds wasm32-unknown-unknown; rustup's (first on PATH) may not have that std.
if [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/wasm32-unknown-unknown ]; then
  CARGO=/usr/bin/cargo
  export RUSTC=/usr/bin/rustc
else
  CARGO=cargo
fi
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
