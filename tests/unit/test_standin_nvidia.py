"""Unit tests of the LOCAL STAND-IN for NVIDIA's nvidia-ctk
(molecule/shared/standins/nvidia/files/nvidia_ctk_standin.py; not NVIDIA's tool).

The stand-in is installed as /usr/bin/nvidia-ctk by the stand-in toolkit packages in test
hosts, where molecule/shared/standins/checks (docker_engine_script's side effect) proves the
packages, the repository and the --gpus hook. These tests pin down the logic a role relies
on: `config --set` on config.toml (typed values, the key's own table, commented defaults,
unknown keys refused like upstream), `cdi generate` only with the stand-in driver flag, and
`cdi list` reading back the spec.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from module_loader import load_file

SCRIPT = (
    Path(__file__).resolve().parents[2]
    / "molecule/shared/standins/nvidia/files/nvidia_ctk_standin.py"
)



ctk = load_file("nvidia_ctk_standin", SCRIPT)


def run(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The stand-in as a program, the way packages and roles call it."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=30,
        check=False, env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


def section(text: str, table: str) -> list[str]:
    """The lines of one TOML table's body."""
    lines = text.splitlines()
    start = lines.index(f"[{table}]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    return lines[start:end]


# ---- config -------------------------------------------------------------------------------


def test_in_place_without_a_file_writes_the_defaults(tmp_path: Path) -> None:
    config = tmp_path / "nvidia-container-runtime" / "config.toml"
    result = run("--quiet", "config", f"--config-file={config}", "--in-place")
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert text == ctk.DEFAULT_CONFIG
    assert 'mode = "auto"' in section(text, "nvidia-container-runtime")


def test_bare_bool_key_means_true_and_replaces_the_commented_default(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(ctk.DEFAULT_CONFIG)
    result = run("config", "--config-file", str(config), "--in-place",
                 "--set", "nvidia-container-cli.no-cgroups")
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert "no-cgroups = true" in section(text, "nvidia-container-cli")
    assert "#no-cgroups = false" not in text
    # Only that line changed.
    assert len(text.splitlines()) == len(ctk.DEFAULT_CONFIG.splitlines())


@pytest.mark.parametrize(
    ("flag", "table", "line"),
    [
        ("nvidia-container-cli.no-cgroups=false", "nvidia-container-cli", "no-cgroups = false"),
        ("nvidia-container-runtime.mode=legacy", "nvidia-container-runtime", 'mode = "legacy"'),
        ("nvidia-container-runtime.runtimes=crun:runc", "nvidia-container-runtime",
         'runtimes = ["crun", "runc"]'),
        ("nvidia-container-runtime.modes.cdi.spec-dirs=/etc/cdi,/run/cdi",
         "nvidia-container-runtime.modes.cdi", 'spec-dirs = ["/etc/cdi", "/run/cdi"]'),
        ("nvidia-container-runtime-hook.skip-mode-detection=true",
         "nvidia-container-runtime-hook", "skip-mode-detection = true"),
    ],
)
def test_set_writes_the_typed_value_in_the_keys_table(flag: str, table: str, line: str) -> None:
    key, value = ctk.render_value(flag)
    text = ctk.set_key(ctk.DEFAULT_CONFIG, key, value)
    assert line in section(text, table)
    assert text.count(line) == 1


def test_top_level_key_stays_before_the_first_table() -> None:
    key, value = ctk.render_value("accept-nvidia-visible-devices-as-volume-mounts=true")
    text = ctk.set_key(ctk.DEFAULT_CONFIG, key, value)
    lines = text.splitlines()
    assert lines.index("accept-nvidia-visible-devices-as-volume-mounts = true") < lines.index(
        "[nvidia-container-cli]"
    )


def test_missing_table_is_added_at_the_end() -> None:
    key, value = ctk.render_value("features.disable-imex-channel-creation=true")
    text = ctk.set_key(ctk.DEFAULT_CONFIG, key, value)
    assert text.endswith("[features]\ndisable-imex-channel-creation = true\n")


def test_missing_key_goes_into_its_table_not_the_next() -> None:
    text = "[nvidia-container-cli]\nload-kmods = true\n\n[nvidia-ctk]\npath = \"nvidia-ctk\"\n"
    key, value = ctk.render_value("nvidia-container-cli.user=root:video")
    changed = ctk.set_key(text, key, value)
    assert section(changed, "nvidia-container-cli") == [
        "load-kmods = true", 'user = "root:video"', ""
    ]
    assert section(changed, "nvidia-ctk") == ['path = "nvidia-ctk"']


def test_setting_the_same_value_twice_changes_nothing() -> None:
    key, value = ctk.render_value("nvidia-container-cli.no-cgroups=true")
    once = ctk.set_key(ctk.DEFAULT_CONFIG, key, value)
    assert ctk.set_key(once, key, value) == once


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("nvidia-container-cli.no-such-key=1", "invalid config option: undefined field"),
        ("no-such-table.key=1", "invalid config option: undefined field"),
        ("nvidia-container-runtime.mode", "expected key=value"),
        ("nvidia-container-cli.no-cgroups=maybe", "invalid syntax"),
    ],
)
def test_bad_set_is_refused_and_the_file_is_untouched(
    tmp_path: Path, flag: str, message: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(ctk.DEFAULT_CONFIG)
    result = run("config", f"--config-file={config}", "--in-place", "--set", flag)
    assert result.returncode == 1
    assert "ERRO[0000] invalid --set option" in result.stderr
    assert message in result.stderr
    assert config.read_text() == ctk.DEFAULT_CONFIG


def test_without_in_place_the_config_goes_to_stdout(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    result = run("config", f"--config-file={config}", "--set", "nvidia-container-runtime.mode=cdi")
    assert result.returncode == 0, result.stderr
    assert 'mode = "cdi"' in result.stdout
    assert not config.exists()


# ---- cdi ----------------------------------------------------------------------------------


def test_cdi_generate_without_the_driver_fails_like_upstream(tmp_path: Path) -> None:
    output = tmp_path / "cdi" / "nvidia.yaml"
    result = run("cdi", "generate", f"--output={output}",
                 env={ctk.DRIVER_FLAG_ENV: str(tmp_path / "no-driver")})
    assert result.returncode == 1
    assert "failed to initialize NVML: ERROR_LIBRARY_NOT_FOUND" in result.stderr
    assert not output.exists()


def test_cdi_generate_then_list_with_the_driver(tmp_path: Path) -> None:
    flag = tmp_path / "driver-loaded"
    flag.touch()
    spec_dir = tmp_path / "cdi"
    generated = run("cdi", "generate", f"--output={spec_dir / 'nvidia.yaml'}",
                    env={ctk.DRIVER_FLAG_ENV: str(flag)})
    assert generated.returncode == 0, generated.stderr
    listed = run("cdi", "list", f"--spec-dir={spec_dir}")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["nvidia.com/gpu=0", "nvidia.com/gpu=all"]
    assert "Found 2 CDI devices" in listed.stderr


def test_cdi_generate_reads_the_refresh_units_output_variable(tmp_path: Path) -> None:
    flag = tmp_path / "driver-loaded"
    flag.touch()
    output = tmp_path / "run-cdi" / "nvidia.json"
    result = run("cdi", "generate", env={ctk.DRIVER_FLAG_ENV: str(flag),
                                         ctk.CDI_OUTPUT_ENV: str(output)})
    assert result.returncode == 0, result.stderr
    spec = json.loads(output.read_text())
    assert spec["kind"] == "nvidia.com/gpu"
    assert [d["name"] for d in spec["devices"]] == ["0", "all"]


def test_yaml_spec_lists_the_same_devices_as_the_json_one() -> None:
    spec = ctk.cdi_spec()
    assert ctk.devices_in(ctk.spec_yaml(spec), json_file=False) == ctk.devices_in(
        json.dumps(spec), json_file=True
    )


def test_cdi_list_ignores_files_that_are_not_specs(tmp_path: Path) -> None:
    (tmp_path / "notes.yaml").write_text("hello: world\n")
    (tmp_path / "broken.json").write_text("{not json")
    result = run("cdi", "list", f"--spec-dir={tmp_path}")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "Found 0 CDI devices" in result.stderr


# ---- the rest -----------------------------------------------------------------------------


def test_version_names_the_toolkit_cli() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == f"NVIDIA Container Toolkit CLI version {ctk.VERSION}"


@pytest.mark.parametrize("args", [["runtime", "configure", "--runtime=docker"], ["cdi"], ["hook"]])
def test_what_the_stand_in_does_not_implement_fails_clearly(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert "not implemented by the gpuhost stand-in" in result.stderr
