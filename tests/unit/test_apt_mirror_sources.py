"""apt_mirror_sources: the parser/rewriter on real default sources files, and the rollback.

Fixtures (tests/fixtures/apt_sources/, each naming its source): Debian 12 debian.sources
(deb822), Debian 11 and Ubuntu 22.04 sources.list (one-line), Ubuntu 24.04 ubuntu.sources
(deb822), and two apt-get update outputs recorded on a Debian 12 test host. apply() runs on a
scratch apt directory with apt-get replaced by a callable (no apt runs here; the molecule
scenario apt_mirror runs the real one).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixture_loader import fixture
from module_loader import load_module

mod = load_module("apt_mirror_sources")

ARCHIVE = ["deb.debian.org/debian", "ftp.debian.org/debian", "ftp.*.debian.org/debian",
           "archive.ubuntu.com/ubuntu", "*.archive.ubuntu.com/ubuntu",
           "ports.ubuntu.com/ubuntu-ports"]
SECURITY = ["deb.debian.org/debian-security", "security.debian.org/debian-security",
            "security.debian.org", "security.ubuntu.com/ubuntu", "ports.ubuntu.com/ubuntu-ports"]
MIRROR = "http://mirror.example.net/os"
SEC_MIRROR = "http://mirror.example.net/security"


def targets(url: str = MIRROR, security_url: str = "", **previous: tuple[str, ...]) -> object:
    return mod.Targets(url, security_url, tuple(ARCHIVE), tuple(SECURITY), **previous)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """(old, new) for each line that differs; the files keep their line count."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_debian12_deb822_rewrites_the_archive_stanza_only_without_a_security_url() -> None:
    text = fixture("apt_sources/debian12_debian.sources.txt")
    result = mod.rewrite(text, mod.DEB822, targets(), "debian.sources")
    assert changed_lines(text, result.text) == [
        ("URIs: http://deb.debian.org/debian\n", f"URIs: {MIRROR}\n")]
    # The snapshot comment lines inside the stanzas are left as they are.
    assert "# http://snapshot.debian.org/archive/debian/" in result.text
    assert result.changes == [f"debian.sources:3 http://deb.debian.org/debian -> {MIRROR}"]


def test_debian12_deb822_security_stanza_goes_to_the_security_mirror() -> None:
    text = fixture("apt_sources/debian12_debian.sources.txt")
    result = mod.rewrite(text, mod.DEB822, targets(security_url=SEC_MIRROR))
    assert changed_lines(text, result.text) == [
        ("URIs: http://deb.debian.org/debian\n", f"URIs: {MIRROR}\n"),
        ("URIs: http://deb.debian.org/debian-security\n", f"URIs: {SEC_MIRROR}\n")]


def test_debian11_one_line_keeps_comments_cdrom_and_deb_src_layout() -> None:
    text = fixture("apt_sources/debian11_sources.list.txt")
    result = mod.rewrite(text, mod.ONE_LINE, targets(security_url=SEC_MIRROR))
    pairs = changed_lines(text, result.text)
    assert pairs == [
        ("deb http://deb.debian.org/debian/ bullseye main\n", f"deb {MIRROR} bullseye main\n"),
        ("deb-src http://deb.debian.org/debian/ bullseye main\n",
         f"deb-src {MIRROR} bullseye main\n"),
        ("deb http://security.debian.org/debian-security bullseye-security main\n",
         f"deb {SEC_MIRROR} bullseye-security main\n"),
        ("deb-src http://security.debian.org/debian-security bullseye-security main\n",
         f"deb-src {SEC_MIRROR} bullseye-security main\n"),
        ("deb http://deb.debian.org/debian/ bullseye-updates main\n",
         f"deb {MIRROR} bullseye-updates main\n"),
        ("deb-src http://deb.debian.org/debian/ bullseye-updates main\n",
         f"deb-src {MIRROR} bullseye-updates main\n")]


def test_ubuntu2204_one_line_leaves_commented_entries_alone() -> None:
    text = fixture("apt_sources/ubuntu2204_sources.list.txt")
    result = mod.rewrite(text, mod.ONE_LINE, targets())
    pairs = changed_lines(text, result.text)
    # Seven deb lines at archive.ubuntu.com; the # deb-src lines and security stay.
    assert len(pairs) == 7
    assert all(old.startswith("deb http://archive.ubuntu.com/ubuntu/ jammy") for old, _ in pairs)
    assert all(new.startswith(f"deb {MIRROR} jammy") for _, new in pairs)
    assert "# deb-src http://archive.ubuntu.com/ubuntu/ jammy main restricted" in result.text
    assert result.text.count("deb http://security.ubuntu.com/ubuntu/ jammy-security") == 3


def test_ubuntu2404_deb822_both_stanzas() -> None:
    text = fixture("apt_sources/ubuntu2404_ubuntu.sources.txt")
    result = mod.rewrite(text, mod.DEB822, targets(security_url=SEC_MIRROR))
    assert changed_lines(text, result.text) == [
        ("URIs: http://archive.ubuntu.com/ubuntu/\n", f"URIs: {MIRROR}\n"),
        ("URIs: http://security.ubuntu.com/ubuntu/\n", f"URIs: {SEC_MIRROR}\n")]
    # The commented help text mentions "URIs:" too; it is not a field.
    assert "## URIs: A URL to the repository" in result.text


@pytest.mark.parametrize(("name", "kind"), [
    ("debian12_debian.sources.txt", "deb822"), ("debian11_sources.list.txt", "one-line"),
    ("ubuntu2204_sources.list.txt", "one-line"), ("ubuntu2404_ubuntu.sources.txt", "deb822")])
def test_a_second_rewrite_changes_nothing(name: str, kind: str) -> None:
    first = mod.rewrite(fixture(f"apt_sources/{name}"), kind, targets(security_url=SEC_MIRROR))
    assert first.changes
    again = mod.rewrite(first.text, kind, targets(security_url=SEC_MIRROR))
    assert again.changes == [] and again.text == first.text


THIRD_PARTY_LIST = (
    "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] "
    "https://download.docker.com/linux/ubuntu noble stable\n"
    "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] "
    "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n"
    "deb https://repo.download.nvidia.com/jetson/common r36.4 main\n")
THIRD_PARTY_SOURCES = (
    "Types: deb\nURIs: https://download.docker.com/linux/debian\nSuites: bookworm\n"
    "Components: stable\nSigned-By: /etc/apt/keyrings/docker.asc\n")


@pytest.mark.parametrize(("text", "kind"), [(THIRD_PARTY_LIST, "one-line"),
                                            (THIRD_PARTY_SOURCES, "deb822")])
def test_third_party_repositories_are_never_touched(text: str, kind: str) -> None:
    result = mod.rewrite(text, kind, targets(security_url=SEC_MIRROR))
    assert result.text == text and result.changes == []


def test_options_with_spaces_and_a_trailing_comment_are_kept() -> None:
    text = ("deb [ arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg ] "
            "https://deb.debian.org/debian bookworm main # the archive\n")
    result = mod.rewrite(text, mod.ONE_LINE, targets())
    assert result.text == text.replace("https://deb.debian.org/debian", MIRROR)


def test_disabled_and_commented_stanzas_are_left_alone() -> None:
    text = ("Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\n"
            "Enabled: no\n\n# Types: deb\n# URIs: http://deb.debian.org/debian\n"
            "# Suites: trixie\n")
    assert mod.rewrite(text, mod.DEB822, targets()).text == text


def test_country_mirrors_and_folded_uris() -> None:
    text = ("Types: deb\nURIs: http://nz.archive.ubuntu.com/ubuntu/\n"
            " https://download.example.org/extra\nSuites: noble noble-updates\n"
            "Components: main\n")
    result = mod.rewrite(text, mod.DEB822, targets())
    assert result.text == text.replace("http://nz.archive.ubuntu.com/ubuntu/", MIRROR)


def test_an_earlier_mirror_is_replaced_by_a_new_one() -> None:
    text = f"deb {MIRROR}/ bookworm main\ndeb http://other.example.org/debian bookworm main\n"
    new = "https://new.example.net/debian"
    assert mod.rewrite(text, mod.ONE_LINE, targets(new)).changes == []
    result = mod.rewrite(text, mod.ONE_LINE, targets(new, previous_archive=(MIRROR,)))
    assert result.text == f"deb {new} bookworm main\n" \
        "deb http://other.example.org/debian bookworm main\n"


def test_the_same_url_with_a_trailing_slash_is_no_change() -> None:
    text = f"deb {MIRROR}/ bookworm main\n"
    assert mod.rewrite(text, mod.ONE_LINE, targets(previous_archive=(MIRROR,))).changes == []
    assert mod.same_url("file:///srv/m/debian/", "file:/srv/m/debian")


def test_a_stanza_mixing_security_and_other_suites_is_refused() -> None:
    text = ("Types: deb\nURIs: http://ports.ubuntu.com/ubuntu-ports/\n"
            "Suites: noble noble-updates noble-security\nComponents: main\n")
    with pytest.raises(mod.MirrorError, match="split it"):
        mod.rewrite(text, mod.DEB822, targets(security_url=SEC_MIRROR))


def test_update_problems_with_an_unreachable_mirror_exit_0() -> None:
    output = fixture("apt_sources/update_refused_http.txt")
    mine, other = mod.update_problems(output, ["http://127.0.0.1:9/debian", ""])
    # bookworm and bookworm-updates, as Err: (with the reason) and as W: Failed to fetch.
    assert len(mine) == 4, mine
    assert "Connection refused" in mine[0]
    assert not any("debian-security" in line for line in mine)
    assert other[-1].startswith("W: Some index files failed")


def test_update_problems_with_a_file_mirror_in_apt_s_spelling() -> None:
    output = fixture("apt_sources/update_missing_file_mirror.txt")
    mine, _ = mod.update_problems(
        output, ["file:///nonexistent/debian", "file:///nonexistent/debian-security/"])
    assert len(mine) == 6 and all("nonexistent" in line for line in mine)
    mine, other = mod.update_problems(output, ["file:///elsewhere/debian"])
    assert mine == [] and len(other) == 6


# apply(): a scratch /etc/apt with a one-line file, a deb822 file and a third-party file.
def make_apt(root: Path) -> Path:
    apt = root / "etc/apt"
    (apt / "sources.list.d").mkdir(parents=True)
    (apt / "sources.list").write_text(fixture("apt_sources/debian11_sources.list.txt"))
    (apt / "sources.list.d/debian.sources").write_text(
        fixture("apt_sources/debian12_debian.sources.txt"))
    (apt / "sources.list.d/docker.list").write_text(THIRD_PARTY_LIST)
    (apt / "sources.list.d/notes.txt").write_text("deb http://deb.debian.org/debian x main\n")
    return apt


def params(root: Path, url: str = MIRROR) -> dict[str, object]:
    return {"url": url, "security_url": SEC_MIRROR, "archive_locations": ARCHIVE,
            "security_locations": SECURITY, "apt_dir": str(root / "etc/apt"),
            "state_dir": str(root / "state"), "update": True}


def snapshot(apt: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(apt.rglob("*")) if p.is_file()}


class FakeApt:
    """apt-get update as a callable: the outputs to give, and the calls it got."""

    def __init__(self, *outputs: tuple[int, str, str]) -> None:
        self.outputs = list(outputs)
        self.calls: list[list[str]] = []

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(argv)
        return self.outputs.pop(0)


def test_apply_rewrites_backs_up_updates_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    apt = make_apt(tmp_path)
    before = snapshot(apt)
    apt_get = FakeApt((0, "Hit:1 http://mirror.example.net/os bookworm InRelease\n", ""))
    result = mod.apply(params(tmp_path), False, apt_get)
    assert result["changed"] and apt_get.calls == [["apt-get", "update"]]
    assert result["changed_files"] == [str(apt / "sources.list"),
                                       str(apt / "sources.list.d/debian.sources")]
    assert (apt / "sources.list.d/docker.list").read_text() == THIRD_PARTY_LIST
    assert (apt / "sources.list.d/notes.txt").read_bytes() == before[
        str(apt / "sources.list.d/notes.txt")]
    backups = sorted(Path(p).read_bytes() for p in result["backups"])
    assert backups == sorted([before[str(apt / "sources.list")],
                              before[str(apt / "sources.list.d/debian.sources")]])
    state = json.loads((tmp_path / "state/state.json").read_text())
    assert state == {"archive": [MIRROR], "security": [SEC_MIRROR]}
    first_count = result["os_entries"]
    assert first_count >= 2
    again = FakeApt()
    rerun = mod.apply(params(tmp_path), False, again)
    assert rerun["changed"] is False and again.calls == []
    assert rerun["os_entries"] == first_count, "entries already at the mirror count too"


def test_apply_counts_no_os_entry_when_nothing_matches(tmp_path: Path) -> None:
    """A cloud image's mirror+file:// URIs, or a mirror set by hand: no entry matched."""
    apt = tmp_path / "etc/apt"
    (apt / "sources.list.d").mkdir(parents=True)
    (apt / "sources.list.d/debian.sources").write_text(
        "Types: deb\nURIs: mirror+file:///etc/apt/mirrors/debian.list\nSuites: bookworm\n"
        "Components: main\n")
    (apt / "sources.list").write_text("deb http://mirror.kakao.com/debian bookworm main\n")
    result = mod.apply(params(tmp_path), False, FakeApt())
    assert result["changed"] is False and result["os_entries"] == 0


def test_apply_in_check_mode_writes_nothing(tmp_path: Path) -> None:
    apt = make_apt(tmp_path)
    before = snapshot(apt)
    result = mod.apply(params(tmp_path), True, FakeApt())
    assert result["changed"] and len(result["diff"]) == 2
    assert snapshot(apt) == before and not (tmp_path / "state").exists()


@pytest.mark.parametrize(("rc", "output"), [
    (0, "update_refused_http.txt"), (100, "update_missing_file_mirror.txt")])
def test_apply_restores_the_sources_byte_for_byte_when_the_update_fails(
        tmp_path: Path, rc: int, output: str) -> None:
    url = ("http://127.0.0.1:9/debian" if rc == 0 else "file:///nonexistent/debian")
    apt = make_apt(tmp_path)
    before = snapshot(apt)
    apt_get = FakeApt((rc, fixture(f"apt_sources/{output}"), ""), (0, "Hit:1 ...\n", ""))
    with pytest.raises(mod.MirrorError) as refused:
        mod.apply(params(tmp_path, url), False, apt_get)
    message = str(refused.value)
    assert f"apt update through the mirror {url}" in message
    assert "The previous sources were restored" in message
    assert "apt update on them worked" in message
    assert snapshot(apt) == before
    assert apt_get.calls == [["apt-get", "update"], ["apt-get", "update"]]


def test_apply_fails_on_a_nonzero_exit_that_names_no_source(tmp_path: Path) -> None:
    apt = make_apt(tmp_path)
    before = snapshot(apt)
    apt_get = FakeApt((100, "", "E: Could not get lock /var/lib/apt/lists/lock."),
                      (100, "", "E: Could not get lock /var/lib/apt/lists/lock."))
    with pytest.raises(mod.MirrorError, match=r"exited 100.*Could not get lock"):
        mod.apply(params(tmp_path), False, apt_get)
    assert snapshot(apt) == before


def test_apply_keeps_the_mirror_when_only_a_third_party_source_fails(tmp_path: Path) -> None:
    apt = make_apt(tmp_path)
    warning = ("W: Failed to fetch https://download.docker.com/linux/ubuntu/dists/noble/InRelease"
               "  Could not resolve 'download.docker.com'")
    result = mod.apply(params(tmp_path), False, FakeApt((0, warning + "\n", "")))
    assert result["changed"] and result["update_warnings"] == [warning]
    assert MIRROR in (apt / "sources.list").read_text()
