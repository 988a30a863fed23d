"""Molecule's SSH platforms run with the project's ssh settings and check host keys.

Molecule writes its own ansible.cfg for a scenario, so the project's `[ssh_connection]`
settings are repeated in .config/molecule/config.yml; these tests keep the two equal, and keep
host key checking on (molecule's defaults turn it off).
"""

from __future__ import annotations

import configparser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def project_cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "ansible.cfg")
    return cfg


def molecule_cfg() -> dict:
    return yaml.safe_load((ROOT / ".config" / "molecule" / "config.yml").read_text())


def test_ssh_connection_settings_match_ansible_cfg() -> None:
    cfg = project_cfg()
    options = molecule_cfg()["provisioner"]["config_options"]
    assert str(options["ssh_connection"]["pipelining"]).lower() == cfg.get(
        "ssh_connection", "pipelining").lower()
    assert options["ssh_connection"]["ssh_args"] == cfg.get("ssh_connection", "ssh_args")
    assert "ControlPersist" in cfg.get("ssh_connection", "ssh_args")


def test_host_keys_are_checked() -> None:
    cfg = project_cfg()
    assert cfg.get("defaults", "host_key_checking", fallback="true").lower() in ("true", "yes", "1")
    molecule = molecule_cfg()
    assert molecule["provisioner"]["config_options"]["defaults"]["host_key_checking"] is True
    ssh_options = " ".join(molecule["driver"]["ssh_connection_options"])
    assert "StrictHostKeyChecking=yes" in ssh_options
    assert "UserKnownHostsFile=${TESTHOST_SSH_KNOWN_HOSTS}" in ssh_options
    assert "/dev/null" not in ssh_options
