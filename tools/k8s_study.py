"""The study on Kubernetes: one consistent set of manifests, written from a few values.

    python -m tools.k8s_study --repo-url URL --commit SHA [--shares 8] [--cpus 2] [--image IMAGE] [--venv PATH]
                              [--storage 20Gi] [--storage-class NAME] > lr-sweep.yaml
    kubectl apply -f lr-sweep.yaml

The set (tools/cluster/k8s_study.yaml is it with example values; a test validates both against Kubernetes'
schemas):
- a PersistentVolumeClaim `lr-sweep-store` (ReadWriteMany): the DVC remote every pod pushes to and pulls from,
  and the assembled study;
- a Job `lr-sweep-prepare`: MNIST downloaded once (`make prepare`) and pushed to that remote, for every pod to pull;
- an Indexed Job `lr-sweep-shards` (completions = parallelism = shares, all from --shares): pod i trains share
  i+1 and pushes each run as it finishes, so a restarted pod resumes where it stopped (it pulls what it pushed);
- a Job `lr-sweep-assemble`: restores every run from the remote, trains none, and writes the study (REPORT.md,
  metrics/, plots/) to the volume's results/<commit>/.
Jobs in Kubernetes have no order of their own: each pod waits for a marker file on the volume (prepared, then one
per finished share). Requests equal limits, so `JOBS=auto` (one worker per CPU of the pod's cgroup quota) starts
--cpus workers, each with about 1.5 GiB. The image needs git, make and Python 3.11 with venv; with --venv it
must hold that environment, built with `make setup VENV=...` (else every pod builds .venv from PyPI).
"""

import argparse
import re
import sys

import yaml

STORE = "/store"  # where the volume is mounted in every pod
REMOTE = f"{STORE}/dvc-remote"
MEMORY_PER_CPU_MI = 1536  # a worker holds about 0.75 GB; twice that leaves room for DVC and the data
WAIT_S = 30


def _shell(*lines: str) -> list[str]:
    return ["bash", "-euo", "pipefail", "-c", "\n".join(lines)]


def _checkout() -> list[str]:
    return ['git clone --quiet "$REPO_URL" /work && cd /work && git checkout --quiet "$COMMIT"',
            'dvc() { "${VENV:-/work/.venv}/bin/dvc" "$@"; }',
            'make setup ${VENV:+VENV="$VENV"}',
            f'dvc remote add --local --force --default store {REMOTE}  # the volume, not the committed remote']


def _wait_for(condition: str, what: str) -> str:
    return f'until {condition}; do echo "waiting for {what}"; sleep {WAIT_S}; done'


def _pod(name: str, image: str, env: list[dict], script: list[str], cpus: int, restart: str) -> dict:
    memory = f"{cpus * MEMORY_PER_CPU_MI}Mi"
    resources = {"cpu": str(cpus), "memory": memory}
    return {
        "metadata": {"labels": {"app": "lr-sweep", "part": name}},
        "spec": {
            "restartPolicy": restart,
            "containers": [{
                "name": name,
                "image": image,
                "env": env,
                "command": _shell(*script),
                "resources": {"requests": resources, "limits": resources},
                "volumeMounts": [{"name": "store", "mountPath": STORE}],
            }],
            "volumes": [{"name": "store", "persistentVolumeClaim": {"claimName": "lr-sweep-store"}}],
        },
    }


def manifests(repo_url: str, commit: str, shares: int, cpus: int, image: str, venv: str | None, storage: str,
              storage_class: str | None) -> list[dict]:
    env = [{"name": "REPO_URL", "value": repo_url}, {"name": "COMMIT", "value": commit},
           {"name": "SHARES", "value": str(shares)}]
    if venv:
        env.append({"name": "VENV", "value": venv})
    marks = f"{STORE}/marks/$COMMIT"
    claim = {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "lr-sweep-store", "labels": {"app": "lr-sweep"}},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": storage}}},
    }
    if storage_class:
        claim["spec"]["storageClassName"] = storage_class
    prepare = _pod("prepare", image, env, [*_checkout(), "make prepare ${VENV:+VENV=\"$VENV\"}",
                                    f'mkdir -p "{marks}" && touch "{marks}/prepared"'], cpus, "OnFailure")
    shard = _pod("shard", image, env, [
        _wait_for(f'[ -e "{marks}/prepared" ]', "lr-sweep-prepare"), *_checkout(),
        'share=$((JOB_COMPLETION_INDEX + 1))',
        'make shard SHARD="$share/$SHARES" ${VENV:+VENV="$VENV"}',
        f'touch "{marks}/share-$share.done"'], cpus, "OnFailure")
    assemble = _pod("assemble", image, env, [
        _wait_for(f'[ "$(ls "{marks}" 2>/dev/null | grep -c "^share-.*\\.done$")" -ge "$SHARES" ]',
                  "every share (lr-sweep-shards)"), *_checkout(),
        'make run ${VENV:+VENV="$VENV"}',
        f'results="{STORE}/results/$COMMIT" && rm -rf "$results" && mkdir -p "$results"',
        'cp -r REPORT.md dvc.lock metrics plots "$results"/ && echo "the study is in $results"'], cpus, "OnFailure")

    def job(name: str, pod: dict, **spec) -> dict:
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "labels": {"app": "lr-sweep"}},
                "spec": {**spec, "template": pod}}

    documents = [claim, job("lr-sweep-prepare", prepare, backoffLimit=3),
                 job("lr-sweep-shards", shard, completionMode="Indexed", completions=shares, parallelism=shares,
                     backoffLimit=3 * shares),
                 job("lr-sweep-assemble", assemble, backoffLimit=3)]
    return documents


class _Dumper(yaml.SafeDumper):
    """Readable YAML: each pod's script as a literal block, no anchors."""

    def ignore_aliases(self, data) -> bool:
        return True


_Dumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def render(documents: list[dict], header: str) -> str:
    return header + yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, width=120)


QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo-url", required=True, help="git URL every pod can clone")
    parser.add_argument("--commit", required=True, help="the commit every pod checks out (push it first)")
    parser.add_argument("--shares", type=int, default=8, help="pods that train, one share each (default 8)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of each pod: its workers (default 2)")
    parser.add_argument("--image", default="python:3.11-bookworm", help="container image (git, make, Python 3.11)")
    parser.add_argument("--venv", help="a prebuilt environment inside the image (make setup VENV=...)")
    parser.add_argument("--storage", default="20Gi", help="size of the shared volume (default 20Gi)")
    parser.add_argument("--storage-class", help="a StorageClass that offers ReadWriteMany (NFS, CephFS, EFS, ...)")
    args = parser.parse_args(argv)
    if not 1 <= args.shares <= 1000 or not 1 <= args.cpus <= 256:
        parser.error("--shares must be 1 to 1000 and --cpus 1 to 256")
    if not QUANTITY.fullmatch(args.storage):
        parser.error(f"--storage must be a Kubernetes quantity such as 20Gi, got {args.storage!r}")
    documents = manifests(args.repo_url, args.commit, args.shares, args.cpus, args.image, args.venv, args.storage,
                          args.storage_class)
    command = " ".join(["python -m tools.k8s_study", *(argv if argv is not None else sys.argv[1:])])
    sys.stdout.write(render(documents, f"# written by: {command}\n# kubectl apply -f this file; see tools/k8s_study.py\n"))


if __name__ == "__main__":
    main()
