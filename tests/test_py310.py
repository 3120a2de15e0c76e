"""Every Python file that ships or runs in the server image is Python 3.10 code.

NGC's tritonserver 24.10 image (the GPU server) runs Python 3.10 and pyproject declares
requires-python >=3.10, while development happens on 3.11+: nothing else would notice a 3.11-only
construct before a container fails to load a model. Two static checks, no interpreter needed:

- every file parses with the 3.10 grammar (`ast.parse(..., feature_version=(3, 10))`, on this
  interpreter): syntax errors and newer grammar (`except*`, `type X = ...`, PEP 695 generics).
  vermin alone is not enough here: a file this interpreter cannot parse is reported by vermin
  as a note and still exits 0, so 3.12 syntax checked under 3.11 would pass silently.
- vermin (https://github.com/netromdk/vermin) finds the standard-library modules, members and
  language features each file needs (`tomllib`, `typing.Self`, `asyncio.TaskGroup`, ...).

train/configs is not excluded: MMEngine executes those files with the same interpreter, and
they pass.
"""
import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("skyseg", "convert", "client", "train", "model_repository")
TARGET = (3, 10)
VERMIN_PIN = "vermin==1.9.2"  # keep in step with pyproject's test extra


def python_files(root: Path = ROOT, folders=FOLDERS) -> list[Path]:
    """The .py files under the folders, symlinks to files resolved and counted once."""
    found: dict[Path, Path] = {}
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(root / folder):  # does not follow folder links
            dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
            for name in filenames:
                if name.endswith(".py"):
                    path = Path(dirpath) / name
                    found.setdefault(path.resolve(), path)
    return sorted(found.values())


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def grammar_problems(paths: list[Path]) -> list[str]:
    problems = []
    for path in paths:
        try:
            ast.parse(path.read_bytes(), filename=str(path), feature_version=TARGET)
        except SyntaxError as error:
            problems.append(f"{_shown(path)}:{error.lineno}: {error.msg} (does not parse as Python 3.10)")
    return problems


def _version(text: str):
    """vermin's py3 column: '3.11' -> (3, 11); '!3' (known incompatible) -> None; '~3' -> ()."""
    if text.startswith("!"):
        return None
    if text.startswith("~"):
        return ()
    return tuple(int(part) for part in text.split("."))


def vermin_problems(paths: list[Path]) -> list[str]:
    if importlib.util.find_spec("vermin") is None:
        pytest.fail(f"vermin is missing: it comes with the test extra ({VERMIN_PIN}); pip install -e '.[test]'")
    command = [
        sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())",
        "--no-config-file", f"-t={TARGET[0]}.{TARGET[1]}-", "--violations", "--eval-annotations",
        "--pessimistic", "--no-tips", "--format", "parsable", *map(str, paths),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    problems = []
    for line in result.stdout.splitlines():
        # path:line:column:py2:py3:feature (vermin skips paths with ':'; a feature may hold ':');
        # a file's summary has no line number, the last line no path
        fields = line.split(":", 5)
        if len(fields) != 6 or not fields[1]:
            continue
        path, lineno, _column, _py2, py3, feature = fields
        needed, where = _version(py3), f"{_shown(Path(path))}:{lineno}"
        if needed is None:  # --pessimistic: a syntax error counts as incompatible
            problems.append(f"{where}: vermin cannot parse it ({feature.strip()})")
        elif needed and needed > TARGET:
            problems.append(f"{where}: {feature.strip()} requires Python {py3}")
    if result.returncode != 0 and not problems:
        problems.append(f"vermin exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return problems


def py310_problems(paths: list[Path]) -> list[str]:
    return grammar_problems(paths) + vermin_problems(paths)


def test_the_check_covers_every_folder():
    checked = {f.resolve() for f in python_files()}
    for folder in FOLDERS:
        here = {f.resolve() for f in python_files(folders=(folder,))}
        assert here and here <= checked, f"no Python file of {folder}/ is checked"
    # the Triton Python models are symlinks into skyseg/: each is checked once, through either path
    models = list((ROOT / "model_repository").glob("*/1/model.py"))
    assert len(models) >= 4 and {m.resolve() for m in models} <= checked


def test_project_is_python_310_compatible():
    problems = py310_problems(python_files())
    assert not problems, "Python 3.11+ code in a 3.10 project (Triton 24.10 runs 3.10):\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "construct"),
    [
        ("try:\n    pass\nexcept* ValueError:\n    pass\n", "except*"),
        ("from typing import Self\n", "typing.Self"),
        ("import typing\n\n\nclass A:\n    def me(self) -> typing.Self:\n        return self\n", "typing.Self"),
        ("import tomllib\n", "tomllib"),
        ("import asyncio\n\n\nasync def run():\n    async with asyncio.TaskGroup():\n        pass\n", "asyncio.TaskGroup"),
        ("def first[T](items: list[T]) -> T:\n    return items[0]\n", "3.10"),  # PEP 695: not 3.10 grammar
        ("type Mask = bytes\n", "3.10"),
    ],
    ids=["except-star", "from-typing-Self", "typing.Self-annotation", "tomllib", "TaskGroup", "pep695", "type-alias"],
)
def test_the_check_catches_newer_python(tmp_path, source, construct):
    """The check cannot pass silently: each construct in a temporary file is named with its file."""
    ok = tmp_path / "fine.py"
    ok.write_text("from typing import Optional\n\n\ndef f(x: int | None) -> Optional[int]:\n    match x:\n        case _:\n            return x\n")
    bad = tmp_path / "newer.py"
    bad.write_text(source)
    assert py310_problems([ok]) == []
    problems = py310_problems([ok, bad])
    assert problems and all("newer.py" in p for p in problems), problems
    assert any(construct in p for p in problems), problems
