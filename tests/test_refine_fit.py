"""``skyseg fit-refine``'s pieces on rendered skylines with the committed network: the band's
features line up with their labels, so the fitted regression separates sky from ground there."""
import cv2
import numpy as np

from skyseg import samples
from skyseg.contract import Contract
from skyseg.convert.parity import ort_session
from skyseg.serving import DEFAULT_REPOSITORY
from skyseg.train.labels import SKY
from skyseg.train.refine_fit import band_samples, config_line, fit_logistic


def test_fitted_refinement_separates_the_band_of_rendered_skylines(tmp_path):
    pairs = []
    for seed, (w, h) in enumerate([(480, 360), (640, 360), (512, 384), (360, 480)]):
        image, sky = samples.render_labeled_scene(w, h, seed)
        pairs.append((tmp_path / f"s{seed}.jpg", tmp_path / f"s{seed}.png"))
        cv2.imwrite(str(pairs[-1][0]), image)
        cv2.imwrite(str(pairs[-1][1]), np.where(sky, SKY, 0).astype(np.uint8))
    onnx = DEFAULT_REPOSITORY / "bisenetv2" / "1" / "model.int8.onnx"
    session = ort_session(onnx, 1)
    contract = Contract.from_onnx(onnx)
    x, y = band_samples(lambda t: session.run(None, {"input": t})[0], contract, pairs, per_image=2000)
    assert x.shape == (len(y), 9) and 1000 < len(y) <= 8000 and 0.05 < y.mean() < 0.95
    weights = fit_logistic(x, y)
    accuracy = np.mean(((x @ weights) > 0) == (y > 0.5))
    assert accuracy > 0.85, accuracy  # misaligned labels or planes would sit near chance
    values = config_line(weights).split("(", 1)[1].split(")", 1)[0].split(", ")
    np.testing.assert_allclose([float(v) for v in values], weights, atol=5e-5)  # pasteable into the config
