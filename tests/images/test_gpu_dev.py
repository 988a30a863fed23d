"""docker/gpu-dev: the image template builds, and sshd answers in a container on the test network.

Built against the test-host Docker engine (DOCKER_HOST from `tests/hosts/testhosts.sh env`, or
the local one) from the cached test-host image gpuhost-testhost:debian12 as BASE_IMAGE (no
registry is reachable here); packages come from Debian's archive. Containers run on the test
network (TESTHOST_NETWORK) and are reached only at their own addresses. No GPU is involved:
nvtop is only checked to be installed. Run by `./test.sh images`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = ROOT / "docker" / "gpu-dev"
BASE_IMAGE = os.environ.get("GPU_DEV_BASE_IMAGE",
                            f"{os.environ.get('TESTHOST_IMAGE_REPO', 'gpuhost-testhost')}:debian12")
NETWORK = os.environ.get("TESTHOST_NETWORK", "gpuhost-test")
REPO = "gpuhost-gpu-dev-test"
LABEL = "org.gpuhost.test=images"
TZ = "Asia/Seoul"


def docker(*args: str, check: bool = True, timeout: int = 600,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          check=False, env=env)
    if check and done.returncode != 0:
        pytest.fail(f"docker {' '.join(args)}: rc {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def build_env() -> dict[str, str]:
    """The legacy builder when the buildx plugin is missing (a plain docker.io client)."""
    env = dict(os.environ)
    if subprocess.run(["docker", "buildx", "version"], capture_output=True,
                      check=False).returncode != 0:
        env["DOCKER_BUILDKIT"] = "0"
    return env


def build(target: str, context: Path = CONTEXT, tag: str | None = None) -> str:
    tag = tag or f"{REPO}:{target}"
    docker("build", "--quiet", "--target", target, "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
           "--build-arg", f"TZ={TZ}", "--label", LABEL, "-t", tag, str(context),
           env=build_env())
    return tag


@pytest.fixture(scope="session", autouse=True)
def engine() -> None:
    if shutil.which("docker") is None:
        pytest.fail("no docker client on PATH")
    docker("info", timeout=30)
    docker("image", "inspect", BASE_IMAGE)
    docker("network", "inspect", NETWORK)


@pytest.fixture(scope="session")
def sshd_image() -> str:
    return build("sshd")


@pytest.fixture(scope="session")
def supervisord_image(sshd_image: str) -> str:
    return build("supervisord")


@pytest.fixture(scope="session")
def client_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.fail("the key-login check needs an SSH client here: apt-get install openssh-client")
    key = tmp_path_factory.mktemp("ssh") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


class Container:
    def __init__(self, image: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.name = f"gpu-dev-test-{uuid.uuid4().hex[:8]}"
        flags = [f"--env={k}={v}" for k, v in (env or {}).items()]
        docker("run", "-d", "--name", self.name, "--label", LABEL, "--network", NETWORK,
               *flags, image, *args)
        self.ip = docker("inspect", "-f",
                         f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}',
                         self.name).stdout.strip()

    def exec(self, *argv: str, user: str = "root") -> str:
        return docker("exec", "-u", user, self.name, *argv).stdout

    def remove(self) -> None:
        docker("rm", "-f", self.name, check=False)


@pytest.fixture
def run() -> Iterator[object]:
    started: list[Container] = []

    def start(image: str, *args: str, env: dict[str, str] | None = None) -> Container:
        started.append(Container(image, *args, env=env))
        return started[-1]

    yield start
    for container in started:
        container.remove()


def banner(ip: str, port: int = 22, wait: float = 30.0) -> str:
    """The first line a TCP server at IP:PORT sends, waiting for it to listen."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection((ip, port), timeout=3) as conn:
                return conn.recv(256).decode("ascii", "replace").strip()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def ssh(key: Path, ip: str, command: str, user: str = "dev") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o",
         "LogLevel=ERROR", f"{user}@{ip}", command],
        capture_output=True, text=True, timeout=60, check=False)


def test_sshd_is_the_main_process_and_answers(sshd_image: str, run: object) -> None:
    box = run(sshd_image)
    assert banner(box.ip).startswith("SSH-2.0-OpenSSH_")
    # sshd rewrites its process title ("sshd: /usr/sbin/sshd -D -e [listener] ...").
    assert box.exec("cat", "/proc/1/comm").strip() == "sshd"
    assert "/usr/sbin/sshd -D -e" in box.exec("cat", "/proc/1/cmdline")


def test_key_login_as_the_non_root_user(sshd_image: str, run: object, client_key: Path) -> None:
    public = client_key.with_suffix(".pub").read_text().strip()
    box = run(sshd_image, env={"SSH_AUTHORIZED_KEYS": public})
    banner(box.ip)
    done = ssh(client_key, box.ip, "id -u; id -un; pip --version; date +%Z")
    assert done.returncode == 0, done.stderr
    uid, name, pip, zone = done.stdout.splitlines()
    assert (uid, name, zone) == ("1000", "dev", "KST")
    assert "/opt/venv/" in pip
    # root may not log in, even with the same key in its place.
    assert ssh(client_key, box.ip, "true", user="root").returncode != 0


def test_host_keys_are_made_per_container(sshd_image: str, run: object) -> None:
    assert docker("run", "--rm", "--entrypoint", "sh", sshd_image, "-c",
                  "ls /etc/ssh/ssh_host_* 2>/dev/null | wc -l").stdout.strip() == "0"
    first, second = run(sshd_image), run(sshd_image)
    banner(first.ip), banner(second.ip)
    key = "/etc/ssh/ssh_host_ed25519_key.pub"
    assert first.exec("cat", key) != second.exec("cat", key)


def test_cmd_is_replaceable_and_the_tools_are_there(sshd_image: str) -> None:
    done = docker("run", "--rm", sshd_image, "sh", "-c",
                  "cat /etc/timezone; nvtop --version; test -d /run/sshd && echo prepared")
    assert done.stdout.splitlines() == [TZ, "nvtop version 3.0.1", "prepared"]


def test_run_service_ssh_start_in_a_dockerfile_leaves_no_sshd(
        sshd_image: str, run: object, tmp_path: Path) -> None:
    """The README's claim: a RUN step's processes end with the step; nothing starts sshd."""
    (tmp_path / "Dockerfile").write_text(
        f"FROM {sshd_image}\nRUN service ssh start\nCMD [\"sleep\", \"300\"]\n")
    tag = f"{REPO}:service-start"
    docker("build", "--quiet", "--label", LABEL, "-t", tag, str(tmp_path), env=build_env())
    box = run(tag)
    assert "sshd" not in box.exec("ps", "-eo", "comm")
    with pytest.raises(OSError):
        banner(box.ip, wait=2)


def test_supervisord_runs_sshd_and_a_second_program(supervisord_image: str, run: object) -> None:
    box = run(supervisord_image)
    assert banner(box.ip).startswith("SSH-2.0-OpenSSH_")
    assert "supervisord" in box.exec("cat", "/proc/1/cmdline")
    deadline = time.monotonic() + 20
    while True:
        status = box.exec("supervisorctl", "status")
        lines = {line.split()[0]: line.split()[1] for line in status.splitlines()}
        if lines == {"http": "RUNNING", "sshd": "RUNNING"} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert lines == {"http": "RUNNING", "sshd": "RUNNING"}, status
    with socket.create_connection((box.ip, 8000), timeout=5) as conn:
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert conn.recv(64).startswith(b"HTTP/1.0 200")
    # The open port serves an empty public folder, never the home with its keys.
    with socket.create_connection((box.ip, 8000), timeout=5) as conn:
        conn.sendall(b"GET /.ssh/ HTTP/1.0\r\n\r\n")
        assert conn.recv(64).startswith(b"HTTP/1.0 404")
    owners = [line.split()[0] for line in box.exec("ps", "-eo", "user:16,args").splitlines()
              if "http.server" in line]
    assert owners == ["dev"]
