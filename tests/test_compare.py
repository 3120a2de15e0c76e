"""The side-by-side benchmark runs all five paths for real (tiny settings) and writes its outputs."""
import json

import pytest

pytestmark = pytest.mark.slow


def test_compare_runs_every_path_and_writes_table_json_and_plot(tmp_path, capsys):
    from benchmarks import compare

    assert compare.main(["--sizes", "640x360", "--count", "2", "--seconds", "0.5", "--no-iou",
                         "--pa-concurrency", "1", "--in-flight", "2", "--out", str(tmp_path),
                         "--no-results-md"]) == 0
    result = json.loads((tmp_path / "compare.json").read_text())
    rows = {(r["path"], r["note"]): r for r in result["results"]}
    assert {p for p, _ in rows} == set("ABCDE")
    assert all(r["images_per_s"] > 0 and r["p99_ms"] >= r["p50_ms"] > 0 for r in rows.values())
    assert rows[("B", "batch 1, canvas 288x512")]  # a 16:9 input runs the network on 288x512
    assert set(result["steps"]["640x360"]) == {"sky_segmentation", "preprocess", "bisenetv2", "postprocess"}
    assert result["steps"]["640x360"]["bisenetv2"]["requests"] > 0
    assert any("C / A" in c for c in result["checks"]) and any("C / B" in c for c in result["checks"])
    assert (tmp_path / "compare.png").stat().st_size > 10_000
    assert "| C: Triton ensemble, gRPC, JPEG bytes | 640x360 |" in capsys.readouterr().out


def test_results_md_section_is_replaced_not_appended(tmp_path):
    from benchmarks import compare

    md = tmp_path / "RESULTS.md"
    md.write_text("# Benchmark results\n\nkept above\n")
    compare.write_results_md("first run", md)
    compare.write_results_md("second run", md)
    text = md.read_text()
    assert "kept above" in text and "second run" in text and "first run" not in text
    assert text.count(compare.BEGIN) == 1


def test_resolution_sweep_times_and_scores_each_box(tmp_path, shared_data):
    from benchmarks import resolution

    out = tmp_path / "resolution.json"
    assert resolution.main(["--boxes", "192x256,384x512", "--runs", "2", "--limit", "4", "--output", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["canvas_16:9"] for r in rows] == ["160x256", "288x512"]  # 16:9 fitted, padded to 32
    assert [r["canvas_4:3"] for r in rows] == ["192x256", "384x512"]
    assert all(r["ms_16:9"] > 0 and 0 <= r["camvid_sky_iou"] <= 100 for r in rows)


def test_acceptance_never_rounds_a_miss_into_a_pass():
    """A run at 79.997% of B printed as "80%" was once reported as met; the check rounds down."""
    from benchmarks import compare

    rows = [{"path": "B", "size": "960x540", "note": "2 x 1", "images_per_s": 57.54},
            {"path": "C", "size": "960x540", "note": "", "images_per_s": 46.03},
            {"path": "A", "size": "960x540", "note": "", "images_per_s": 7.03}]
    checks = compare.acceptance(rows, {"A": 89.40, "C": 89.05})
    assert "C / B = 79.9% of the compute floor (target >= 80%): NOT met" in checks[1]
    assert checks[0].endswith(": met") and checks[2].endswith("-0.35 (target >= -0.3): NOT met")
    rows[1]["images_per_s"] = 46.04
    assert compare.acceptance(rows, {})[1].endswith("(target >= 80%): met")


def test_c_over_b_alternates_rounds_against_one_server(tmp_path):
    from benchmarks import c_over_b

    out = tmp_path / "c_over_b.json"
    assert c_over_b.main(["--size", "640x360", "--rounds", "2", "--seconds", "0.5", "--count", "2",
                          "--in-flight", "2", "--b-batches", "1,2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["size"] == "640x360" and len(result["rounds"]) == 2
    assert all(r["b_images_per_s"] > 0 and r["c_images_per_s"] > 0 for r in result["rounds"])
    # B is the network's floor: the faster of its batch sizes, each measured
    assert all(set(r["b_by_batch"]) == {"1", "2"} and r["b_images_per_s"] == max(r["b_by_batch"].values())
               for r in result["rounds"])
    assert result["min_ratio"] <= result["median_ratio"] <= result["max_ratio"]


def test_c_over_b_judges_the_median_round_rounded_down():
    from benchmarks.c_over_b import Round, report, summarize

    rounds = [Round(100.0, 79.0, {1: 100.0}), Round(100.0, 79.99, {1: 99.0, 2: 100.0}), Round(100.0, 85.0)]
    summary = summarize(rounds)
    assert not summary["met"] and summary["rounds_met"] == 1
    assert "median 79.9% (range 79.0%-85.0%; 1 of 3 rounds at 80% or more): target C >= 80% of B NOT met" \
        in report("1920x1080", summary)
    assert summarize(rounds + [Round(100.0, 81.0)])["met"]  # median of four: (79.99 + 81) / 2
