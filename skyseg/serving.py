"""Run the real tritonserver: the CPU build bundled in the ``nvidia-pytriton`` wheel, or else the
``tritonserver`` on PATH (NVIDIA's image, where docker/entrypoint.sh serves through this module).

The pytriton build ships only the Python backend and expects a backend directory laid out by hand;
this module lays it out, sets PATH / LD_LIBRARY_PATH so the Python stub runs this interpreter's
environment, starts the server on loopback, and waits until every model is ready or the server
has exited (then its own error is raised).
"""
from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import shutil
import shlex
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)
DEFAULT_REPOSITORY = Path(__file__).resolve().parents[1] / "model_repository"
PYTHON_TAG = f"{sys.version_info.major}.{sys.version_info.minor}"


class ServerError(RuntimeError):
    pass


def _site_root() -> Path:
    spec = importlib.util.find_spec("pytriton")
    if spec is None or spec.origin is None:
        raise ServerError("nvidia-pytriton is not installed: `pip install 'skyseg[serve]'`")
    return Path(spec.origin).parent.parent


def bundled() -> bool:
    """Whether the pytriton CPU build serves (else NVIDIA's ``tritonserver`` from PATH)."""
    return importlib.util.find_spec("pytriton") is not None


def tritonserver_binary() -> str:
    if bundled():
        return str(triton_home() / "bin" / "tritonserver")
    found = shutil.which("tritonserver")
    if found is None:
        raise ServerError("no tritonserver: `pip install 'skyseg[serve]'` (Linux x86_64, glibc >= 2.35) "
                          "or run inside NVIDIA's tritonserver image (docker/Dockerfile.server)")
    return found


def triton_home() -> Path:
    return _site_root() / "pytriton" / "tritonserver"


def backend_directory(cache: Path | None = None) -> Path:
    """``<cache>/python/{libtriton_python.so, triton_python_backend_stub, ...}``, made once."""
    home = triton_home()
    stub = home / "python_backend_stubs" / PYTHON_TAG / "triton_python_backend_stub"
    if not stub.exists():
        raise ServerError(f"no Python backend stub for Python {PYTHON_TAG} in {stub.parent.parent}")
    cache = cache or Path(tempfile.gettempdir()) / f"skyseg-triton-backends-{os.getuid()}-py{PYTHON_TAG}"
    python_dir = cache / "python"
    if not (python_dir / stub.name).exists():
        staging = Path(tempfile.mkdtemp(prefix="backends-", dir=cache.parent))
        shutil.copytree(home / "backends" / "python", staging / "python",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(stub, staging / "python" / stub.name)
        if cache.exists():
            shutil.rmtree(cache)
        staging.rename(cache)  # atomic: parallel starts never see a half-made directory
    return cache


def server_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if bundled():
        libs = [sysconfig.get_config_var("LIBDIR") or "", str(_site_root() / "nvidia_pytriton.libs"),
                env.get("LD_LIBRARY_PATH", "")]
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in libs if p)
    env.setdefault("OMP_NUM_THREADS", "1")  # Python stubs each get their own process; no oversubscription
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TritonServer:
    """A tritonserver process; a context manager that starts, waits for readiness and stops."""

    def __init__(self, model_repository: str | Path = DEFAULT_REPOSITORY, host: str = "127.0.0.1",
                 http_port: int = 8000, grpc_port: int = 8001, metrics_port: int = 8002,
                 model_control: str = "none", log_file: str | Path | None = None,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.repository = Path(model_repository).resolve()
        self.host, self.http_port, self.grpc_port, self.metrics_port = host, http_port, grpc_port, metrics_port
        self.model_control = model_control
        self.log_file = Path(log_file) if log_file else Path(tempfile.gettempdir()) / f"skyseg-tritonserver-{http_port}.log"
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None

    @property
    def http_url(self) -> str:
        return f"{self.host}:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"{self.host}:{self.grpc_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self.host}:{self.metrics_port}/metrics"

    def command(self) -> list[str]:
        # The CPU build has only the Python backend, laid out here, and no GPU metrics to collect.
        cpu_build = [f"--backend-directory={backend_directory()}", "--allow-gpu-metrics=false"] if bundled() else []
        # explicit: every model loads at start, then changes only on load/unload requests
        load_all = ["--load-model=*"] if self.model_control == "explicit" else []
        return [tritonserver_binary(),
                f"--model-repository={self.repository}", *cpu_build,
                f"--model-control-mode={self.model_control}", *load_all,
                "--exit-on-error=true", "--strict-readiness=true",
                f"--http-address={self.host}", f"--http-port={self.http_port}",
                f"--grpc-address={self.host}", f"--grpc-port={self.grpc_port}",
                f"--metrics-address={self.host}", f"--metrics-port={self.metrics_port}",
                *self.extra_args]

    def start(self, timeout_s: float = 180.0) -> "TritonServer":
        if not self.repository.is_dir():
            raise ServerError(f"model repository {self.repository} does not exist: "
                              "write one with `skyseg build-repo --out DIR`")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "wb") as sink:
            self.process = subprocess.Popen(self.command(), stdout=sink, stderr=subprocess.STDOUT,
                                            env=server_environment(), start_new_session=True)
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"tritonserver exited with code {self.process.returncode} before it "
                                  f"was ready:\n{self.errors()}\n(full log: {self.log_file})")
            if self.is_ready():
                return
            time.sleep(0.25)
        self.stop()
        raise ServerError(f"tritonserver not ready after {timeout_s:.0f} s:\n{self.errors()}")

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.http_url}/v2/health/ready", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def errors(self, lines: int = 40) -> str:
        """The server's error lines (model load failures carry the model's own message)."""
        text = self.log_file.read_text(errors="replace").splitlines() if self.log_file.exists() else []
        noise = ("CudaDriverHelper", "pinned memory", "CUDA", "cuda")  # CPU-only hosts log these harmlessly
        picked = [l for l in text if (l.startswith("E") or "error" in l.lower() or "failed" in l.lower())
                  and not any(n in l for n in noise)]
        return "\n".join((picked or text)[-lines:])

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> "TritonServer":
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="run tritonserver (CPU) on a model repository")
    p.add_argument("--model-repository", type=Path, default=DEFAULT_REPOSITORY)
    p.add_argument("--host", default="127.0.0.1", help="bind address (default loopback only)")
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--grpc-port", type=int, default=8001)
    p.add_argument("--metrics-port", type=int, default=8002)
    p.add_argument("--model-control", choices=["none", "poll", "explicit"], default="none",
                   help="'none' (default) refuses load/unload requests over the API; 'explicit' loads every "
                        "model at start and then accepts them (a new network version without downtime)")
    p.add_argument("--log-file", type=Path)
    p.add_argument("--print-command", action="store_true",
                   help="print the equivalent `tritonserver --model-repository ...` shell command and exit")
    p.add_argument("tritonserver_args", nargs="*", metavar="-- TRITONSERVER_ARG",
                   help="passed on to tritonserver after `--`, e.g. -- --log-verbose=1")
    p.set_defaults(func=_serve)


def shell_command(server: TritonServer) -> str:
    env = server_environment()
    exports = " ".join(f"{k}={shlex.quote(env[k])}" for k in ("PATH", "LD_LIBRARY_PATH", "OMP_NUM_THREADS"))
    return f"env {exports} " + " ".join(shlex.quote(part) for part in server.command())


def _serve(args: argparse.Namespace) -> int:
    server = TritonServer(args.model_repository, args.host, args.http_port, args.grpc_port,
                          args.metrics_port, args.model_control, args.log_file, tuple(args.tritonserver_args))
    if args.print_command:
        print(shell_command(server))
        return 0
    print(f"starting tritonserver on {server.repository} (log: {server.log_file})", flush=True)
    server.start()
    print(f"ready\n  HTTP     http://{server.http_url}\n  gRPC     {server.grpc_url}\n"
          f"  metrics  {server.metrics_url}\nCtrl-C to stop.", flush=True)
    stop = {"now": False}

    def _request_stop(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)  # explicit: a shell may start us with SIGINT ignored
    try:
        while not stop["now"] and server.process.poll() is None:
            time.sleep(0.5)
    finally:
        print("stopping tritonserver", flush=True)
        server.stop()
    if server.process.returncode not in (0, -signal.SIGTERM, None) and not stop["now"]:
        print(f"tritonserver exited with {server.process.returncode}:\n{server.errors()}", file=sys.stderr)
        return 1
    return 0
