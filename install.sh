#!/usr/bin/env bash
# Install micromove for the current user and start it as a service.
#
#   ./install.sh
#
# 1. Installs the few Debian packages it needs to build its dependencies
#    (python3-venv; gcc and headers for python-evdev) when they are missing.
# 2. Creates a private virtual environment (default ~/.local/lib/micromove,
#    override with MICROMOVE_VENV) and installs micromove into it.
# 3. Links `mmctl` into ~/.local/bin.
# 4. Runs `mmctl install`: writes the systemd user unit (LaunchAgent on macOS),
#    then enables and starts it where the service manager is reachable, or
#    prints the exact command to finish where it is not.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
venv=${MICROMOVE_VENV:-$HOME/.local/lib/micromove}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "$(uname -s)" = Linux ] && command -v apt-get >/dev/null 2>&1; then
    need=()
    python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
    command -v gcc >/dev/null 2>&1 || need+=(gcc)
    [ -e /usr/include/linux/input.h ] || need+=(linux-libc-dev)
    python3 - <<'PY' 2>/dev/null || need+=(python3-dev)
import sysconfig, os, sys
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)
PY
    if [ ${#need[@]} -gt 0 ]; then
        echo "install.sh: installing Debian packages: ${need[*]}" >&2
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
    fi
fi

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "$here"
mkdir -p "$HOME/.local/bin"
ln -sf "$venv/bin/mmctl" "$HOME/.local/bin/mmctl"
echo "install.sh: mmctl installed at $HOME/.local/bin/mmctl" >&2
exec "$venv/bin/mmctl" install
