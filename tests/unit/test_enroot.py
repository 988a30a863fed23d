"""enroot: the role's one read (enroot_facts), gpu_verify's enroot check, the stand-in command.

The module reads planted files under tmp_path; commands go through a runner that answers from a
table. The stand-in enroot (molecule/shared/standins/enroot) runs for real with its system
configuration folder pointed at tmp_path, so its path rules are checked where the molecule
scenario relies on them.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from module_loader import load_module

load_module("enroot_facts")  # puts plugins/module_utils on the import path
ef = importlib.import_module("ansible.module_utils.gpuhost_enroot_look")
gv = load_module("gpu_verify")
Cmd = gv.Cmd

ROOT = Path(__file__).resolve().parents[2]
STANDIN = ROOT / "molecule/shared/standins/enroot/files/enroot-standin.sh"

DPKG = ("enroot\tii \t4.1.2-1\nenroot+caps\trc \t4.1.1-1\n"
        "libnvidia-container-tools\tun \t\n")


def table(answers: dict[str, tuple[int, str]], ran: list[str]) -> Any:
    def run(argv: list[str]) -> Any:
        text = " ".join(argv)
        ran.append(text)
        for prefix, (rc, out) in answers.items():
            if prefix in text:
                return Cmd(tuple(argv), rc, out if rc == 0 else "", "" if rc == 0 else out)
        return Cmd(tuple(argv), 0, "", "")
    return run


# ------------------------------------------------------------------------------ enroot_facts


def test_parse_installed_keeps_installed_packages_only() -> None:
    assert ef.parse_installed(DPKG) == {"enroot": "4.1.2-1"}


def test_gather_reads_everything_in_one_look(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "sys/user").mkdir(parents=True)
    (proc / "sys/kernel").mkdir(parents=True)
    (proc / "sys/user/max_user_namespaces").write_text("0\n")
    (proc / "sys/user/max_mnt_namespaces").write_text("63000\n")
    (proc / "sys/kernel/unprivileged_userns_clone").write_text("1\n")
    shared = tmp_path / "run/enroot-users"
    shared.mkdir(parents=True)
    shared.chmod(0o1777)
    hooks, extra = tmp_path / "hooks.d", tmp_path / "extra"
    hooks.mkdir()
    extra.mkdir()
    for name in ("50-slurm-pmi.sh", "50-sharp.sh", "README"):
        (extra / name).write_text("exit 0\n")
    (hooks / "10-home.sh").write_text("exit 0\n")
    (hooks / "50-slurm-pmi.sh").symlink_to(extra / "50-slurm-pmi.sh")
    profiles = tmp_path / "profiles"
    profiles.write_text("/usr/bin/enroot-nsenter (unconfined)\nother (enforce)\n")
    (tmp_path / "apparmor.enroot").write_text("profile\n")
    params = {
        "packages": ["enroot", "enroot+caps"],
        "sysctls": ["user.max_user_namespaces", "user.max_mnt_namespaces",
                    "kernel.unprivileged_userns_clone",
                    "kernel.apparmor_restrict_unprivileged_userns"],
        "dirs": [str(shared), str(tmp_path / "missing")],
        "hooks_dir": str(hooks), "extra_hooks_dir": str(extra),
        "apparmor_profile": str(tmp_path / "apparmor.enroot"),
        "apparmor_profiles": str(profiles),
        "sysctl_file": str(tmp_path / "60-enroot.conf"), "proc": str(proc),
        "files": [str(extra / "README"), str(tmp_path / "no-such.conf")], "users": [],
    }
    ran: list[str] = []
    got = ef.gather(params, table({"--print-architecture": (0, "amd64\n"),
                                   "dpkg-query": (0, DPKG)}, ran))
    assert got["arch"] == "amd64"
    assert got["packages"] == {"enroot": "4.1.2-1"}
    assert got["sysctls"] == {"user.max_user_namespaces": 0, "user.max_mnt_namespaces": 63000,
                              "kernel.unprivileged_userns_clone": 1,
                              "kernel.apparmor_restrict_unprivileged_userns": None}
    assert got["dirs"][str(shared)]["mode"] == "1777"
    assert got["dirs"][str(tmp_path / "missing")] is None
    assert got["hooks"] == {"linked": {"50-slurm-pmi.sh": str(extra / "50-slurm-pmi.sh")},
                            "extra": ["50-sharp.sh", "50-slurm-pmi.sh"]}
    assert got["apparmor"] == {"profile": True, "loaded": True}
    assert got["sysctl_text"] is None
    readme = got["files"][str(extra / "README")]
    assert (readme["type"], readme["text"]) == ("file", "exit 0\n")
    assert got["files"][str(tmp_path / "no-such.conf")] is None
    assert got["users"] == {}
    assert len(ran) == 2


def test_user_state_reports_links_folders_and_the_credentials_checksum(tmp_path: Path) -> None:
    """A user's side of enroot_credentials, from a passwd entry whose home is a tmp folder:
    the file's sha1 (never its text), the folders' modes, and a symlink on the way listed."""
    home = tmp_path / "alice"
    (home / ".config" / "enroot").mkdir(parents=True)
    (home / ".config" / "enroot").chmod(0o700)
    (home / ".config" / "enroot" / ".credentials").write_text("machine m login a password p\n")
    entry = ["x", str(os.getuid()), str(os.getgid()), "", str(home), "/bin/sh"]
    got = ef.user_state(entry)
    assert got["links"] == []
    assert got["dirs"][".config/enroot"]["mode"] == "0700"
    creds = got["credentials"]
    assert "text" not in creds
    assert creds["sha1"] == hashlib.sha1(b"machine m login a password p\n").hexdigest()
    other = tmp_path / "elsewhere"
    other.mkdir()
    (home / ".config" / "enroot" / ".credentials").unlink()
    (home / ".config" / "enroot" / ".credentials").symlink_to(other / "x")
    got = ef.user_state(entry)
    assert got["links"] == [f"{home}/.config/enroot/.credentials"]
    assert got["credentials"]["type"] == "link"


def test_users_state_reports_a_missing_user_as_null() -> None:
    assert ef.users_state(["gpuhost-no-such-user"]) == {"gpuhost-no-such-user": None}


def test_apparmor_not_loaded_when_the_list_lacks_nsenter(tmp_path: Path) -> None:
    listed = tmp_path / "profiles"
    listed.write_text("/usr/bin/enroot-nsenterx (unconfined)\n")
    assert ef.apparmor_state(str(tmp_path / "none"), str(listed)) == {"profile": False,
                                                                      "loaded": False}


# ------------------------------------------------------------------ gpu_verify's enroot check

PASSWD = {"getent passwd alice": (0, "alice:x:1000:1000::/home/alice:/bin/sh\n"),
          "getent passwd root": (0, "root:x:0:0:root:/root:/bin/bash\n"),
          "mktemp": (0, "/tmp/gpu-verify-enroot.abc\n"),
          "enroot start": (0, "gpu-verify-ok\n")}


def check(answers: dict[str, tuple[int, str]], users: tuple[str, ...] = ("alice",),
          enabled: bool | None = True, installed: bool = True) -> tuple[dict[str, Any], list[str]]:
    ran: list[str] = []
    opts = gv.Options(image="testhost/busybox", enroot_users=users, enroot_enabled=enabled)
    res = gv.check_enroot(table(answers, ran), {"enroot": installed}, opts)
    return res, ran


def test_users_run_first_then_root_as_batch_jobs() -> None:
    res, ran = check(PASSWD)
    assert res["status"] == "pass", res
    assert "as alice, root" in res["reason"]
    enroot_runs = [r for r in ran if " enroot " in r]
    assert enroot_runs[0].startswith("runuser -u alice -- env -i HOME=/home/alice USER=alice")
    assert any("enroot import --output /tmp/gpu-verify-enroot.abc/gpu-verify.sqsh "
               "dockerd://testhost/busybox" in r for r in enroot_runs)
    assert any(r.startswith("runuser -u root -- env -i HOME=/root") for r in enroot_runs)
    assert not any("XDG_RUNTIME_DIR" in r for r in ran)
    first_root = next(i for i, r in enumerate(ran) if r.startswith("runuser -u root"))
    assert all(not r.startswith("runuser -u root") for r in ran[:first_root])
    assert any("rm -rf /tmp/gpu-verify-enroot.abc" in r for r in ran)


def test_a_user_failure_names_the_user_and_stops_before_root() -> None:
    answers = {**PASSWD, "enroot import": (1, "mkdir: cannot create directory '/run/enroot': "
                                              "Permission denied")}
    res, ran = check(answers)
    assert res["status"] == "fail"
    assert res["reason"].startswith("enroot import failed as alice: mkdir: cannot create")
    assert not any(r.startswith("runuser -u root") for r in ran)


def test_a_missing_user_fails() -> None:
    res, _ = check({**PASSWD, "getent passwd bob": (2, "")}, users=("bob",))
    assert (res["status"], res["reason"]) == ("fail", "user bob does not exist")


@pytest.mark.parametrize(("enabled", "status", "reason"), [
    (False, "skip", "enroot_enabled is false for this host and enroot is not installed"),
    (True, "fail", "enroot_enabled is true for this host but enroot is not installed"),
    (None, "skip", "enroot is not installed"),
])
def test_not_installed(enabled: bool | None, status: str, reason: str) -> None:
    res, ran = check(PASSWD, enabled=enabled, installed=False)
    assert (res["status"], res["reason"]) == (status, reason)
    assert ran == []


def test_start_without_the_marker_fails() -> None:
    res, _ = check({**PASSWD, "enroot start": (0, "something else\n")}, users=())
    assert res["status"] == "fail" and "as root" in res["reason"]


# -------------------------------------------------------------------- the stand-in command


def standin(tmp_path: Path, argv: list[str], dropin: str = "", conf: str = "",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    sysconf = tmp_path / "etc"
    (sysconf / "enroot.conf.d").mkdir(parents=True, exist_ok=True)
    (sysconf / "enroot.conf").write_text(conf)
    (sysconf / "enroot.conf.d/90-test.conf").write_text(dropin)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    base = {"PATH": os.environ["PATH"], "HOME": str(home), "ENROOT_STANDIN_SYSCONF": str(sysconf),
            "XDG_RUNTIME_DIR": str(tmp_path / "xdg-run")}
    return subprocess.run(["bash", str(STANDIN), *argv], env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=30, check=False)


def test_standin_drop_in_paths_expand_per_user(tmp_path: Path) -> None:
    dropin = (f"ENROOT_RUNTIME_PATH {tmp_path}/run/user-$(id -u)\n"
              f"ENROOT_DATA_PATH {tmp_path}/data/user-$(id -u)\n"
              "NOT_ENROOT_KEY ignored\n")
    done = standin(tmp_path, ["list"], dropin=dropin)
    assert done.returncode == 0, done.stderr
    runtime = tmp_path / f"run/user-{os.getuid()}"
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
    assert (tmp_path / f"data/user-{os.getuid()}").is_dir()
    assert (tmp_path / "home/.cache/enroot").is_dir()  # XDG default for the cache


def test_standin_environment_and_enroot_conf_win_over_drop_ins(tmp_path: Path) -> None:
    done = standin(tmp_path, ["list"], dropin=f"ENROOT_DATA_PATH {tmp_path}/dropin\n",
                   conf=f"ENROOT_CACHE_PATH {tmp_path}/conf\n"
                        f"ENROOT_DATA_PATH {tmp_path}/conf-data\n",
                   env={"ENROOT_RUNTIME_PATH": str(tmp_path / "env")})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env").is_dir() and (tmp_path / "conf").is_dir()
    assert (tmp_path / "conf-data").is_dir() and not (tmp_path / "dropin").exists()


def test_standin_runtime_follows_xdg_runtime_dir(tmp_path: Path) -> None:
    done = standin(tmp_path, ["version"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "@VERSION@"  # replaced by the build script
    assert (tmp_path / "xdg-run/enroot").is_dir()


def test_standin_refuses_a_broken_configuration_file(tmp_path: Path) -> None:
    done = standin(tmp_path, ["list"], dropin="ENROOT_DATA_PATH $(\n")
    assert done.returncode == 1
    assert "Invalid configuration file" in done.stdout


def test_standin_stands_in_for_dockerd_imports_only(tmp_path: Path) -> None:
    done = standin(tmp_path, ["import", "docker://ubuntu"])
    assert done.returncode == 1 and "only dockerd://" in done.stderr
