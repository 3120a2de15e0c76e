#!/usr/bin/env bash
# The GPU recipe on a leased GPU machine, from the repository root, with the .device/ folder that
# `skyseg device-bundle` wrote carried along. That machine has PyTorch, NumPy and OpenCV but no
# OpenMMLab and no registry: the carried wheels and this project are installed offline into a
# target folder, then training runs for at most SECONDS (default 480, inside a 10-minute call) and
# resumes from work_dirs/gpu on the next call while the machine is warm. Results go to $OUT
# (the inference checkpoint, train.log, status.json).
#
#   bash train/device_train.sh [SECONDS] [extra args of `python -m skyseg.train.device_bundle run`]
set -euo pipefail
budget=${1:-480}
shift || true
source "$(dirname "$0")/device_env.sh"
# -P: the repository root must not shadow the installed package (its skyseg/ lacks train/, convert/).
"$python" -P -c 'import mmseg, skyseg, torch; print("mmseg", mmseg.__version__, "from", mmseg.__file__, "| torch", torch.__version__, "| cuda", torch.cuda.is_available())'
exec "$python" -P -m skyseg.train.device_bundle run --data-root "$bundle/data/sky" --out "$out" --time-limit "$budget" "$@"
