"""The served masks did not move when the ops moved into the package (2026-12-04): digests of the
decoded image, the prepared tensor and the final mask of 8 CamVid test images, recorded before the
move with the INT8 network's logits, must be reproduced bit for bit by today's ops.

The logits are stored (tests/golden/), so the check covers every op of both Python steps and does
not depend on this CPU's ONNX Runtime kernels.
"""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from skyseg import ops, pipeline
from skyseg.assets import DEFAULT_INT8_ONNX
from skyseg.contract import Contract

GOLDEN = Path(__file__).parent / "golden"


def _digest(*arrays) -> str:
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() + str(a.shape).encode()
                                   for a in arrays)).hexdigest()[:20]


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.from_onnx(DEFAULT_INT8_ONNX)


EXPECTED = json.loads((GOLDEN / "camvid_test_masks.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_masks_are_bit_identical_to_before_the_ops_moved(name, contract, shared_data):
    logits = np.load(GOLDEN / "camvid_test_logits.npz")[Path(name).stem]
    rgb, original_hw = ops.decode_for_model((shared_data / "camvid" / "test" / name).read_bytes(), contract.input_hw)
    tensor, geometry, guide = pipeline.prepare(rgb, contract, original_hw)
    mask = pipeline.to_mask(logits, geometry, guide, contract)
    assert {"decoded": _digest(rgb), "prepared": _digest(tensor, np.asarray(geometry), guide),
            "mask": _digest(mask)} == EXPECTED[name]
