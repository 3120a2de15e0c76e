"""Triton's own statistics for every step of the ensemble, diffed around a load: where each
millisecond of a request went (queue, compute input/infer/output) and how many requests the
dynamic batcher put in one execution."""
from __future__ import annotations

from collections.abc import Sequence

STEPS = ("sky_segmentation", "preprocess", "bisenetv2", "postprocess")
PHASES = ("queue", "compute_input", "compute_infer", "compute_output")


def snapshot(client, models: Sequence[str] = STEPS) -> dict[str, dict[str, int]]:
    """Cumulative nanoseconds per phase and request/execution/inference counts of each model, now
    (``client``: a tritonclient.grpc.InferenceServerClient)."""
    out = {}
    for model in models:
        stats = client.get_inference_statistics(model).model_stats[0]
        out[model] = {phase: getattr(stats.inference_stats, phase).ns for phase in PHASES}
        out[model].update(requests=stats.inference_stats.success.count, executions=stats.execution_count,
                          inferences=stats.inference_count)
    return out


def per_request(before: dict, after: dict) -> dict[str, dict[str, float]]:
    """Between two snapshots: ms per request in each phase, the requests, and the average batch."""
    table = {}
    for model in after:
        d = {k: after[model][k] - before[model][k] for k in after[model]}
        n = max(d["requests"], 1)
        table[model] = {phase: d[phase] / n / 1e6 for phase in PHASES}
        table[model]["requests"] = d["requests"]
        table[model]["avg_batch"] = d["inferences"] / max(d["executions"], 1)
    return table


def render(table: dict) -> str:
    """The per-step table as Markdown."""
    lines = ["| step | requests | queue ms | compute input ms | compute infer ms | compute output ms | avg batch |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for model, r in table.items():
        lines.append(f"| {model} | {r['requests']} | {r['queue']:.1f} | {r['compute_input']:.1f} | "
                     f"{r['compute_infer']:.1f} | {r['compute_output']:.1f} | {r['avg_batch']:.2f} |")
    return "\n".join(lines)
