#!/usr/bin/env bash
# Serve the skyseg ensemble. SKYSEG_TARGET picks the network step:
#   gpu   build (or reuse) the FP16 TensorRT plan for this GPU and TensorRT, serve /models
#   cpu   ONNX Runtime inside a Python model, serve /models-cpu (nodes without a GPU)
#   auto  (default) gpu when `nvidia-smi -L` lists a GPU, else cpu
# SKYSEG_HTTP_PORT, SKYSEG_GRPC_PORT and SKYSEG_METRICS_PORT move the ports (8000, 8001, 8002).
# Extra arguments go to tritonserver, e.g. --log-verbose=1.
set -euo pipefail
target="${SKYSEG_TARGET:-auto}"
gpu_repository="${SKYSEG_REPOSITORY:-/models}"
cpu_repository="${SKYSEG_CPU_REPOSITORY:-/models-cpu}"
plans="${SKYSEG_PLAN_CACHE:-/plans}"
if [ "${target}" = auto ]; then
    if nvidia-smi -L > /dev/null 2>&1; then target=gpu; else target=cpu; fi
    echo "skyseg: SKYSEG_TARGET=auto chose ${target}" >&2
fi
case "${target}" in
    gpu)
        skyseg build-plan --repository "${gpu_repository}" --cache "${plans}"
        repository="${gpu_repository}" ;;
    cpu)
        repository="${cpu_repository}" ;;
    *)
        echo "skyseg: SKYSEG_TARGET must be gpu, cpu or auto, not '${target}'" >&2
        exit 2 ;;
esac
exec skyseg serve --model-repository "${repository}" --host 0.0.0.0 --model-control none \
    --http-port "${SKYSEG_HTTP_PORT:-8000}" --grpc-port "${SKYSEG_GRPC_PORT:-8001}" \
    --metrics-port "${SKYSEG_METRICS_PORT:-8002}" -- "$@"
