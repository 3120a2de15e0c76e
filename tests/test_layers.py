"""Layers that only point down: the core (skyseg/: contract, ops, serving) imports nothing from
train/, convert/, OpenMMLab or torch; the ops import only numpy and OpenCV (they run as
``skyseg_ops`` inside Triton); and no code anywhere loads Python from model_repository/, which is
build-repo's output."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "skyseg"
ABOVE_THE_CORE = ("skyseg.train", "skyseg.convert", "train", "convert", "mmseg", "mmengine", "mmcv", "torch",
                  "benchmarks", "tests")


def _imports(path: Path, package: str, relative: bool = True) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``path``, function-level ones included; without
    ``relative``, the absolute imports only."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level and relative:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append((node.lineno, ".".join(base + ([node.module] if node.module else []))))
            elif not node.level:
                found.append((node.lineno, node.module or ""))
    return found


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def _is_under(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


CORE_FILES = sorted(p for p in CORE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_imports_nothing_above_it(path):
    bad = [f"line {line}: {module}" for line, module in _imports(path, _package_of(path))
           if _is_under(module, ABOVE_THE_CORE)]
    assert not bad, f"{path.relative_to(ROOT)} imports above the core: {bad}"


@pytest.mark.parametrize("path", sorted((CORE / "ops").glob("*.py")), ids=lambda p: p.name)
def test_the_ops_import_only_numpy_opencv_the_standard_library_and_each_other(path):
    allowed = set(sys.stdlib_module_names) | {"numpy", "cv2"}
    bad = [f"line {line}: {module}" for line, module in _imports(path, "skyseg.ops")
           if not module.startswith("skyseg.ops") and module.split(".")[0] not in allowed]
    absolute_self = [line for line, module in _imports(path, "skyseg.ops", relative=False) if module.startswith("skyseg")]
    assert not bad, f"{path.name} would not run as skyseg_ops inside Triton: {bad}"
    assert not absolute_self, f"{path.name} must import its siblings relatively (it is also skyseg_ops): lines {absolute_self}"


CODE = sorted(p for folder in ("skyseg", "train", "convert", "benchmarks", "client")
              for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_loads_python_from_the_model_repository(path):
    text = path.read_text()
    loaders = ("spec_from_file_location", "SourceFileLoader", "sys.path.insert", "sys.path.append", "runpy")
    if "model_repository" in text:
        assert not any(loader in text for loader in loaders), f"{path.relative_to(ROOT)} loads code by path"
    templates = CORE / "triton_models"
    if templates not in path.parents:  # only the Triton models import the ops under their served name
        assert not any(m == "skyseg_ops" or m.startswith("skyseg_ops.") for _, m in _imports(path, _package_of(path)))


def test_importing_the_core_loads_nothing_above_it_nor_anything_from_the_repository():
    code = ("import sys\nimport skyseg.assets, skyseg.contract, skyseg.ops, skyseg.pipeline, skyseg.serving\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'mmseg', 'mmengine', 'mmcv') "
            "or m.startswith(('skyseg.train', 'skyseg.convert'))))\n"
            "print(sorted(m.__name__ for m in list(sys.modules.values()) "
            "if 'model_repository' in (getattr(m, '__file__', None) or '')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "[]"]
