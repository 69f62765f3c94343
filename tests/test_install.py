"""`mmctl install` / `mmctl uninstall` and the service templates (issue 6, README "Install as a service").

The unit file is checked by the real `systemd-analyze --user verify` (exit 0 and
no warnings). `systemctl --user` and `launchctl` cannot run on the test
machines, so the "manager reachable" paths use small fake programs on PATH that
record their arguments; every CLI call runs the installed `mmctl` as a
subprocess with PATH limited to those fakes, so no test can ever talk to a real
service manager.
"""

from __future__ import annotations

import hashlib
import json
import os
import plistlib
import pty
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from _mmctl import ROOT, mmctl_command, one_error_line
from micromove import install as lib
from micromove import paths

UNIT = "micromove.service"
LABEL = "org.micromove.daemon"
TOP_TEMPLATES = {
    "systemd": ROOT / "systemd" / "micromove.service",
    "launchd": ROOT / "launchd" / f"{LABEL}.plist",
}
PKG_TEMPLATES = ROOT / "daemon" / "micromove" / "templates"


# ------------------------------------------------------------------ helpers


def installed_mmctl() -> str:
    """The real installed mmctl script (what the rendered unit must start: links resolved)."""
    cmd = mmctl_command()
    if len(cmd) == 1:
        return os.path.realpath(cmd[0])
    found = shutil.which("mmctl")
    assert found, "no installed mmctl"
    return os.path.realpath(found)


FAKE = """#!{python}
import json, os, sys
name = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps([name, *sys.argv[1:]]) + "\\n")
sub = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
key = "FAKE_" + name.upper() + "_" + sub.upper().replace("-", "_")
rc = int(os.environ.get(key + "_RC", os.environ.get("FAKE_" + name.upper() + "_RC", "0")))
if rc:
    sys.stderr.write(os.environ.get(key + "_STDERR", os.environ.get("FAKE_" + name.upper() + "_STDERR", "failed")) + "\\n")
sys.exit(rc)
"""


class Cli:
    """Runs `mmctl` with PATH = a folder of fake programs only (never a real manager)."""

    def __init__(self, home: Path, tmp: Path):
        self.home = home
        self.bin = tmp / "fakebin"
        self.bin.mkdir()
        self.log = tmp / "calls.jsonl"
        self.extra: dict[str, str] = {}

    def fake(self, name: str) -> None:
        p = self.bin / name
        p.write_text(FAKE.format(python=sys.executable))
        p.chmod(0o755)

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        out = [json.loads(line) for line in self.log.read_text().splitlines()]
        self.log.unlink()
        return out

    def __call__(
        self, *args: str, stdin: int | None = subprocess.DEVNULL, **env: str
    ) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_")}
        full.update(PATH=str(self.bin), FAKE_LOG=str(self.log), **self.extra, **env)
        full.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return subprocess.run(
            [*mmctl_command(), *args],
            capture_output=True,
            text=True,
            env=full,
            stdin=stdin,
            timeout=120,
        )


@pytest.fixture
def cli(_private_home: Path, tmp_path: Path) -> Cli:
    return Cli(_private_home, tmp_path)


def tree(root: Path) -> dict[str, str]:
    """Every file and link under `root` (relative path -> content hash or link target)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def dirs(root: Path) -> set[str]:
    return {str(Path(d).relative_to(root)) for d, _, _ in os.walk(root)}


def unit_path(home: Path) -> Path:
    return home / ".config" / "systemd" / "user" / UNIT


def plist_path(home: Path) -> Path:
    return home / "Library" / "LaunchAgents" / f"{LABEL}.plist"


def exec_start(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith("ExecStart=")]
    assert len(lines) == 1, lines
    return lines[0].removeprefix("ExecStart=")


def make_data(home: Path) -> tuple[Path, Path]:
    db = paths.db_path()
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.execute("create table t (x)")
    con.commit()
    con.close()
    cfg = paths.config_path()
    cfg.parent.mkdir(parents=True)
    cfg.write_text("pause:\n  min_s: 3\n")
    return db, cfg


# ------------------------------------------------------------------ templates


@pytest.mark.parametrize("platform", ["systemd", "launchd"])
def test_package_template_is_identical_to_the_repository_one(platform: str) -> None:
    top = TOP_TEMPLATES[platform]
    pkg = PKG_TEMPLATES / top.name
    assert pkg.read_bytes() == top.read_bytes(), (
        f"{pkg} differs from {top}: copy one onto the other"
    )
    assert lib.template_text(platform) == top.read_text("utf-8")


def test_unit_template_shape() -> None:
    text = TOP_TEMPLATES["systemd"].read_text()
    assert text.count("@MMCTL@") == 1 and exec_start(text) == "@MMCTL@ run"
    sections: dict[str, dict[str, str]] = {}
    current = ""
    prev = ""
    for line in text.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = {}
        elif line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert prev.startswith("#"), f"no comment above {line!r}"
            sections[current][key] = value
        prev = line
    unit, service, inst = sections["Unit"], sections["Service"], sections["Install"]
    assert unit["PartOf"] == unit["After"] == inst["WantedBy"] == "graphical-session.target"
    assert service["Type"] == "simple"
    assert service["Restart"] == "on-failure"
    assert float(service["RestartSec"]) >= 1
    assert int(unit["StartLimitBurst"]) >= 1 and int(unit["StartLimitIntervalSec"]) > 0
    assert service["StandardError"] == "journal"
    assert "import-environment DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS" in text
    # The session's variables come from the session, never from the unit.
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        assert not any(
            k in ("Environment", "PassEnvironment") and var in v for k, v in service.items()
        )
    assert "Environment" not in service


def analyze(unit: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed (Debian package: systemd)")
    run = tmp / "xdg-run"
    run.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(run))
    return subprocess.run(
        [exe, "--user", "verify", str(unit)], capture_output=True, text=True, env=env, timeout=120
    )


def test_rendered_unit_passes_systemd_analyze_without_a_warning(tmp_path: Path) -> None:
    mmctl = installed_mmctl()
    text = lib.render("systemd", mmctl)
    assert exec_start(text) == f"{mmctl} run"
    assert "@MMCTL@" not in text
    unit = tmp_path / UNIT
    unit.write_text(text)
    proc = analyze(unit, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr


def test_systemd_analyze_check_does_catch_warnings(tmp_path: Path) -> None:
    """The check above can fail: a bad key only warns (exit 0), and the warning is seen."""
    text = lib.render("systemd", installed_mmctl()).replace("UMask=0077", "UMask=0077\nNoSuchKey=1")
    unit = tmp_path / UNIT
    unit.write_text(text)
    proc = analyze(unit, tmp_path)
    assert "NoSuchKey" in proc.stderr


def test_unit_for_an_mmctl_in_an_awkward_folder_still_verifies(tmp_path: Path) -> None:
    odd = tmp_path / "my tools 100% $HOME"
    odd.mkdir()
    (odd / "mmctl").symlink_to(installed_mmctl())
    text = lib.render("systemd", odd / "mmctl")
    assert exec_start(text) == f'"{tmp_path}/my tools 100%% $HOME/mmctl" run'
    unit = tmp_path / UNIT
    unit.write_text(text)
    proc = analyze(unit, tmp_path)  # exits 1 if ExecStart names a missing file
    assert (proc.returncode, proc.stderr) == (0, "")


@pytest.mark.parametrize("bad", ["relative/mmctl", "/opt/new\nline/mmctl"])
def test_render_refuses_a_path_it_cannot_write_safely(bad: str) -> None:
    with pytest.raises(lib.InstallError):
        lib.render("systemd", bad)


def test_plist_template_and_rendering_parse_with_the_required_keys(_private_home: Path) -> None:
    raw = plistlib.loads(TOP_TEMPLATES["launchd"].read_bytes())
    assert raw["ProgramArguments"] == ["@MMCTL@", "run"]
    mmctl = installed_mmctl()
    rendered = plistlib.loads(lib.render("launchd", mmctl).encode())
    for pl in (raw, rendered):
        assert pl["Label"] == LABEL
        assert pl["RunAtLoad"] is True
        assert pl["KeepAlive"] == {"SuccessfulExit": False}
        assert pl["ThrottleInterval"] >= 1
        assert pl["ProcessType"] in ("Interactive", "Background")
    assert rendered["ProgramArguments"] == [mmctl, "run"]
    assert os.path.isabs(rendered["ProgramArguments"][0])
    logs = _private_home / "Library" / "Logs" / "micromove"
    assert Path(rendered["StandardOutPath"]).parent == logs
    assert Path(rendered["StandardErrorPath"]).parent == logs
    assert "@" not in json.dumps(rendered)


def test_plist_escapes_xml_in_paths(tmp_path: Path) -> None:
    exe = tmp_path / "a&b<c" / "mmctl"
    pl = plistlib.loads(lib.render("launchd", exe).encode())
    assert pl["ProgramArguments"] == [str(exe), "run"]


def test_default_platform() -> None:
    assert lib.default_platform() == ("launchd" if sys.platform == "darwin" else "systemd")


def test_run_manager_never_raises(tmp_path: Path) -> None:
    missing = lib.run_manager([str(tmp_path / "no-such-systemctl"), "--user", "daemon-reload"])
    assert missing.returncode == 127 and not missing.ok
    hung = lib.run_manager([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert hung.returncode == 124 and "no answer" in hung.why()
    ok = lib.run_manager([sys.executable, "-c", "print('hi')"])
    assert ok.ok and ok.stdout == "hi\n"


# ------------------------------------------------------------------ mmctl install (systemd)


def test_dry_run_prints_exactly_the_file_and_changes_nothing(cli: Cli) -> None:
    cli.fake("systemctl")
    before = tree(cli.home), dirs(cli.home)
    dry = cli("install", "--dry-run", "--platform", "systemd")
    assert dry.returncode == 0, dry.stderr
    assert (tree(cli.home), dirs(cli.home)) == before
    assert cli.calls() == []  # not even a daemon-reload
    assert exec_start(dry.stdout) == f"{installed_mmctl()} run"
    real = cli("install", "--platform", "systemd")
    assert real.returncode == 0, real.stderr
    assert unit_path(cli.home).read_text() == dry.stdout
    # A dry run over an installed unit prints the same file and still changes nothing.
    before = tree(cli.home), dirs(cli.home)
    again = cli("install", "--dry-run")
    assert again.stdout == dry.stdout
    assert (tree(cli.home), dirs(cli.home)) == before


def test_install_and_uninstall_write_and_remove_exactly_the_unit(cli: Cli) -> None:
    before = tree(cli.home)
    inst = cli("install")
    assert inst.returncode == 0, inst.stderr
    after = tree(cli.home)
    assert set(after) - set(before) == {".config/systemd/user/micromove.service"}
    assert {k: after[k] for k in before} == before
    unit = unit_path(cli.home)
    assert unit.stat().st_mode & 0o777 == 0o644
    rm = cli("uninstall")
    assert rm.returncode == 0, rm.stderr
    assert tree(cli.home) == before
    assert f"removed {unit}" in rm.stdout


def test_unreachable_manager_installs_the_file_and_says_what_to_run(cli: Cli) -> None:
    # 1. No systemctl at all.
    proc = cli("install")
    assert proc.returncode == 0, proc.stderr
    assert unit_path(cli.home).exists()
    assert "systemctl --user daemon-reload" in proc.stdout
    assert "systemctl --user enable --now micromove.service" in proc.stdout
    assert "import-environment" in proc.stdout
    # 2. systemctl present, but no user manager to connect to (this machine's real answer).
    cli.fake("systemctl")
    again = cli(
        "install",
        FAKE_SYSTEMCTL_RC="1",
        FAKE_SYSTEMCTL_STDERR="Failed to connect to bus: No such file or directory",
    )
    assert again.returncode == 0, again.stderr
    assert "already installed, up to date" in again.stdout
    assert "Failed to connect to bus" in again.stdout
    assert "systemctl --user daemon-reload" in again.stdout
    assert "systemctl --user enable --now micromove.service" in again.stdout
    assert cli.calls() == [["systemctl", "--user", "daemon-reload"]]


def test_reachable_manager_gets_the_exact_calls_in_order(cli: Cli) -> None:
    cli.fake("systemctl")
    first = cli("install")
    assert first.returncode == 0, first.stderr
    assert cli.calls() == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", UNIT],
    ]
    text = unit_path(cli.home).read_text()
    # Idempotent: the same file, the same calls, no error.
    second = cli("install")
    assert second.returncode == 0, second.stderr
    assert "already installed, up to date" in second.stdout
    assert unit_path(cli.home).read_text() == text
    assert cli.calls() == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", UNIT],
    ]
    # An out-of-date unit (older mmctl path) is rewritten and the running service restarted.
    unit_path(cli.home).write_text(text.replace("ExecStart=", "ExecStart=/old"))
    third = cli("install")
    assert third.returncode == 0, third.stderr
    assert "updated" in third.stdout
    assert unit_path(cli.home).read_text() == text
    assert cli.calls() == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", UNIT],
        ["systemctl", "--user", "restart", UNIT],
    ]
    rm = cli("uninstall")
    assert rm.returncode == 0, rm.stderr
    assert cli.calls() == [
        ["systemctl", "--user", "disable", "--now", UNIT],
        ["systemctl", "--user", "daemon-reload"],
    ]
    assert not unit_path(cli.home).exists()
    # Uninstalling twice is fine and calls nothing.
    again = cli("uninstall")
    assert again.returncode == 0, again.stderr
    assert "not installed" in again.stdout
    assert cli.calls() == []


def test_a_failing_manager_command_is_an_error_with_the_way_out(cli: Cli) -> None:
    cli.fake("systemctl")
    proc = cli(
        "install",
        FAKE_SYSTEMCTL_ENABLE_RC="1",
        FAKE_SYSTEMCTL_ENABLE_STDERR="Failed to enable unit: Unit file is masked.",
    )
    assert proc.returncode == 1
    assert "Failed to enable unit: Unit file is masked." in proc.stderr
    assert "systemctl --user enable --now micromove.service" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert unit_path(cli.home).exists()


def test_uninstall_without_a_manager_also_removes_the_enable_link(cli: Cli) -> None:
    before = tree(cli.home)
    assert cli("install").returncode == 0
    wants = unit_path(cli.home).parent / "graphical-session.target.wants"
    wants.mkdir()
    (wants / UNIT).symlink_to(unit_path(cli.home))  # what an earlier `enable` made
    rm = cli("uninstall")
    assert rm.returncode == 0, rm.stderr
    assert tree(cli.home) == before
    assert f"systemctl --user stop {UNIT}" in rm.stdout


def test_uninstall_keeps_the_database_unless_purged(cli: Cli) -> None:
    cli.fake("systemctl")
    db, cfg = make_data(cli.home)
    assert cli("install").returncode == 0
    rm = cli("uninstall")
    assert rm.returncode == 0, rm.stderr
    assert db.exists() and cfg.exists()
    assert "kept your data" in rm.stdout
    assert cli("install").returncode == 0
    before = tree(cli.home)
    purge = cli("uninstall", "--purge", "--yes")
    assert purge.returncode == 0, purge.stderr
    assert not paths.data_dir().exists() and not paths.config_dir().exists()
    assert f"deleted {paths.data_dir()}" in purge.stdout
    assert f"deleted {paths.config_dir()}" in purge.stdout
    removed = set(before) - set(tree(cli.home))
    assert removed == {
        ".config/systemd/user/micromove.service",
        ".local/share/micromove/micromove.db",
        ".config/micromove/config.yaml",
    }


def test_purge_without_yes_and_without_a_terminal_changes_nothing(cli: Cli) -> None:
    make_data(cli.home)
    assert cli("install").returncode == 0
    before = tree(cli.home), dirs(cli.home)
    cli.fake("systemctl")
    line = one_error_line(cli("uninstall", "--purge"))
    assert "--yes" in line and str(paths.data_dir()) in line
    assert (tree(cli.home), dirs(cli.home)) == before
    assert cli.calls() == []  # the service was not even stopped


@pytest.mark.parametrize("answer", ["n", "y"])
def test_purge_asks_on_a_terminal(cli: Cli, answer: str) -> None:
    db, cfg = make_data(cli.home)
    assert cli("install").returncode == 0
    master, slave = pty.openpty()
    try:
        os.write(master, f"{answer}\n".encode())
        proc = cli("uninstall", "--purge", stdin=slave)
    finally:
        os.close(slave)
        os.close(master)
    assert "Delete them? [y/N]" in proc.stderr
    if answer == "n":
        assert proc.returncode == 1
        assert db.exists() and cfg.exists() and unit_path(cli.home).exists()
    else:
        assert proc.returncode == 0, proc.stderr
        assert not db.exists() and not cfg.exists() and not unit_path(cli.home).exists()


@pytest.mark.parametrize(
    "args",
    [
        ("install", "--platform", "upstart"),
        ("uninstall", "--platform", "windows"),
        ("uninstall", "--yes"),
        ("install", "--purge"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(cli: Cli, args: tuple[str, ...]) -> None:
    before = tree(cli.home)
    one_error_line(cli(*args))
    assert tree(cli.home) == before


# ------------------------------------------------------------------ mmctl install (launchd)


def test_launchd_platform_on_linux_writes_the_agent_and_says_what_to_run(cli: Cli) -> None:
    before = tree(cli.home)
    dry = cli("install", "--platform", "launchd", "--dry-run")
    assert dry.returncode == 0 and tree(cli.home) == before
    proc = cli("install", "--platform", "launchd")
    assert proc.returncode == 0, proc.stderr
    plist = plist_path(cli.home)
    assert plist.read_text() == dry.stdout
    assert set(tree(cli.home)) - set(before) == {f"Library/LaunchAgents/{LABEL}.plist"}
    assert (cli.home / "Library" / "Logs" / "micromove").is_dir()
    pl = plistlib.loads(plist.read_bytes())
    assert pl["ProgramArguments"] == [installed_mmctl(), "run"]
    assert f"launchctl bootstrap gui/{os.getuid()} {plist}" in proc.stdout
    again = cli("install", "--platform", "launchd")
    assert "already installed, up to date" in again.stdout
    rm = cli("uninstall", "--platform", "launchd")
    assert rm.returncode == 0, rm.stderr
    assert tree(cli.home) == before
    assert not (cli.home / "Library" / "Logs" / "micromove").exists()


def test_launchd_reachable_calls(cli: Cli) -> None:
    cli.fake("launchctl")
    plist = plist_path(cli.home)
    service = f"gui/{os.getuid()}/{LABEL}"
    proc = cli("install", "--platform", "launchd", FAKE_LAUNCHCTL_PRINT_RC="113")
    assert proc.returncode == 0, proc.stderr
    assert cli.calls() == [
        ["launchctl", "print", service],
        ["launchctl", "enable", service],
        ["launchctl", "bootstrap", f"gui/{os.getuid()}", str(plist)],
    ]
    # Loaded and up to date: just make sure it runs.
    assert cli("install", "--platform", "launchd").returncode == 0
    assert cli.calls() == [
        ["launchctl", "print", service],
        ["launchctl", "enable", service],
        ["launchctl", "kickstart", service],
    ]
    # Loaded but out of date: unload, then load the new file.
    plist.write_text(plist.read_text().replace("<integer>10</integer>", "<integer>99</integer>"))
    assert cli("install", "--platform", "launchd").returncode == 0
    assert cli.calls() == [
        ["launchctl", "print", service],
        ["launchctl", "bootout", service],
        ["launchctl", "enable", service],
        ["launchctl", "bootstrap", f"gui/{os.getuid()}", str(plist)],
    ]
    rm = cli("uninstall", "--platform", "launchd")
    assert rm.returncode == 0, rm.stderr
    assert cli.calls() == [["launchctl", "bootout", service]]
    assert not plist.exists()


def test_python_dash_m_finds_the_installed_mmctl_script(cli: Cli) -> None:
    """`python -m micromove install` still starts the console script, by absolute path."""
    env = dict(os.environ, PATH=str(cli.bin))
    proc = subprocess.run(
        [sys.executable, "-m", "micromove", "install", "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    exe = exec_start(proc.stdout).removesuffix(" run")
    assert os.path.isabs(exe) and os.access(exe, os.X_OK)
    assert Path(exe).name == "mmctl"


def test_a_session_bus_without_a_systemd_user_manager(tmp_path: Path) -> None:
    """Real parts: the real systemctl against a real private session bus that has
    no systemd on it (a desktop session started without systemd). Not a failure:
    the unit is installed and the person is told exactly what to run."""
    from desktop import desktop_env, need, running_bus

    need("systemctl")
    need("dbus-daemon")
    home = tmp_path / "home"
    with running_bus() as bus:
        env = desktop_env(None, bus, home)
        proc = subprocess.run(
            [*mmctl_command(), "install"], env=env, capture_output=True, text=True, timeout=60
        )
    assert proc.returncode == 0, proc.stderr
    assert (home / ".config" / "systemd" / "user" / "micromove.service").exists()
    assert "org.freedesktop.systemd1" in proc.stdout  # systemctl's own reason, passed on
    assert "systemctl --user enable --now micromove.service" in proc.stdout


def test_the_unit_is_the_same_however_mmctl_is_started(cli: Cli, tmp_path: Path) -> None:
    """Through a link (install.sh's ~/.local/bin/mmctl) or the real script: one ExecStart, so
    a second `mmctl install` finds the unit unchanged and restarts nothing."""
    cli.fake("systemctl")
    real = installed_mmctl()
    bin_ = cli.home / ".local" / "bin"
    bin_.mkdir(parents=True)
    (bin_ / "mmctl").symlink_to(real)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_")}
    env.update(PATH=str(cli.bin), FAKE_LOG=str(cli.log))
    for i, exe in enumerate((real, str(bin_ / "mmctl"), real, str(bin_ / "mmctl"))):
        proc = subprocess.run([exe, "install"], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert exec_start(unit_path(cli.home).read_text()) == f"{os.path.realpath(real)} run"
        if i:
            assert "already installed, up to date" in proc.stdout and "updated" not in proc.stdout, (exe, proc.stdout)
    assert ["systemctl", "--user", "restart", UNIT] not in cli.calls()


def test_uninstall_purge_never_deletes_an_environment_install_sh_did_not_make(cli: Cli) -> None:
    """The test environment itself (a development venv, no install.sh marker) survives --purge."""
    make_data(cli.home)
    assert cli("install").returncode == 0
    venv = Path(sys.prefix)
    purge = cli("uninstall", "--purge", "--yes")
    assert purge.returncode == 0, purge.stderr
    assert "kept the program" not in purge.stdout and str(venv) not in purge.stdout
    assert (venv / "bin").is_dir()


def _install_sh_like_venv(home: Path) -> tuple[Path, Path]:
    """What install.sh leaves: a virtual environment (micromove importable from it, its own
    bin/mmctl), the marker it writes there, and the ~/.local/bin/mmctl link. Made in a second
    with `python -m venv --without-pip` and a .pth naming this test environment's packages."""
    venv = home / ".local" / "lib" / "micromove"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    (site,) = (venv / "lib").glob("python3*/site-packages")
    here = [p for p in sys.path if p.endswith("site-packages")] + [str(ROOT / "daemon")]
    (site / "test-env.pth").write_text("\n".join(here) + "\n")
    mmctl = venv / "bin" / "mmctl"
    mmctl.write_text(f"#!{venv}/bin/python\nimport sys\nfrom micromove.cli import main\nsys.exit(main())\n")
    mmctl.chmod(0o755)
    link = home / ".local" / "bin" / "mmctl"
    link.parent.mkdir(parents=True)
    link.symlink_to(mmctl)
    (venv / lib.INSTALL_MARKER).write_text(f"link={link}\n")
    return venv, link


def test_uninstall_names_install_sh_s_program_and_purge_deletes_it(cli: Cli) -> None:
    venv, link = _install_sh_like_venv(cli.home)
    cli.fake("systemctl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_")}
    env.update(PATH=str(cli.bin), FAKE_LOG=str(cli.log))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(link), *args], capture_output=True, text=True, env=env, timeout=120)

    first = run("install")
    assert first.returncode == 0, first.stderr
    assert exec_start(unit_path(cli.home).read_text()) == f"{venv}/bin/mmctl run"
    again = subprocess.run([str(venv / "bin" / "mmctl"), "install"], capture_output=True, text=True, env=env)
    assert "already installed, up to date" in again.stdout, again.stdout + again.stderr
    kept = run("uninstall")
    assert kept.returncode == 0, kept.stderr
    assert f"kept the program: {venv} and {link}" in kept.stdout, kept.stdout
    assert f"to delete it: rm -r {venv} {link}" in kept.stdout, kept.stdout
    assert venv.is_dir() and link.is_symlink()
    # --purge asks for them along with the data; without a terminal it needs --yes.
    make_data(cli.home)
    line = one_error_line(run("uninstall", "--purge"))
    assert str(venv) in line and str(link) in line and str(paths.data_dir()) in line, line
    assert venv.is_dir() and link.is_symlink()
    gone = run("uninstall", "--purge", "--yes")
    assert gone.returncode == 0, gone.stderr
    assert f"deleted {link}" in gone.stdout and f"deleted {venv}" in gone.stdout, gone.stdout
    assert not venv.exists() and not link.is_symlink() and not paths.data_dir().exists()
