#!/usr/bin/env bash
# The study on a SLURM cluster, from a clone of the project on the login node (README "On a SLURM cluster"):
#
#   tools/cluster/slurm_submit.sh SHARES [sbatch options for the shares, e.g. -c 16 -p long]
#
# 1. make prepare, here: MNIST downloaded once and pushed to the default DVC remote, so that the nodes pull it
#    (they need no internet; each makes the split itself, in seconds);
# 2. a job array of SHARES tasks: task i trains share i/SHARES and pushes each run as it finishes
#    (tools/cluster/slurm_shard.sbatch);
# 3. a job that starts once every task has ended well and assembles the study (tools/cluster/slurm_assemble.sbatch).
# Variables: REPO_URL (default: this clone's `origin`; every node must reach it, and it must hold this commit),
# VENV (a prebuilt environment every node can read: `make setup VENV=/shared/lr-sweep-venv` once), LOG_DIR
# (default: ./cluster-logs), RESULTS_DIR (where the assembled study goes; default ~/lr-sweep-results-<job id>).
set -euo pipefail
usage="usage: tools/cluster/slurm_submit.sh SHARES [sbatch options]"
shares=${1:?$usage}
shift
[[ $shares =~ ^[1-9][0-9]*$ ]] || { echo "slurm_submit: SHARES must be a whole number from 1, got '$shares'; $usage" >&2; exit 2; }
cd "$(git rev-parse --show-toplevel)"
git diff --quiet HEAD -- || { echo "slurm_submit: commit your changes first: every task checks out one commit" >&2; exit 2; }
REPO_URL=${REPO_URL:-$(git remote get-url origin 2>/dev/null || true)}
[[ -n $REPO_URL ]] || { echo "slurm_submit: set REPO_URL to a git URL every node can reach (no 'origin' here)" >&2; exit 2; }
LOG_DIR=$(realpath -m "${LOG_DIR:-cluster-logs}")
export REPO_URL LOG_DIR COMMIT=$(git rev-parse HEAD) SHARES=$shares
mkdir -p "$LOG_DIR"
make prepare ${VENV:+VENV="$VENV"}
array=$(sbatch --parsable --array=1-"$shares" --output="$LOG_DIR/shard-%A_%a.log" "$@" tools/cluster/slurm_shard.sbatch)
array=${array%%;*}
assemble=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes \
    --output="$LOG_DIR/assemble-%j.log" tools/cluster/slurm_assemble.sbatch)
assemble=${assemble%%;*}
echo "slurm_submit: shares: job array $array (1-$shares); assembly: job $assemble, after every share ended well"
echo "slurm_submit: logs in $LOG_DIR; watch with: squeue -j $array,$assemble"
echo "slurm_submit: a failed share: sbatch --array=<its number> --export=ALL,REPO_URL=$REPO_URL,COMMIT=$COMMIT,SHARES=$shares tools/cluster/slurm_shard.sbatch, then the assembly again"
