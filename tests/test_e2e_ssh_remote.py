"""README's SSH remote, for real: an OpenSSH server on 127.0.0.1, DVC's ssh back-end (`make setup REMOTES=ssh`), a
tiny study prepared once, trained in two shares on two clones and assembled on a third that trains nothing.

sshd is installed with apt where this runs as root with apt (as CI does); elsewhere the test skips and says why."""

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.pipeline import BIN, apt_install, clone, commit, dvc, free_port, make_repo, run, set_params, tiny


SSHD = "/usr/sbin/sshd"
TINY = tiny(**{"data.train_size": 100, "data.valid_size": 100, "train.max_epochs": 1, "sweep.lrs": [0.001, 0.01],
               "lr_find.steps": 10})


@pytest.fixture(scope="module")
def ssh_home(tmp_path_factory):
    """An sshd on a free loopback port that lets this user in with a key; a HOME whose ~/.ssh knows both."""
    why_not = apt_install(["openssh-server"], Path(SSHD).exists)
    if why_not:
        pytest.skip(why_not)
    try:
        import dvc_ssh  # noqa: F401
    except ImportError:
        pytest.skip("DVC's ssh back-end is not installed: make setup REMOTES=ssh (make test installs it)")
    base = tmp_path_factory.mktemp("ssh")
    home, server = base / "home", base / "server"
    (home / ".ssh").mkdir(parents=True)
    server.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(server / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / ".ssh/id_ed25519")], check=True)
    shutil.copy(home / ".ssh/id_ed25519.pub", server / "authorized_keys")
    port = free_port()
    (server / "sshd_config").write_text(f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {server}/host_key
AuthorizedKeysFile {server}/authorized_keys
PidFile {server}/sshd.pid
Subsystem sftp internal-sftp
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
""")
    Path("/run/sshd").mkdir(exist_ok=True)  # the privilege separation folder sshd insists on
    daemon = subprocess.Popen([SSHD, "-D", "-e", "-f", str(server / "sshd_config")], stderr=subprocess.PIPE, text=True)
    host_key = (server / "host_key.pub").read_text().split()[:2]
    (home / ".ssh/known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_key)}\n")
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if daemon.poll() is not None:
                pytest.skip(f"sshd did not start: {daemon.stderr.read()[-300:]}")
            time.sleep(0.2)
    try:
        yield {"HOME": str(home), "port": port, "user": os.environ.get("USER") or subprocess.getoutput("id -un")}
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


def runner(repo: Path, home: dict, *args: str) -> subprocess.CompletedProcess:
    return run(repo, str(BIN / "python"), "-m", "tools.run_study", *args, extra_env={"HOME": home["HOME"]})


def test_prepare_shards_and_assembly_through_an_ssh_remote(ssh_home, tmp_path):
    origin = make_repo(tmp_path / "origin")
    set_params(origin, **TINY)
    remote = tmp_path / "on-the-server"
    # README's example, with this machine as the server
    dvc(origin, "remote", "add", "-d", "shared", f"ssh://{ssh_home['user']}@127.0.0.1:{ssh_home['port']}{remote}")
    commit(origin, "tiny sweep, SSH remote")
    prepared = runner(origin, ssh_home, "--prepare")
    assert "prepared: the shares will pull MNIST from 'shared'" in prepared.stderr
    assert (remote / "files/md5").is_dir()  # MNIST is on the server

    trained = set()
    for share in (1, 2):
        worker = clone(origin, tmp_path / f"worker{share}")
        shutil.rmtree(worker / "data/manual")  # a node without MNIST and without internet: it must pull it
        result = runner(worker, ssh_home, "--jobs", "2", "--shard", f"{share}/2", "--push")
        assert "Running stage 'download'" not in result.stdout, result.stdout
        trained |= set(re.findall(r"Running stage '(train@[^']+)'", "\n".join(
            p.read_text() for p in (worker / ".dvc/tmp/run_study").glob("train_*.log"))))
    assert len(trained) == 4

    final = clone(origin, tmp_path / "final")
    assembled = runner(final, ssh_home, "--jobs", "2")
    assert "4 restored from the DVC remote or the run-cache, 0 trained here" in assembled.stderr
    assert "up to date" in dvc(final, "status").stdout
