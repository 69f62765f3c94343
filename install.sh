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
# 4. Runs `mmctl install` (by its absolute path): writes the systemd user unit
#    (LaunchAgent on macOS), then enables and starts it where the service
#    manager is reachable, or prints the exact command to finish where it is not.
# 5. When ~/.local/bin is not on your PATH, says which line to add to which
#    start-up file of your shell (and the absolute path to use until then).
#
# `mmctl uninstall` removes the service; `mmctl uninstall --purge` also the
# virtual environment, the link, your data and config (it asks first).
set -euo pipefail

# The one line that puts $1 (a folder in $HOME) on PATH, for the person's shell,
# and the file it goes in; nothing when it is on PATH already.
path_advice() {
    local bin=$1 shell rc line rel
    case ":$PATH:" in
        *":$bin:"*|*":$bin/:"*)
            local found
            found=$(command -v mmctl 2>/dev/null || true)
            if [ -n "$found" ] && [ "$found" != "$bin/mmctl" ]; then
                echo "install.sh: note: another mmctl comes first on your PATH ($found); this one is $bin/mmctl"
            fi
            return 0 ;;
    esac
    rel=${bin#"$HOME"/}
    shell=$(basename "${SHELL:-sh}")
    line="export PATH=\"\$HOME/$rel:\$PATH\""
    case $shell in
        bash)
            # macOS terminals start login shells, which read ~/.bash_profile.
            if [ "$(uname -s)" = Darwin ]; then rc=$HOME/.bash_profile; else rc=$HOME/.bashrc; fi ;;
        zsh) rc=${ZDOTDIR:-$HOME}/.zshrc ;;
        fish)
            rc=${XDG_CONFIG_HOME:-$HOME/.config}/fish/config.fish
            line="fish_add_path \$HOME/$rel" ;;
        *) rc=$HOME/.profile ;;
    esac
    echo "install.sh: $bin is not on your PATH, so \`mmctl\` alone is not found yet."
    echo "install.sh: add this line to $rc (your shell is $shell), then open a new terminal:"
    echo "    $line"
    echo "install.sh: until then, run it as $bin/mmctl"
}

install_packages() {
    if [ "$(uname -s)" = Linux ] && command -v apt-get >/dev/null 2>&1; then
        local need=()
        python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
        command -v gcc >/dev/null 2>&1 || need+=(gcc)
        [ -e /usr/include/linux/input.h ] || need+=(linux-libc-dev)
        python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
            2>/dev/null || need+=(python3-dev)
        if [ ${#need[@]} -gt 0 ]; then
            echo "install.sh: installing Debian packages: ${need[*]}" >&2
            as_root apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
        fi
    fi
}

main() {
    local here venv bin status=0
    here=$(cd "$(dirname "$0")" && pwd)
    venv=${MICROMOVE_VENV:-$HOME/.local/lib/micromove}
    bin=$HOME/.local/bin
    install_packages
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$here"
    mkdir -p "$bin"
    ln -sf "$venv/bin/mmctl" "$bin/mmctl"
    # What `mmctl uninstall --purge` may remove: this environment and the link.
    printf 'link=%s\n' "$bin/mmctl" >"$venv/micromove-install"
    echo "install.sh: mmctl installed at $bin/mmctl" >&2
    "$venv/bin/mmctl" install || status=$?
    path_advice "$bin"
    return "$status"
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Run, unless sourced (the tests source it to check path_advice for other shells).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
