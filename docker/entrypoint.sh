#!/usr/bin/env bash
# Build (or reuse) the TensorRT plan for this GPU and TensorRT, then run tritonserver.
# Extra arguments go to tritonserver, e.g. --log-verbose=1.
set -euo pipefail
repository="${SKYSEG_REPOSITORY:-/models}"
plans="${SKYSEG_PLAN_CACHE:-/plans}"
skyseg build-plan --repository "${repository}" --cache "${plans}"
exec tritonserver --model-repository="${repository}" --model-control-mode=none "$@"
