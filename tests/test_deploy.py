"""deploy/: Kubernetes manifests validate offline and agree with the server image and the code.

Two tiers run the one server image (docker/Dockerfile.server): deploy/kubernetes/deployment.yaml on
GPU nodes (SKYSEG_TARGET=gpu) and deploy/kubernetes/cpu/ without a GPU (SKYSEG_TARGET=cpu), each with
its own Services and autoscaler; deploy/kserve/ runs the GPU one as a KServe custom predictor.
"""
import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "kubernetes"
CORE = sorted(K8S.rglob("*.yaml"))
KSERVE = ROOT / "deploy" / "kserve" / "inferenceservice.yaml"
SERVER_DOCKERFILE = (ROOT / "docker" / "Dockerfile.server").read_text()
GPU, CPU = "skyseg-triton", "skyseg-triton-cpu"  # Deployment names
TARGETS = {"gpu", "cpu", "auto"}  # what the image's entrypoint reads from SKYSEG_TARGET
K8S_VERSION = "1.30.0"


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _all(kind: str) -> list[dict]:
    return [d for p in CORE for d in _docs(p) if d["kind"] == kind]


def _kind(kind: str) -> dict:
    (found,) = _all(kind)
    return found


def _deployment(name: str) -> dict:
    (found,) = [d for d in _all("Deployment") if d["metadata"]["name"] == name]
    return found


def _pod(name: str) -> dict:
    return _deployment(name)["spec"]["template"]["spec"]


def _container(name: str) -> dict:
    (container,) = _pod(name)["containers"]
    return container


def _env(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def _selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def test_both_tiers_exist():
    assert {d["metadata"]["name"] for d in _all("Deployment")} == {GPU, CPU}
    assert (K8S / "cpu" / "deployment.yaml").exists()


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(K8S)))
def test_manifest_validates_against_kubernetes_schemas(path):
    for resource in _docs(path):
        kubernetes_validate.validate(resource, K8S_VERSION, strict=True)


@pytest.mark.parametrize("name", [GPU, CPU])
def test_deployment_matches_the_server_image(name):
    from skyseg.serving import TritonServer

    pod, container = _pod(name), _container(name)
    compose = yaml.safe_load((ROOT / "docker" / "docker-compose.yml").read_text())
    assert container["image"] == compose["services"]["server"]["image"]
    assert _env(container)["SKYSEG_TARGET"] in TARGETS
    defaults = TritonServer()
    assert {p["containerPort"] for p in container["ports"]} == {defaults.http_port, defaults.grpc_port, defaults.metrics_port}
    assert container["startupProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert str(pod["securityContext"]["runAsUser"]) == re.search(r"^USER (\S+)$", SERVER_DOCKERFILE, re.M).group(1)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert "/dev/shm" in {m["mountPath"] for m in container["volumeMounts"]}  # Python-backend stubs


def test_gpu_deployment_requests_a_gpu_and_caches_its_plans():
    container = _container(GPU)
    assert _env(container)["SKYSEG_TARGET"] == "gpu"  # explicit: no silent CPU fallback on a GPU node
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert re.search(r'^VOLUME \["(\S+)"\]$', SERVER_DOCKERFILE, re.M).group(1) in mounts


def _quantity(text: str) -> float:
    units = {"m": 1e-3, "": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    number, unit = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text)).groups()
    return float(number) * units[unit]


def test_cpu_deployment_runs_without_a_gpu():
    pod, container = _pod(CPU), _container(CPU)
    assert _env(container)["SKYSEG_TARGET"] == "cpu"
    resources = container["resources"]
    for section in ("requests", "limits"):
        assert not [r for r in resources[section] if "gpu" in r.lower()], f"the CPU tier {section} a GPU"
        assert _quantity(resources[section]["cpu"]) >= 2 and _quantity(resources[section]["memory"]) >= 2 * 2**30
    assert resources["requests"] == resources["limits"]  # Guaranteed QoS
    # nothing that ties the pods to GPU nodes: no selector, affinity, toleration or runtime class
    placement = {k: v for k, v in pod.items() if k not in ("containers", "securityContext", "volumes")}
    assert not re.search(r"gpu|nvidia", json.dumps(placement), re.I), placement


def test_cpu_deployment_keeps_the_gpu_deployments_security_defaults():
    gpu_pod, cpu_pod = _pod(GPU), _pod(CPU)
    assert cpu_pod["securityContext"] == gpu_pod["securityContext"]
    assert _container(CPU)["securityContext"] == _container(GPU)["securityContext"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert _container(CPU)[probe] == _container(GPU)[probe]
    assert _container(CPU)["ports"] == _container(GPU)["ports"]


def test_each_service_selects_one_tier():
    """A Service over both tiers would mix GPU and CPU latencies; each tier has its own."""
    deployments = _all("Deployment")
    for service in _all("Service"):
        selected = [d["metadata"]["name"] for d in deployments
                    if _selects(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])]
        assert len(selected) == 1, f"Service {service['metadata']['name']} selects {selected}"
    for deployment in deployments:
        name, labels = deployment["metadata"]["name"], deployment["spec"]["template"]["metadata"]["labels"]
        assert _selects(deployment["spec"]["selector"]["matchLabels"], labels)
        own = {s["metadata"]["name"] for s in _all("Service") if _selects(s["spec"]["selector"], labels)}
        assert own == {name, f"{name}-pods"}, own  # ClusterIP + headless (batch clients spread over pods)


def test_autoscalers_read_the_metric_the_adapter_defines():
    rules = _kind("ConfigMap")
    adapter = yaml.safe_load(rules["data"]["config.yaml"])
    names = {rule["name"]["as"] for rule in adapter["rules"]}
    assert "nv_inference_queue_duration_us" in rules["data"]["config.yaml"]  # Triton's queue-time counter
    targets = []
    for hpa in _all("HorizontalPodAutoscaler"):
        assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] in names
        targets.append(hpa["spec"]["scaleTargetRef"]["name"])
    assert sorted(targets) == sorted([GPU, CPU])  # one autoscaler per tier


# --- KServe -------------------------------------------------------------------------------------

# ComponentExtensionSpec (serving.kserve.io/v1beta1): the predictor's fields that are not PodSpec
KSERVE_EXTENSION = {
    "type": "object",
    "properties": {
        "minReplicas": {"type": "integer", "minimum": 0},
        "maxReplicas": {"type": "integer", "minimum": 1},
        "scaleMetric": {"enum": ["cpu", "memory", "concurrency", "rps"]},
        "scaleTarget": {"type": "integer", "minimum": 1},
        "containerConcurrency": {"type": "integer", "minimum": 0},
        "timeout": {"type": "integer", "minimum": 1},
        "canaryTrafficPercent": {"type": "integer", "minimum": 0, "maximum": 100},
        "labels": {"type": "object"},
        "annotations": {"type": "object"},
        "deploymentStrategy": {"type": "object"},
        "logger": {"type": "object"},
        "batcher": {"type": "object"},
    },
}


def _inference_service() -> dict:
    (service,) = _docs(KSERVE)
    return service


def test_inferenceservice_is_a_kserve_custom_predictor():
    """kubernetes-validate has no KServe schema (a CRD): check the InferenceService's own fields here,
    and its pod, which KServe takes as a core PodSpec, against the Kubernetes schema."""
    service = _inference_service()
    with pytest.raises(kubernetes_validate.utils.SchemaNotFoundError):  # if this changes, validate it whole
        kubernetes_validate.validate(service, K8S_VERSION, strict=True)
    jsonschema.validate(service, {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "serving.kserve.io/v1beta1"},
            "kind": {"const": "InferenceService"},
            "metadata": {"required": ["name"], "properties": {"annotations": {"properties": {
                # RawDeployment ("Standard" from KServe 0.16): several ports, pod securityContext
                "serving.kserve.io/deploymentMode": {"enum": ["RawDeployment", "Standard"]}}}}},
            "spec": {"type": "object", "required": ["predictor"], "additionalProperties": False,
                     "properties": {"predictor": {"type": "object", "required": ["containers"],
                                                  "not": {"required": ["model"]}}}},  # one implementation
        },
    })
    predictor = service["spec"]["predictor"]
    extension = {k: v for k, v in predictor.items() if k in KSERVE_EXTENSION["properties"]}
    jsonschema.validate(extension, KSERVE_EXTENSION)
    assert extension.get("minReplicas", 1) <= extension["maxReplicas"]
    pod_spec = {k: v for k, v in predictor.items() if k not in extension}  # anything unknown fails here
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "skyseg-predictor"}, "spec": pod_spec}
    kubernetes_validate.validate(pod, K8S_VERSION, strict=True)


def test_inferenceservice_runs_the_deployments_image_and_settings():
    predictor = _inference_service()["spec"]["predictor"]
    (container,) = predictor["containers"]
    gpu = _container(GPU)
    assert container["name"] == "kserve-container"  # the container KServe treats as the predictor
    assert container["image"] == gpu["image"] == _container(CPU)["image"]
    env = _env(container)
    assert env["SKYSEG_TARGET"] == "gpu" and env["PROTOCOL"] == "v2"
    assert container["resources"] == gpu["resources"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    # KServe's raw Service maps port 80 to the first port: HTTP, where /v2/... lives
    assert container["ports"][0]["containerPort"] == gpu["ports"][0]["containerPort"] == 8000
    assert {p["containerPort"] for p in container["ports"]} == {p["containerPort"] for p in gpu["ports"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe] == gpu[probe]
    assert predictor["securityContext"] == _pod(GPU)["securityContext"]
    assert container["securityContext"] == gpu["securityContext"]
    assert {m["mountPath"] for m in container["volumeMounts"]} == {m["mountPath"] for m in gpu["volumeMounts"]}
    assert "storageUri" not in json.dumps(predictor)  # the image carries its repository
