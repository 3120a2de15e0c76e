"""``skyseg fit-refine``'s pieces on rendered skylines with the committed network: the band's
features line up with their labels, so the fitted regression separates sky from ground there."""
import json

import cv2
import numpy as np
import pytest
from skyseg.convert.parity import ort_session
from skyseg.train.refine_fit import (
    band_samples,
    cascade_vector,
    config_line,
    fit_cascade,
    fit_logistic,
    write_cascade,
)

from skyseg import ops, samples
from skyseg.assets import DEFAULT_INT8_ONNX
from skyseg.contract import Contract
from skyseg.labels import SKY


def _rendered_pairs(tmp_path):
    pairs = []
    for seed, (w, h) in enumerate([(480, 360), (640, 360), (512, 384), (360, 480)]):
        image, sky = samples.render_labeled_scene(w, h, seed)
        pairs.append((tmp_path / f"s{seed}.jpg", tmp_path / f"s{seed}.png"))
        cv2.imwrite(str(pairs[-1][0]), image)
        cv2.imwrite(str(pairs[-1][1]), np.where(sky, SKY, 0).astype(np.uint8))
    return pairs


def test_fitted_refinement_separates_the_band_of_rendered_skylines(tmp_path):
    pairs = _rendered_pairs(tmp_path)
    onnx = DEFAULT_INT8_ONNX
    session = ort_session(onnx, 1)
    contract = Contract.from_onnx(onnx)
    x, y = band_samples(lambda t: session.run(None, {"input": t})[0], contract, pairs, per_image=2000)
    assert x.shape == (len(y), 9) and 1000 < len(y) <= 8000 and 0.05 < y.mean() < 0.95
    weights = fit_logistic(x, y)
    accuracy = np.mean(((x @ weights) > 0) == (y > 0.5))
    assert accuracy > 0.85, accuracy  # misaligned labels or planes would sit near chance
    values = config_line(weights).split("(", 1)[1].split(")", 1)[0].split(", ")
    np.testing.assert_allclose([float(v) for v in values], weights, atol=5e-5)  # pasteable into the config


def test_fitted_cascade_separates_what_the_logistic_left_unsure_as_the_server_runs_it(tmp_path):
    """The cascade is sampled where the weights' logit is within the cut, fitted, written, read back
    as the server reads it (``ops.cascade_layers``), and still separates those pixels."""
    pairs = _rendered_pairs(tmp_path)
    onnx = DEFAULT_INT8_ONNX
    session = ort_session(onnx, 1)
    contract = Contract.from_onnx(onnx)
    run = lambda t: session.run(None, {"input": t})[0]  # noqa: E731
    x, y = band_samples(run, contract, pairs, per_image=2000)
    learned = tuple(round(float(w), 4) for w in fit_logistic(x, y))
    xc, yc = band_samples(run, contract, pairs, per_image=2000, learned=learned, cut=3.0)
    assert xc.shape == (len(yc), len(ops.CASCADE_FEATURES)) and 200 < len(yc) < len(y)
    layers = fit_cascade(xc, yc, hidden=8, epochs=30)
    path = write_cascade(tmp_path / "cascade.json", layers, cut=3.0)
    vector = tuple(json.loads(path.read_text())["vector"])
    assert vector == pytest.approx(cascade_vector(layers, 3.0), rel=1e-5, abs=1e-6)
    cut, served = ops.cascade_layers(vector)
    assert cut == 3.0
    w1, b1, w2, b2, w3, b3 = layers  # the fitted MLP evaluated directly, as trained (float64)
    direct = np.maximum(np.maximum(xc @ w1.T + b1, 0) @ w2.T + b2, 0) @ w3 + b3
    decided = ops.cascade_logit(xc, served) > 0
    # a transposed layer or a wrongly folded standardisation would disagree on a large share
    assert np.mean(decided == (direct > 0)) > 0.995
    accuracy, majority = np.mean(decided == (yc > 0.5)), max(yc.mean(), 1 - yc.mean())
    assert accuracy > majority + 0.05, (accuracy, majority)  # it learned more than the larger class
