#!/usr/bin/env bash
# Builds deploy/Dockerfile (Debian 12, scripts/setup.sh, make build) and runs
# `vigil --help` in the image. Only where docker exists: elsewhere it says
# SKIPPED and exits 77 (ctest reports it as skipped, not passed).
# Usage: docker_build_test.sh REPO_DIR
set -euo pipefail
repo=$1
if ! command -v docker >/dev/null 2>&1; then
  echo "SKIPPED: docker is not installed on this machine; deploy/Dockerfile was not built"
  exit 77
fi
if ! docker info >/dev/null 2>&1; then
  echo "SKIPPED: docker is installed but its daemon does not answer; deploy/Dockerfile was not built"
  exit 77
fi
tag=vigil-docker-test:$$
trap 'docker rmi -f "$tag" >/dev/null 2>&1 || true' EXIT
docker build -f "$repo/deploy/Dockerfile" -t "$tag" "$repo"
docker run --rm "$tag" /opt/vigil/build/vigil --help
echo "ok: deploy/Dockerfile builds and its vigil runs"
