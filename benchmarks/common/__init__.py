"""What several benchmark scripts share, so that each script in ``benchmarks/`` does one job.

- ``images``: the image sets (CamVid test JPEGs from ``../shared/data``, generated scenes where they
  are absent, resized to the sizes the benchmarks compare) and CamVid test for the IoU columns.
- ``load``: the closed-loop client load (N requests in flight), the options that size it, and C
  (JPEGs through the running ensemble, with Triton's per-step statistics).
- ``onnx_floor``: B, the served network alone in ONNX Runtime in the repository's own layout.
- ``timing``: the closed timing loop, the summary a result stores, ratios rounded down.
- ``processes``: CPU time and resident memory of tritonserver and its Python stubs (psutil).
- ``triton_stats``: Triton's per-step statistics of the ensemble, diffed around a load.
- ``perf_analyzer``: the perf_analyzer binary (install, libraries) and one concurrency sweep.
- ``machine``: the CPU a result was measured on (model, family, SIMD flags).
"""
