#!/usr/bin/env bash
# Two recipes side by side on one leased GPU machine, from the repository root with `.device/`
# carried (`skyseg device-bundle --config CONFIG_A`): BiSeNetV2 leaves an H200 mostly idle and the
# bound is the 16 cores' data loading, so two runs of 7 loader workers each measure an ablation in
# the one 10-minute call a session can afford. Each config's TimedPolyLR schedule lasts SECONDS.
# Results come back as $OUT/<config stem>/{bisenetv2_sky_gpu.pth,train.log,status.json}.
#
#   bash train/device_pair.sh SECONDS CONFIG_A CONFIG_B
set -euo pipefail
seconds=$1
shift
source "$(dirname "$0")/device_env.sh"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
pids=()
for config in "$@"; do
    name=$(basename "$config" .py)
    mkdir -p "$out/$name"
    # -P: the repository root must not shadow the installed package (its skyseg/ lacks train/, convert/).
    "$python" -P -m skyseg.train.device_bundle run --config "$config" --data-root "$bundle/data/sky" \
        --work-dir "work_dirs/$name" --out "$out/$name" --time-limit $((seconds + 90)) \
        --cfg-options "{\"custom_hooks.1.seconds\": $seconds}" > "$out/$name/console.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for config in "$@"; do name=$(basename "$config" .py); echo "== $name"; tail -n 5 "$out/$name/console.log"; done
exit $status
