"""Updating the model without downtime (README): under load, a version 2 of the network written
by `skyseg build-repo --version 2` beside the served version 1 is loaded through the repository
API of a server in explicit model control; no request fails, version 2 serves, version 1 is gone."""
import json
import subprocess
import sys
import threading
import time
import urllib.request

import cv2
import pytest

from skyseg import samples
from skyseg.assets import DEFAULT_INT8_ONNX, DEFAULT_ONNX
from skyseg.contract import Contract
from skyseg.convert.repository import build_repository
from skyseg.serving import TritonServer, free_port
from skyseg_client import SkySegClient


def _post(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=120) as response:
        return response.status, response.read()


def _network_versions(server) -> dict[str, str]:
    _, body = _post(f"http://{server.http_url}/v2/repository/index")
    return {m["version"]: m["state"] for m in json.loads(body) if m["name"] == "bisenetv2"}


def _served_by_version(server) -> dict[str, float]:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    counts = {}
    for line in text.splitlines():
        if line.startswith("nv_inference_count{") and 'model="bisenetv2"' in line:
            version = line.split('version="')[1].split('"')[0]
            counts[version] = float(line.rsplit(" ", 1)[1])
    return counts


@pytest.mark.slow
def test_version_2_swaps_in_under_load_with_no_failed_request(tmp_path):
    repository = tmp_path / "repo"
    build_repository(Contract.from_onnx(DEFAULT_ONNX), DEFAULT_ONNX, repository, int8_onnx=DEFAULT_INT8_ONNX)
    ok, jpeg = cv2.imencode(".jpg", samples.render_scene(640, 480, seed=11))
    answered, failures, stop = [], [], threading.Event()

    def load(url: str) -> None:
        with SkySegClient(url, retry_deadline_s=0.0) as client:  # no retries: a failure counts
            while not stop.is_set():
                try:
                    answered.append(client.segment(jpeg.tobytes()).shape)
                except Exception as exc:  # noqa: BLE001 - every failure is the finding
                    failures.append(repr(exc))

    with TritonServer(repository, http_port=free_port(), grpc_port=free_port(), metrics_port=free_port(),
                      model_control="explicit", log_file=tmp_path / "server.log") as server:
        assert _network_versions(server) == {"1": "READY"}
        threads = [threading.Thread(target=load, args=(server.grpc_url,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(2)
            done = subprocess.run([sys.executable, "-m", "skyseg_client.cli", "build-repo", "--out", str(repository),
                                   "--version", "2"], capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
            before = len(answered)
            status, _ = _post(f"http://{server.http_url}/v2/repository/models/bisenetv2/load")
            assert status == 200
            time.sleep(2)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert failures == [], failures[:3]
        assert len(answered) > before > 0 and set(answered) == {(480, 640)}
        assert _network_versions(server).get("2") == "READY"
        assert _network_versions(server).get("1") != "READY"  # unloaded once version 2 was ready
        assert _served_by_version(server).get("2", 0) > 0  # and version 2 answered requests


def test_a_version_that_changes_the_contract_is_refused(tmp_path):
    import dataclasses

    from skyseg.ops import Refinement

    contract = Contract.from_onnx(DEFAULT_ONNX)
    build_repository(contract, DEFAULT_ONNX, tmp_path, int8_onnx=DEFAULT_INT8_ONNX)
    other = dataclasses.replace(contract, refine=Refinement())
    with pytest.raises(ValueError, match="changes the served configs of postprocess"):
        build_repository(other, DEFAULT_ONNX, tmp_path, int8_onnx=DEFAULT_INT8_ONNX, version=2)
    assert not (tmp_path / "bisenetv2" / "2" / "model.int8.onnx").exists()
