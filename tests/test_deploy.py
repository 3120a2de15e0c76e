"""deploy/: Kubernetes manifests validate offline and agree with the server image and the code."""
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CORE = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
KSERVE = ROOT / "deploy" / "kserve" / "inferenceservice.yaml"
SERVER_DOCKERFILE = (ROOT / "docker" / "Dockerfile.server").read_text()


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _kind(kind: str) -> dict:
    return next(d for p in CORE for d in _docs(p) if d["kind"] == kind)


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_manifest_validates_against_kubernetes_schemas(path):
    for resource in _docs(path):
        kubernetes_validate.validate(resource, "1.30.0", strict=True)


def test_inferenceservice_has_the_fields_kserve_requires():
    """kubernetes-validate has no KServe schema; check the v1beta1 fields this manifest relies on."""
    schema = {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "serving.kserve.io/v1beta1"},
            "kind": {"const": "InferenceService"},
            "spec": {"type": "object", "required": ["predictor"], "properties": {"predictor": {
                "type": "object", "required": ["model"], "properties": {"model": {
                    "type": "object", "required": ["modelFormat", "storageUri"],
                    "properties": {"modelFormat": {"type": "object", "required": ["name"],
                                                   "properties": {"name": {"const": "triton"}}},
                                   "storageUri": {"type": "string", "pattern": "^(s3|gs|pvc|https?)://"}}}}}}},
        },
    }
    (service,) = _docs(KSERVE)
    jsonschema.validate(service, schema)
    assert service["spec"]["predictor"]["model"]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_deployment_matches_the_server_image():
    from skyseg.serving import TritonServer

    deployment = _kind("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    compose = yaml.safe_load((ROOT / "docker" / "docker-compose.yml").read_text())
    assert container["image"] == compose["services"]["server"]["image"]
    defaults = TritonServer()
    assert {p["containerPort"] for p in container["ports"]} == {defaults.http_port, defaults.grpc_port, defaults.metrics_port}
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert str(pod["securityContext"]["runAsUser"]) == re.search(r"^USER (\S+)$", SERVER_DOCKERFILE, re.M).group(1)
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert re.search(r'^VOLUME \["(\S+)"\]$', SERVER_DOCKERFILE, re.M).group(1) in mounts


def test_autoscaler_reads_the_metric_the_adapter_defines():
    hpa, rules = _kind("HorizontalPodAutoscaler"), _kind("ConfigMap")
    adapter = yaml.safe_load(rules["data"]["config.yaml"])
    names = {rule["name"]["as"] for rule in adapter["rules"]}
    assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] in names
    assert "nv_inference_queue_duration_us" in rules["data"]["config.yaml"]  # Triton's queue-time counter
    assert hpa["spec"]["scaleTargetRef"]["name"] == _kind("Deployment")["metadata"]["name"]
