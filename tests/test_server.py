"""The real tritonserver with the embedded model, through the client library."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from skyseg import samples
from skyseg.assets import DEFAULT_INT8_ONNX, DEFAULT_ONNX

pytestmark = pytest.mark.slow


def _encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


def _iou(pred: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None) -> float:
    valid = np.ones_like(truth, bool) if valid is None else valid
    inter = np.count_nonzero(pred & truth & valid)
    union = np.count_nonzero((pred | truth) & valid)
    return inter / max(union, 1)


def test_real_camvid_image(grpc_client, shared_data):
    path = sorted((shared_data / "camvid" / "test").glob("*.jpg"))[0]
    label = cv2.imread(str(shared_data / "camvid" / "testannot" / f"{path.stem}.png"), cv2.IMREAD_UNCHANGED)
    mask = grpc_client.segment(path)
    assert mask.shape == label.shape and mask.dtype == np.uint8
    assert _iou(mask == 255, label == 0, label != 11) > 0.8


def test_synthetic_scene_has_its_sky_found(grpc_client):
    image, sky = samples.render_labeled_scene(640, 480, seed=11)
    mask = grpc_client.segment(_encode(image, ".jpg"))
    assert _iou(mask == 255, sky) > 0.8


@pytest.mark.parametrize("w,h,ext", [(1, 1, ".png"), (7, 1000, ".jpg"), (1001, 3, ".png"),
                                     (333, 517, ".bmp"), (1920, 1080, ".jpg"), (640, 480, ".webp")])
def test_odd_sizes_and_formats_keep_the_original_size(grpc_client, w, h, ext):
    image = samples.render_scene(max(w, 2), max(h, 2), seed=w + h)[:h, :w]
    mask = grpc_client.segment(_encode(image, ext))
    assert mask.shape == (h, w)
    assert set(np.unique(mask)) <= {0, 255}


def test_raw_frames_and_encoded_images_give_the_same_mask(grpc_client):
    image = samples.render_scene(500, 300, seed=3)
    assert np.array_equal(grpc_client.segment(image), grpc_client.segment(_encode(image, ".png")))


def test_http_and_grpc_give_the_same_mask(triton_server, grpc_client):
    from skyseg_client import SkySegClient

    data = _encode(samples.render_scene(320, 240, seed=5), ".jpg")
    with SkySegClient(triton_server.http_url, protocol="http") as http:
        assert np.array_equal(http.segment(data), grpc_client.segment(data))


def test_corrupt_images_fail_alone_in_a_batch(triton_server):
    import tritonclient.grpc as grpcclient

    from skyseg_client import SkySegClient, SkySegError

    good = _encode(samples.render_scene(320, 240, seed=1), ".jpg")
    bad = {3: b"", 7: good[: len(good) // 3], 12: b"%PDF-1.4 definitely not an image"}
    items = [bad.get(i, good) for i in range(16)]
    stats = grpcclient.InferenceServerClient(triton_server.grpc_url)

    def batched_requests() -> int:
        s = stats.get_inference_statistics("preprocess").model_stats[0]
        return s.inference_count - s.execution_count  # > 0 once several requests shared one execute()

    # All 16 go out at once so they queue behind each other; whether the batcher groups them is
    # still up to timing, so a round without a shared execute() is sent again (at most 3 rounds).
    with SkySegClient(triton_server.grpc_url, max_in_flight=len(items)) as client:
        for _ in range(3):
            before = batched_requests()
            results = client.segment_many(items, return_exceptions=True)
            for i, result in enumerate(results):
                if i in bad:
                    assert isinstance(result, SkySegError), i
                    assert "IMAGE" in str(result) and ("empty" in str(result) or "could not be decoded" in str(result))
                else:
                    assert isinstance(result, np.ndarray) and result.shape == (240, 320), i
            if batched_requests() > before:
                break
    assert batched_requests() > before, "the requests were never batched together"
    assert triton_server.is_ready()


def test_server_errors_reach_the_user_readably(grpc_client):
    from skyseg_client import SkySegError

    with pytest.raises(SkySegError, match="could not be decoded"):
        grpc_client.segment(b"\x89PNG\r\n\x1a\n truncated")


def test_video_masks_come_back_in_order(grpc_client, tmp_path):
    path = samples.write_video(tmp_path / "pan.mp4", frames=24, size=(320, 180))
    results = list(grpc_client.segment_video(path))
    assert len(results) == 24
    capture = cv2.VideoCapture(str(path))
    for frame, mask in results:
        ok, expected = capture.read()
        assert ok and np.array_equal(frame, expected)  # yielded in frame order
        assert mask.shape == frame.shape[:2]


def test_server_and_onnx_runtime_agree_on_camvid(triton_server, shared_data, tmp_path):
    """The served ensemble is the exported model: same IoU through Triton and through ONNX Runtime."""
    from skyseg.train import convert_data, evaluate
    from skyseg.train.runner import DEFAULT_CONFIG, load_contract

    convert_data.convert_camvid(shared_data / "camvid", tmp_path, splits=["test"])
    pairs = evaluate.dataset_pairs(tmp_path, "camvid_test")[:16]
    worst: list = []
    served = evaluate.evaluate(evaluate.server_predictor(triton_server.grpc_url), pairs, worst=worst, keep=3)
    offline = evaluate.evaluate(evaluate.onnx_predictor(DEFAULT_ONNX,
                                                        load_contract(DEFAULT_CONFIG)), pairs)
    assert abs(served.iou - offline.iou) < 0.002
    assert abs(served.boundary_f1 - offline.boundary_f1) < 0.01
    assert served.iou > 0.8
    sheet = cv2.imread(str(evaluate.contact_sheet(worst, tmp_path / "worst.png")))
    assert sheet.shape[0] == 3 * 180 and sheet.shape[1] >= 3 * 180  # 3 rows of image | truth | prediction
    assert sorted(-m.iou for m in worst) == sorted(served.per_image_iou)[:3]


def test_eval_cli_compares_all_three_paths(triton_server, shared_data, tmp_path):
    """`skyseg eval` with the checkpoint, ONNX Runtime and the server: one table each plus their agreement."""
    import shutil
    import subprocess
    import sys

    from skyseg.serving import DEFAULT_REPOSITORY
    from skyseg.train import convert_data

    convert_data.convert_camvid(shared_data / "camvid", tmp_path / "all", splits=["test"])
    for kind in ("images", "masks"):  # 12 images keep the three passes short
        (tmp_path / "data" / "mini" / kind).mkdir(parents=True)
        for f in sorted((tmp_path / "all" / "camvid_test" / kind).iterdir())[:12]:
            shutil.copy(f, tmp_path / "data" / "mini" / kind / f.name)
    weights = DEFAULT_REPOSITORY.parent / "train" / "weights" / "bisenetv2_sky_384x512.pth"
    done = subprocess.run([str(Path(sys.executable).parent / "skyseg"), "eval", "--checkpoint", str(weights),
                           "--onnx", str(DEFAULT_ONNX),
                           "--server", triton_server.grpc_url, "--data-root", str(tmp_path / "data"),
                           "--datasets", "mini", "--markdown", str(tmp_path / "eval.md"), "--json", str(tmp_path / "eval.json")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    text = (tmp_path / "eval.md").read_text()
    assert text.count("| mini | 12 (") == 3 and "the paths agree" in text
    assert "Path: pytorch" in text and "Path: onnxruntime" in text and "Path: triton grpc://" in text

    # --against: the INT8 network against that run (its first path, the FP32 checkpoint), image by image
    again = subprocess.run([str(Path(sys.executable).parent / "skyseg"), "eval",
                            "--onnx", str(DEFAULT_INT8_ONNX),
                            "--data-root", str(tmp_path / "data"), "--datasets", "mini",
                            "--against", str(tmp_path / "eval.json")], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    row = next(line for line in again.stdout.splitlines() if line.startswith("| onnxruntime") and "| mini |" in line)
    cells = [c.strip() for c in row.split("|")]
    difference, interval = float(cells[5]), cells[6]
    assert abs(difference) < 0.5 and " to " in interval and cells[7] in ("within noise", "better", "worse")


def test_fp32_repository_serves_nearly_the_same_masks_as_the_int8_default(grpc_client, tmp_path):
    from skyseg.convert.repository import build_repository
    from skyseg.serving import TritonServer, free_port
    from skyseg.train.runner import DEFAULT_CONFIG, load_contract
    from skyseg_client import SkySegClient

    build_repository(load_contract(DEFAULT_CONFIG), DEFAULT_ONNX, tmp_path / "repo")
    data = _encode(samples.render_scene(640, 480, seed=21), ".jpg")
    with TritonServer(tmp_path / "repo", http_port=free_port(), grpc_port=free_port(), metrics_port=free_port(),
                      log_file=tmp_path / "log") as server, SkySegClient(server.grpc_url) as fp32:
        assert np.mean(fp32.segment(data) == grpc_client.segment(data)) > 0.98


def test_mixed_aspects_in_flight_together_match_one_at_a_time(triton_server):
    """Canvases of different shapes (4:3, 16:9, portrait) meet in the network's dynamic batch:
    each request must come back exactly as when it is sent alone."""
    from skyseg_client import SkySegClient

    sizes = [(640, 480), (960, 540), (480, 640), (1280, 720), (500, 300), (300, 500), (640, 480), (960, 540)]
    images = [_encode(samples.render_scene(w, h, seed=i), ".png") for i, (w, h) in enumerate(sizes)]
    with SkySegClient(triton_server.grpc_url, max_in_flight=1) as alone:
        expected = [alone.segment(image) for image in images]
    with SkySegClient(triton_server.grpc_url, max_in_flight=8) as together:
        masks = together.segment_many(images * 3)
    for i, mask in enumerate(masks):
        assert np.array_equal(mask, expected[i % len(images)]), sizes[i % len(images)]


def test_threads_sharing_one_grpc_client_each_get_their_own_mask(triton_server):
    """One client per process, shared by threads (what the benchmarks' load does): replies must
    not cross between the threads' requests."""
    import threading

    from skyseg_client import SkySegClient

    sizes = [(640, 480), (960, 540), (480, 640), (500, 300)]
    images = [_encode(samples.render_scene(w, h, seed=20 + i), ".png") for i, (w, h) in enumerate(sizes)]
    with SkySegClient(triton_server.grpc_url, max_in_flight=1) as alone:
        expected = [alone.segment(image) for image in images]
    wrong: list = []
    with SkySegClient(triton_server.grpc_url, max_in_flight=len(images)) as shared:
        def worker(k: int) -> None:
            for _ in range(5):
                if not np.array_equal(shared.segment(images[k]), expected[k]):
                    wrong.append(sizes[k])

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(images))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not wrong
