"""deploy/monitoring/: the Grafana dashboard and the ServiceMonitor, validated offline.

The dashboard is checked against a JSON schema of what Grafana needs, its PromQL against the /metrics
of the real tritonserver serving the committed model_repository (every metric it reads is exported,
every model it names is served, counters are read through rate() and gauges are not), and the
ServiceMonitor (a Prometheus Operator CRD, unknown to kubernetes-validate) against a schema of its
fields and the Services in deploy/kubernetes/.
"""
from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
import yaml

try:
    import jsonschema
except ImportError:  # a dependency of kubernetes-validate, but these tests use it directly
    jsonschema = None

ROOT = Path(__file__).resolve().parents[1]
MONITORING = ROOT / "deploy" / "monitoring"
DASHBOARD_PATH = MONITORING / "grafana-dashboard.json"
SERVICEMONITOR_PATH = MONITORING / "servicemonitor.yaml"
K8S = ROOT / "deploy" / "kubernetes"
REPOSITORY = ROOT / "model_repository"
DATASOURCE_UIDS = {"${datasource}", "$datasource"}  # the template variable, never a real uid


def _validate(instance, schema) -> None:
    if jsonschema is None:
        pytest.fail("the `jsonschema` package is not installed: add \"jsonschema>=4.18,<5\" to the `test` "
                    "extra in pyproject.toml and reinstall (pip install -e '.[test]')")
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)


def _dashboard() -> dict:
    return json.loads(DASHBOARD_PATH.read_text())


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _panels(dashboard: dict) -> list[dict]:
    """Every panel, including those inside collapsed rows."""
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def _exprs(dashboard: dict) -> list[str]:
    return [t["expr"] for p in _panels(dashboard) for t in p.get("targets", [])]


def _variable_queries(dashboard: dict) -> list[str]:
    out = []
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]
            out.append(query["query"] if isinstance(query, dict) else query)
    return out


# --- the dashboard's JSON ---------------------------------------------------------------------------

DATASOURCE_REF = {
    "type": "object",
    "required": ["type", "uid"],
    "properties": {"type": {"const": "prometheus"}, "uid": {"enum": sorted(DATASOURCE_UIDS)}},
}
GRID_POS = {
    "type": "object",
    "required": ["h", "w", "x", "y"],
    "properties": {"h": {"type": "integer", "minimum": 1}, "w": {"type": "integer", "minimum": 1, "maximum": 24},
                   "x": {"type": "integer", "minimum": 0, "maximum": 23}, "y": {"type": "integer", "minimum": 0}},
}
TARGET = {
    "type": "object",
    "required": ["refId", "expr", "datasource"],
    "properties": {"refId": {"type": "string", "pattern": "^[A-Z]$"},
                   "expr": {"type": "string", "minLength": 1},
                   "legendFormat": {"type": "string"},
                   "datasource": DATASOURCE_REF},
}
PANEL = {
    "type": "object",
    "required": ["id", "type", "title", "gridPos"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "type": {"enum": ["row", "timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "text"]},
        "title": {"type": "string", "minLength": 3},
        "description": {"type": "string"},
        "gridPos": GRID_POS,
        "datasource": DATASOURCE_REF,
        "targets": {"type": "array", "items": TARGET},
        "panels": {"type": "array", "items": {"$ref": "#/$defs/panel"}},
        "fieldConfig": {"type": "object", "required": ["defaults"],
                        "properties": {"defaults": {"type": "object"}, "overrides": {"type": "array"}}},
    },
    "if": {"properties": {"type": {"const": "row"}}},
    "then": {"properties": {"targets": {"maxItems": 0}}},
    # a data panel: queries, a data source and words for the person reading it
    "else": {"required": ["targets", "datasource", "description"],
             "properties": {"targets": {"minItems": 1}, "description": {"minLength": 20}}},
}
VARIABLE = {
    "type": "object",
    "required": ["type", "name"],
    "properties": {"type": {"enum": ["datasource", "query", "custom", "constant", "interval", "textbox"]},
                   "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}},
    "allOf": [
        {"if": {"properties": {"type": {"const": "datasource"}}},
         "then": {"required": ["query"], "properties": {"query": {"const": "prometheus"}}}},
        {"if": {"properties": {"type": {"const": "query"}}},
         "then": {"required": ["query", "datasource"], "properties": {"datasource": DATASOURCE_REF}}},
    ],
}
DASHBOARD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {"panel": PANEL},
    "type": "object",
    "required": ["uid", "title", "schemaVersion", "panels", "templating", "time"],
    "properties": {
        "uid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "title": {"type": "string", "minLength": 3},
        "schemaVersion": {"type": "integer", "minimum": 36, "maximum": 41},
        "id": {"type": "null"},  # an exported id would clash with the target Grafana's own
        "time": {"type": "object", "required": ["from", "to"]},
        "panels": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/panel"}},
        "templating": {"type": "object", "required": ["list"],
                       "properties": {"list": {"type": "array", "items": VARIABLE}}},
    },
    "not": {"required": ["__inputs"]},  # the datasource variable replaces import-time inputs
}


def test_dashboard_matches_the_grafana_schema():
    _validate(_dashboard(), DASHBOARD_SCHEMA)


def test_schema_rejects_what_grafana_would_not_load():
    """The schema above is not vacuous: each of these breakages fails it."""
    if jsonschema is None:
        pytest.fail("the `jsonschema` package is not installed (see test_dashboard_matches_the_grafana_schema)")
    good = _dashboard()
    data_panel = next(i for i, p in enumerate(good["panels"]) if p["type"] != "row")

    def broken(change):
        dashboard = _dashboard()
        change(dashboard, dashboard["panels"][data_panel])
        return dashboard

    for change in (
        lambda d, p: p.pop("gridPos"),
        lambda d, p: p.pop("title"),
        lambda d, p: p["targets"][0].pop("expr"),
        lambda d, p: p["targets"][0].pop("refId"),
        lambda d, p: p.update(targets=[]),
        lambda d, p: p["datasource"].update(uid="P1809F7CD0C75ACF3"),  # a hard-coded data source
        lambda d, p: p["targets"][0]["datasource"].update(uid="prometheus"),
        lambda d, p: d.pop("templating"),
        lambda d, p: d["templating"]["list"][0].update(query="loki"),
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken(change), DASHBOARD_SCHEMA, cls=jsonschema.Draft202012Validator)


def test_no_datasource_is_hard_coded():
    """Anywhere in the JSON (panels, targets, variables, rows), a data source is the variable."""
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "datasource":
                    found.append((where, value))
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(_dashboard(), "$")
    assert found
    wrong = [(where, ds) for where, ds in found
             if not (isinstance(ds, dict) and ds.get("uid") in DATASOURCE_UIDS) and ds not in DATASOURCE_UIDS]
    assert not wrong, wrong


def test_dashboard_has_the_variables_and_unique_ids():
    dashboard = _dashboard()
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for name in ("pod", "model"):
        assert variables[name]["type"] == "query"
        assert variables[name].get("includeAll") and variables[name].get("allValue") == ".*", \
            f"${name}: 'All' must match series without the label too (a server outside Kubernetes has no pod)"
    panels = _panels(dashboard)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    titles = [p["title"] for p in panels]
    assert len(titles) == len(set(titles)), "two panels with one title"
    for panel in panels:
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), f"{panel['title']}: duplicate refIds {refs}"
        # every variable a query uses is defined
        for expr in (t["expr"] for t in panel.get("targets", [])):
            used = set(re.findall(r"\$(?:\{)?([A-Za-z_]\w*)", expr)) - {"__rate_interval", "__interval", "__range"}
            assert used <= set(variables), f"{panel['title']}: undefined variables {used - set(variables)}"
            assert set(re.findall(r"\$\{?(\w+)", expr)) >= {"namespace", "job", "pod"}, \
                f"{panel['title']}: a query that ignores the namespace/tier/pod selection: {expr}"


def test_panels_do_not_overlap_and_fit_the_grid():
    cells = {}
    for panel in _dashboard()["panels"]:  # top level: the grid Grafana lays out
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24, f"{panel['title']} runs off the 24-column grid"
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_dashboard_covers_what_the_issue_asks_for():
    text = "\n".join(_exprs(_dashboard()))
    for metric in ("nv_inference_request_success", "nv_inference_request_failure", "nv_inference_queue_duration_us",
                   "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us",
                   "nv_inference_compute_output_duration_us", "nv_inference_exec_count", "nv_inference_count",
                   "nv_inference_pending_request_count", "nv_cpu_utilization", "nv_cpu_memory_used_bytes"):
        assert metric in text, metric
    # average batch size: inferences over executions, as rates
    assert re.search(r"rate\(nv_inference_count\{[^}]*\}\[\$__rate_interval\]\)\)\s*/\s*sum by \(model\) "
                     r"\(rate\(nv_inference_exec_count\{", text)


# --- PromQL against the real server -----------------------------------------------------------------

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                "offset", "inf", "nan"}


def _balanced(expr: str) -> bool:
    stack, pairs = [], {")": "(", "}": "{", "]": "["}
    for ch in re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr):
        if ch in "({[":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            return False
    return not stack


def _metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression (or a label_values() variable query) reads."""
    expr = re.sub(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$", r"\1", expr, flags=re.S)  # label_values(sel, label)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    expr = re.sub(r"\{[^{}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\[\]]*\]", " ", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", expr)  # label lists
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        following = expr[match.end():].lstrip()[:1]
        if following != "(" and match.group() not in PROMQL_WORDS and not re.fullmatch(r"e\d*", match.group()):
            names.add(match.group())
    return names


def _model_matchers(expr: str) -> list[tuple[str, str]]:
    return re.findall(r'\bmodel\s*(=~|!~|!=|=)\s*"([^"]*)"', expr)


def test_promql_helpers_see_what_they_should():
    expr = ('sum by (model) (rate(nv_a_us{job=~"$job", model=~"x|y"}[$__rate_interval]))\n'
            '/ clamp_min(sum by (model) (rate(nv_b{model!~"z"}[5m])) + nv_c, 1e-9)')
    assert _metric_names(expr) == {"nv_a_us", "nv_b", "nv_c"}
    assert _metric_names('label_values(nv_d{namespace=~"$namespace"}, pod)') == {"nv_d"}
    assert _model_matchers(expr) == [("=~", "x|y"), ("!~", "z")]
    assert _balanced(expr) and not _balanced("rate(nv_a{x=\"1\"}[5m]")


@pytest.fixture(scope="module")
def served_metrics(triton_server) -> dict:
    """The real server's /metrics after a few requests through both ensembles: {name: (type, models)}."""
    import cv2
    from skyseg_client import SkySegClient

    from skyseg.samples import render_scene

    frame = render_scene(640, 480, seed=1)
    ok, jpeg = cv2.imencode(".jpg", frame)
    assert ok
    with SkySegClient(triton_server.grpc_url) as client:
        for _ in range(3):
            assert client.segment(jpeg.tobytes()).shape[:2] == (480, 640)  # sky_segmentation
        assert client.segment(frame).shape[:2] == (480, 640)  # a raw frame: sky_segmentation_raw
    text = urllib.request.urlopen(triton_server.metrics_url, timeout=10).read().decode()
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    models: dict[str, dict[str, float]] = {}
    for name, labels, value in re.findall(r"^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$", text, re.M):
        model = dict(re.findall(r'(\w+)="([^"]*)"', labels or "")).get("model")
        entry = models.setdefault(name, {})
        if model is not None:
            entry[model] = entry.get(model, 0.0) + float(value)
    return {name: (types.get(name), models.get(name, {})) for name in set(types) | set(models)}


@pytest.mark.slow
def test_every_metric_the_dashboard_reads_is_exported(served_metrics):
    dashboard = _dashboard()
    queries = _exprs(dashboard) + _variable_queries(dashboard)
    for query in queries:
        assert _balanced(query), f"unbalanced brackets in {query!r}"
    used = set().union(*map(_metric_names, queries))
    assert used, "no metric found in the dashboard's queries"
    missing = used - set(served_metrics)
    assert not missing, (f"the dashboard reads metrics Triton does not export: {sorted(missing)}; "
                         f"exported: {sorted(served_metrics)}")


@pytest.mark.slow
def test_counters_are_read_through_rate_and_gauges_are_not(served_metrics):
    for expr in _exprs(_dashboard()):
        for metric in _metric_names(expr) & set(served_metrics):  # unknown names: the test above
            kind, _ = served_metrics[metric]
            selectors = len(re.findall(rf"\b{metric}\{{", expr))
            as_rate = len(re.findall(rf"\brate\({metric}\{{[^}}]*\}}\[\$__rate_interval\]\)", expr))
            assert selectors == len(re.findall(rf"\b{metric}\b", expr)), f"{metric} without a label selector: {expr}"
            if kind == "counter":
                assert as_rate == selectors, f"counter {metric} not read as rate(...[$__rate_interval]): {expr}"
            else:
                assert kind == "gauge" and as_rate == 0, f"{kind} {metric} read through rate(): {expr}"


def _ensembles() -> set[str]:
    return {p.parent.name for p in REPOSITORY.glob("*/config.pbtxt")
            if re.search(r'^platform:\s*"ensemble"', p.read_text(), re.M)}


@pytest.mark.slow
def test_every_model_the_dashboard_names_is_served(served_metrics):
    """Model filters are `$model` or a fixed regex that picks the ensembles: the ensemble panels keep
    them (`=~`), the per-step panels drop them (`!~`, an ensemble's times are its steps' sum). Each
    fixed one must select, among the models the real server labels its series with, exactly the
    repository's ensembles: a renamed model or a new ensemble the regex misses fails here."""
    served = set(served_metrics["nv_inference_request_success"][1])
    ensembles = _ensembles()
    assert ensembles and ensembles <= served, (ensembles, served)
    assert served - ensembles, "no step models in the series"
    success = served_metrics["nv_inference_request_success"][1]
    fixed = []
    for expr in _exprs(_dashboard()):
        for _, value in _model_matchers(expr):
            if "$" in value:
                assert value in {"$model", "${model}"}, value
                continue
            fixed.append(value)
            selected = {m for m in served if re.fullmatch(value, m)}  # PromQL regexes are anchored
            assert selected, f"model filter {value!r} selects no model the server serves: {sorted(served)}"
            for name in (alt for alt in value.split("|") if re.fullmatch(r"[A-Za-z0-9_-]+", alt)):
                assert name in served, f"the dashboard names model {name!r}, which the server does not serve"
            assert selected == ensembles, f"model filter {value!r} selects {sorted(selected)}, not the ensembles {sorted(ensembles)}"
            assert any(success[m] > 0 for m in selected), "the requests sent above went to none of them"
    assert fixed, "the dashboard has no ensemble panels"


# --- the ServiceMonitor -----------------------------------------------------------------------------

DURATION = {"type": "string", "pattern": r"^([0-9]+(ms|s|m|h))+$"}
SERVICEMONITOR_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object", "required": ["name"],
                     "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "jobLabel": {"type": "string"},
                "namespaceSelector": {"type": "object"},
                "selector": {"type": "object", "required": ["matchLabels"], "additionalProperties": False,
                             "properties": {"matchLabels": {"type": "object", "minProperties": 1,
                                                            "additionalProperties": {"type": "string"}}}},
                "endpoints": {"type": "array", "minItems": 1, "items": {
                    "type": "object",
                    "required": ["port", "path", "interval"],
                    "additionalProperties": False,
                    "properties": {"port": {"type": "string", "minLength": 1},  # the Service port's name
                                   "path": {"type": "string", "pattern": "^/"},
                                   "interval": DURATION,
                                   "scrapeTimeout": DURATION,
                                   "scheme": {"enum": ["http", "https"]}}}},
            },
        },
    },
}


def _seconds(duration: str) -> float:
    units = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h)", duration))


def _servicemonitors() -> list[dict]:
    return _docs(SERVICEMONITOR_PATH)


def _services() -> list[dict]:
    return [d for p in sorted(K8S.rglob("*.yaml")) for d in _docs(p) if d["kind"] == "Service"]


def test_servicemonitor_matches_its_schema():
    monitors = _servicemonitors()
    assert monitors
    for monitor in monitors:
        _validate(monitor, SERVICEMONITOR_SCHEMA)
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["path"] == "/metrics"
            assert _seconds(endpoint["interval"]) == 15
            assert _seconds(endpoint.get("scrapeTimeout", endpoint["interval"])) <= _seconds(endpoint["interval"])
    names = [m["metadata"]["name"] for m in monitors]
    assert len(names) == len(set(names)), names


def test_servicemonitor_is_not_a_core_kubernetes_kind():
    """kubernetes-validate has no schema for the CRD; if that changes, validate the file with it too."""
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for monitor in _servicemonitors():
        with pytest.raises(kubernetes_validate.utils.SchemaNotFoundError):
            kubernetes_validate.validate(monitor, "1.30.0", strict=True)
    # ...and it is kept out of deploy/kubernetes/, whose files `kubectl apply` must take without CRDs
    assert not [p for p in K8S.rglob("*.yaml") for d in _docs(p) if d.get("apiVersion", "").startswith("monitoring.")]


def _selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def test_servicemonitors_scrape_every_tier_once_on_the_metrics_port():
    from skyseg.serving import TritonServer

    services = _services()
    assert services
    metrics_port = TritonServer().metrics_port  # 8002, Triton's --metrics-port default the image uses
    scraped = []  # (monitor, service) pairs that yield targets
    for monitor in _servicemonitors():
        selected = [s for s in services if _selects(monitor["spec"]["selector"]["matchLabels"],
                                                    s["metadata"].get("labels", {}))]
        assert selected, f"ServiceMonitor {monitor['metadata']['name']} selects no Service"
        for endpoint in monitor["spec"]["endpoints"]:
            with_port = [s for s in selected if endpoint["port"] in {p.get("name") for p in s["spec"]["ports"]}]
            # exactly one Service per tier has the port: two would scrape every pod twice
            assert len(with_port) == 1, (monitor["metadata"]["name"], [s["metadata"]["name"] for s in with_port])
            (service,) = with_port
            (port,) = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
            assert port["port"] == metrics_port, port
            scraped.append(service)
    # every Service with a metrics port (every tier) is scraped, each once
    exposing = [s["metadata"]["name"] for s in services if metrics_port in {p["port"] for p in s["spec"]["ports"]}]
    assert sorted(s["metadata"]["name"] for s in scraped) == sorted(exposing)
    assert set(exposing) == {"skyseg-triton", "skyseg-triton-cpu"}, exposing
