"""The Kubernetes set (tools/k8s_study.py) is valid against Kubernetes' own schemas (kubernetes-validate, strict) and
consistent in itself; tools/cluster/k8s_study.yaml is what the generator writes for the command it names."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tools import k8s_study

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = REPO_ROOT / "tools/cluster/k8s_study.yaml"
KUBERNETES = "1.30.0"  # a release still in wide use; the schemas ship with kubernetes-validate


def generate(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "tools.k8s_study", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize("args", [
    ["--shares", "8"],
    ["--shares", "1", "--cpus", "16", "--venv", "/opt/lr-sweep-venv", "--storage-class", "nfs", "--storage", "5Gi"],
])
def test_every_manifest_validates_against_the_kubernetes_schemas(args):
    documents = list(yaml.safe_load_all(generate("--repo-url", "https://example.org/x.git", "--commit", "abc123",
                                                 *args)))
    assert [d["kind"] for d in documents] == ["PersistentVolumeClaim", "Job", "Job", "Job"]
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)  # raises on any error


def test_a_broken_manifest_is_refused_by_the_validator():
    job = k8s_study.manifests("u", "c", 2, 2, "img", None, "1Gi", None)[2]
    job["spec"]["completions"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBERNETES, strict=True)


def test_the_set_is_consistent_shares_resources_volume_and_order():
    claim, prepare, shards, assemble = k8s_study.manifests("https://example.org/x.git", "abc", 5, 3, "img",
                                                          "/opt/venv", "9Gi", None)
    assert shards["spec"]["completionMode"] == "Indexed"
    assert shards["spec"]["completions"] == shards["spec"]["parallelism"] == 5
    for job in (prepare, shards, assemble):
        pod = job["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env == {"REPO_URL": "https://example.org/x.git", "COMMIT": "abc", "SHARES": "5", "VENV": "/opt/venv"}
        # requests = limits: the pod's cgroup quota is its CPUs, which JOBS=auto counts, one worker each
        assert container["resources"]["requests"] == container["resources"]["limits"] == {"cpu": "3",
                                                                                          "memory": "4608Mi"}
        assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        script = container["command"][-1]
        subprocess.run(["bash", "-n", "-c", script], check=True)  # each pod's script is valid bash
        assert "dvc remote add --local --force --default store /store/dvc-remote" in script
    # the order Jobs lack: shards wait for prepare's mark, the assembly for one mark per share
    assert 'touch "/store/marks/$COMMIT/prepared"' in prepare["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    shard_script = shards["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert shard_script.index("/prepared") < shard_script.index("make shard")
    assert 'SHARD="$share/$SHARES"' in shard_script and "share=$((JOB_COMPLETION_INDEX + 1))" in shard_script
    assert '-ge "$SHARES"' in assemble["spec"]["template"]["spec"]["containers"][0]["command"][-1]


def test_the_marks_wait_for_every_share(tmp_path):
    """The assembly's wait, run for real in bash: it waits until every share's mark is there, then goes on."""
    assemble = k8s_study.manifests("u", "c", 3, 1, "img", None, "1Gi", None)[3]
    wait = assemble["spec"]["template"]["spec"]["containers"][0]["command"][-1].splitlines()[0]
    condition = re.fullmatch(r"until (.*); do .*", wait)[1].replace("/store", str(tmp_path))
    check = ["bash", "-c", f"COMMIT=c SHARES=3; {condition}"]
    marks = tmp_path / "marks/c"
    marks.mkdir(parents=True)
    for share in (1, 2):
        (marks / f"share-{share}.done").touch()
        assert subprocess.run(check).returncode != 0
    (marks / "prepared").touch()
    assert subprocess.run(check).returncode != 0  # other marks do not count
    (marks / "share-3.done").touch()
    assert subprocess.run(check).returncode == 0


def test_bad_values_are_refused_with_one_line():
    for args in (["--shares", "0"], ["--cpus", "0"], ["--storage", "lots"]):
        result = subprocess.run([sys.executable, "-m", "tools.k8s_study", "--repo-url", "u", "--commit", "c", *args],
                                cwd=REPO_ROOT, capture_output=True, text=True)
        assert result.returncode == 2 and "error:" in result.stderr and "Traceback" not in result.stderr


def test_the_committed_example_is_the_generators_output():
    command = EXAMPLE.read_text().splitlines()[0].removeprefix("# written by: python -m tools.k8s_study ")
    assert generate(*shlex.split(command)) == EXAMPLE.read_text()
