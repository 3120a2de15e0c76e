"""A short, bounded perf_analyzer run against the real server (speed targets live in benchmarks/)."""
import time

import pytest

pytestmark = pytest.mark.slow


def test_short_perf_analyzer_sweep(triton_server):
    from benchmarks.common.images import load_images
    from benchmarks.common.perf_analyzer import run_sweep
    from benchmarks.perf_analyzer import table

    images, source = load_images("/nonexistent/*.jpg", count=4, resize=(320, 240))
    assert "GENERATED" in source  # said out loud when real images are absent
    (result,) = run_sweep(triton_server.grpc_url, images, concurrency=[2], interval_ms=1500,
                          max_trials=4, stability=50, timeout_s=180)
    assert result["concurrency"] == 2 and result["infer_per_s"] > 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert "| 2 |" in table([result])


def test_step_statistics_give_every_step_its_milliseconds(triton_server):
    import tritonclient.grpc as grpcclient

    from benchmarks.common.images import load_images
    from benchmarks.common.load import run_load
    from benchmarks.common.triton_stats import STEPS, per_request, render, snapshot

    images, _ = load_images("/nonexistent/*.jpg", count=2, resize=(320, 240))
    client = grpcclient.InferenceServerClient(triton_server.grpc_url)
    before = snapshot(client)
    load = run_load(triton_server.grpc_url, images, concurrency=2, seconds=2)
    deadline = time.monotonic() + 10  # Triton updates its counters just after each reply
    while True:
        table = per_request(before, snapshot(client))
        if all(table[step]["requests"] >= load.ok for step in STEPS) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert set(table) == set(STEPS) and load.ok > 0
    assert all(table[step]["requests"] >= load.ok for step in STEPS)
    assert table["bisenetv2"]["compute_infer"] > table["postprocess"]["compute_infer"] > 0
    assert "| bisenetv2 |" in render(table)


def test_machine_description_tells_vnni_from_avx2_behind_one_model_name():
    """Two 2-core "AMD EPYC" VMs served 58 and 100 images/s from the same INT8 network: the
    results must say which instruction sets they ran on."""
    from benchmarks.common.machine import cpu_family_model, machine, simd_flags

    zen5 = ["processor\t: 0", "cpu family\t: 26", "model\t\t: 2", "model name\t: AMD EPYC",
            "flags\t\t: fpu sse2 avx2 avx512f avx512_vnni avx_vnni sha_ni"]
    older = ["processor\t: 0", "cpu family\t: 25", "model\t\t: 1", "model name\t: AMD EPYC",
             "flags\t\t: fpu sse2 avx2 fma"]
    assert simd_flags(zen5) == ["avx2", "avx512f", "avx512_vnni", "avx_vnni"]
    assert simd_flags(older) == ["avx2"]
    assert cpu_family_model(zen5) == "family 26 model 2" and cpu_family_model(older) == "family 25 model 1"
    info = machine()
    assert isinstance(info["simd"], list) and info["cpu_family_model"].startswith("family")
