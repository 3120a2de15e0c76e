"""Sky metrics on hand-made masks: IoU family, boundary F1 within 3 px, false-sky rate."""
import numpy as np
from skyseg.train.metrics import SkyCounts

from skyseg.assets import DEFAULT_INT8_ONNX, DEFAULT_ONNX
from skyseg.labels import IGNORE, NOT_SKY, SKY


def _label(h=60, w=80, horizon=30) -> np.ndarray:
    label = np.full((h, w), NOT_SKY, np.uint8)
    label[:horizon] = SKY
    return label


def test_perfect_prediction():
    label = _label()
    counts = SkyCounts()
    counts.add(label == SKY, label)
    assert counts.iou == counts.precision == counts.recall == counts.pixel_accuracy == 1.0
    assert counts.boundary_f1 == 1.0 and counts.false_sky_rate is None


def test_boundary_tolerance_is_three_pixels():
    label = _label(h=120, horizon=60)
    within, beyond = SkyCounts(), SkyCounts()
    within.add(_label(h=120, horizon=63) == SKY, label)  # boundary 3 px off
    beyond.add(_label(h=120, horizon=64) == SKY, label)  # 4 px off
    assert within.boundary_f1 == 1.0
    assert beyond.boundary_f1 == 0.0
    assert beyond.iou > 0.93  # IoU barely notices what boundary F1 catches


def test_ignored_pixels_score_nothing():
    label = _label()
    label[:, :40] = IGNORE
    counts = SkyCounts()
    pred = np.zeros_like(label, bool)
    pred[:30, 40:] = True
    pred[:, :40] = True  # anything inside the ignored half is free
    counts.add(pred, label)
    assert counts.iou == 1.0 and counts.boundary_f1 == 1.0


def test_false_sky_rate_counts_only_images_without_sky():
    counts = SkyCounts()
    no_sky = np.full((10, 10), NOT_SKY, np.uint8)
    pred = np.zeros((10, 10), bool)
    pred[:2] = True  # 20% of this image called sky
    counts.add(pred, no_sky)
    counts.add(_label() == SKY, _label())  # an image with sky does not dilute the rate
    assert counts.no_sky_images == 1 and abs(counts.false_sky_rate - 0.2) < 1e-9


def test_errors_near_the_true_boundary_are_told_apart_from_blobs():
    """A 2-px shifted horizon is all boundary error; a sky blob in the ground is none."""
    label = _label(h=120, horizon=60)
    shifted, blob = SkyCounts(), SkyCounts()
    shifted.add(_label(h=120, horizon=62) == SKY, label)
    assert shifted.fp == 2 * 80 and shifted.boundary_error_share == 1.0
    prediction = label == SKY
    prediction[100:110, 30:40] = True  # 40+ px below the horizon
    blob.add(prediction, label)
    assert blob.fp == 100 and blob.boundary_error_share == 0.0
    assert shifted.as_dict()["errors_near_boundary_pct"] == 100.0


def test_flip_augmentation_is_mirror_equivariant(tmp_path):
    """``skyseg eval --flip`` averages the logits of an image and of its mirror, mapped back: the
    mask of the mirrored image is then the mirrored mask (a 512x384 scene has no letterbox padding
    to break the symmetry) exactly, which a single pass is not."""
    import cv2
    from skyseg.train.evaluate import onnx_predictor

    from skyseg import samples
    from skyseg.contract import Contract

    onnx = DEFAULT_ONNX
    scene = samples.render_scene(512, 384, seed=5)
    paths = [tmp_path / "scene.png", tmp_path / "mirrored.png"]
    cv2.imwrite(str(paths[0]), scene)
    cv2.imwrite(str(paths[1]), np.ascontiguousarray(scene[:, ::-1]))
    contract = Contract.from_onnx(onnx)
    mask, mirrored = onnx_predictor(onnx, contract, threads=1, flip=True)(paths)
    assert mask.shape == (384, 512)
    np.testing.assert_array_equal(mask, mirrored[:, ::-1])
    single, single_mirrored = onnx_predictor(onnx, contract, threads=1)(paths)
    assert not np.array_equal(single, single_mirrored[:, ::-1]), "the property must be the flip's, not the scene's"


def test_oracle_is_a_perfect_network_through_the_served_post_processing(tmp_path):
    """``skyseg eval --oracle 8`` scores the true sky fraction of each 8x8 cell through the serving
    post-processing: near-perfect on clean synthetic skylines, and reported beside, not compared
    with, the real paths."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import cv2

    from skyseg import samples
    from skyseg.labels import SKY

    root = tmp_path / "data"
    for kind in ("images", "masks"):
        (root / "synth" / kind).mkdir(parents=True)
    for seed, (w, h) in enumerate([(480, 360), (640, 360), (360, 480)]):
        image, sky = samples.render_labeled_scene(w, h, seed)
        cv2.imwrite(str(root / "synth" / "images" / f"s{seed}.jpg"), image)
        cv2.imwrite(str(root / "synth" / "masks" / f"s{seed}.png"), np.where(sky, SKY, 0).astype(np.uint8))
    done = subprocess.run([str(Path(sys.executable).parent / "skyseg"), "eval", "--oracle", "8",
                           "--onnx", str(DEFAULT_INT8_ONNX),
                           "--data-root", str(root), "--datasets", "synth", "--json", str(tmp_path / "e.json")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    paths = json.loads((tmp_path / "e.json").read_text())["paths"]
    ceiling = paths["perfect-network-at-stride 8"]["synth"]
    assert ceiling["sky_iou"] > 97.0 and ceiling["boundary_f1"] > 0.9
    assert "Sky IoU by path" not in done.stdout  # one real path: nothing to agree with


def test_band_oracle_sets_the_uncertain_band_to_the_labels(tmp_path):
    """``skyseg eval --onnx M --oracle-band label|fraction``: the real network with the learned step's
    band decided by the labels, reported beside the network's own path without an agreement check;
    it refuses to run without --onnx."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import cv2

    from skyseg import samples
    from skyseg.labels import SKY

    root = tmp_path / "data"
    for kind in ("images", "masks"):
        (root / "synth" / kind).mkdir(parents=True)
    for seed, (w, h) in enumerate([(480, 360), (640, 360), (360, 480)]):
        image, sky = samples.render_labeled_scene(w, h, seed + 7)
        cv2.imwrite(str(root / "synth" / "images" / f"s{seed}.jpg"), image)
        cv2.imwrite(str(root / "synth" / "masks" / f"s{seed}.png"), np.where(sky, SKY, 0).astype(np.uint8))
    skyseg = str(Path(sys.executable).parent / "skyseg")
    onnx = str(DEFAULT_INT8_ONNX)
    runs = {}
    for kind in ("label", "fraction"):
        done = subprocess.run([skyseg, "eval", "--onnx", onnx, "--oracle-band", kind, "--data-root", str(root),
                               "--datasets", "synth", "--json", str(tmp_path / f"{kind}.json")],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Sky IoU by path" not in done.stdout
        runs[kind] = json.loads((tmp_path / f"{kind}.json").read_text())["paths"]
    network = runs["label"][f"onnxruntime {onnx}"]["synth"]
    hard, soft = runs["label"][f"perfect-band label {onnx}"]["synth"], runs["fraction"][f"perfect-band fraction {onnx}"]["synth"]
    # The synthetic skylines are easy (the network alone is near 99.9): a 0/1 band at the input
    # resolution costs a little at the original one, the true fraction beats the network.
    assert hard["sky_iou"] > 99.0 and hard["sky_iou"] != network["sky_iou"]
    assert soft["sky_iou"] > network["sky_iou"] and soft["sky_iou"] > hard["sky_iou"]
    refused = subprocess.run([skyseg, "eval", "--oracle-band", "label", "--data-root", str(root), "--datasets", "synth"],
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "--oracle-band needs --onnx" in refused.stderr


def test_bootstrap_interval_holds_the_pooled_iou_and_narrows_with_more_images():
    from skyseg.train.metrics import bootstrap_iou

    rng = np.random.default_rng(0)
    few = [(int(t), int(f), int(n)) for t, f, n in rng.integers(50, 1000, size=(5, 3))]
    many = few * 40  # the same images' spread, 40 times as many of them
    tp, fp, fn = np.sum(few, axis=0)
    pooled = tp / (tp + fp + fn)
    low, high = bootstrap_iou(few)
    assert low <= pooled <= high
    many_low, many_high = bootstrap_iou(many)
    assert many_high - many_low < (high - low) / 3


def test_paired_difference_sees_a_small_consistent_gain_that_separate_intervals_would_not():
    from skyseg.train.metrics import bootstrap_iou, paired_iou_difference

    rng = np.random.default_rng(1)
    sky = rng.integers(1000, 20000, size=30)  # images of very different sky areas
    false = rng.integers(0, 8000, size=30)  # and very different false sky: a wide spread of IoUs
    baseline = [(int(s * 0.8), int(f), int(s * 0.2)) for s, f in zip(sky, false)]
    candidate = [(int(s * 0.82), int(f), int(s * 0.18)) for s, f in zip(sky, false)]  # 2% more of each sky
    diff, low, high = paired_iou_difference(candidate, baseline)
    assert 0 < low <= diff <= high
    (_, base_high), (cand_low, _) = bootstrap_iou(baseline), bootstrap_iou(candidate)
    assert cand_low < base_high  # separately, the two intervals overlap
    assert paired_iou_difference(baseline, baseline) == (0.0, 0.0, 0.0)


def test_paired_difference_refuses_different_image_sets():
    import pytest
    from skyseg.train.metrics import paired_iou_difference

    with pytest.raises(ValueError, match="same images"):
        paired_iou_difference([(1, 0, 0)] * 3, [(1, 0, 0)] * 4)


def test_as_dict_counts_the_images_with_sky():
    counts = SkyCounts()
    counts.add(_label() == SKY, _label())
    counts.add(np.zeros((60, 80), bool), np.full((60, 80), NOT_SKY, np.uint8))
    result = counts.as_dict()
    assert result["sky_images"] == 1 and len(result["per_image"]) == 2
    assert result["sky_iou_ci95"] == [100.0, 100.0]


def test_against_pairs_images_by_name_not_position(tmp_path):
    import json

    from skyseg.train.eval_cli import against_table

    def result(per_image):
        counts = SkyCounts()
        for name, (tp, fp, fn) in per_image.items():
            counts.per_image.append((tp, fp, fn))
            counts.names.append(name)
            counts.tp, counts.fp, counts.fn = counts.tp + tp, counts.fp + fp, counts.fn + fn
        return counts.as_dict()

    images = {"a": (900, 10, 90), "b": (50, 40, 10), "c": (500, 0, 500)}
    shuffled = dict(reversed(list(images.items())))  # the same images, written in another order
    (tmp_path / "base.json").write_text(json.dumps({"path": "base", "results": {"set": result(shuffled),
                                                                                  "other": result({"z": (1, 0, 0)}),
                                                                                  "older": {"sky_iou": 50.0}}}))
    table = against_table({"candidate": {"set": result(images), "other": result({"y": (1, 0, 0)}),
                                         "older": result({"y": (1, 0, 0)})}},
                          tmp_path / "base.json")
    same = next(line for line in table.splitlines() if "| set |" in line)
    assert "| +0.00 | +0.00 to +0.00 | within noise |" in same
    for name in ("other", "older"):  # other images; a baseline written without per-image counts
        row = next(line for line in table.splitlines() if f"| {name} |" in line)
        assert "not in the baseline with the same images" in row


def test_photo_summary_reads_each_photo_with_sky_on_its_own():
    """A missed small sky counts as a missed photo even where a big sky keeps the pooled IoU high;
    images with under 1% sky are not photos with sky."""
    counts = SkyCounts()
    big = np.zeros((100, 100), np.uint8)
    big[:60] = 1
    counts.add(big.astype(bool), big, name="big")              # IoU 1
    small = np.zeros((100, 100), np.uint8)
    small[:5] = 1
    counts.add(np.zeros((100, 100), bool), small, name="missed")  # IoU 0
    speck = np.zeros((100, 100), np.uint8)
    speck[0, :50] = 1                                          # 0.5% sky: not a sky photo
    counts.add(np.zeros((100, 100), bool), speck, name="speck")
    summary = counts.photo_summary()
    assert summary == {"sky_photos": 2, "mean_photo_iou": 50.0, "photos_at_90_pct": 50.0, "photos_under_50": 1}
    assert counts.iou > 0.9
