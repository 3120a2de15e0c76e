"""The documents stay true: the README's figures are rendered from the results files they link,
every `skyseg` command in the README and docs/ parses, and every `python -m benchmarks.*` they
show answers --help."""
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
EVAL = "benchmarks/results/eval_triton_default.json"
COMPARE = "benchmarks/results/compare.json"


def render_numbers() -> str:
    """The README's figures, each from the file that measured it (rerun the command there to update)."""
    served = next(v for k, v in json.loads((ROOT / EVAL).read_text())["paths"].items() if k.startswith("triton"))
    compare = json.loads((ROOT / COMPARE).read_text())
    rate = lambda path: max(r["images_per_s"] for r in compare["results"] if r["path"] == path and r["size"] == "1920x1080")
    dev, camvid, indoor = served["ade20k_dev"], served["camvid_test"], served["ade20k_sky_heldout"]
    machine = f'{compare["machine"]["cpu"]}, {compare["machine"]["nproc"]} cores'
    rows = [
        ("CamVid test sky IoU, through the served ensemble", f'{camvid["sky_iou"]:.2f}', EVAL),
        ("everyday outdoor photos (ade20k_dev): mean IoU per photo, share at >= 90, missed (< 50)",
         f'{dev["mean_photo_iou"]:.1f}, {dev["photos_at_90_pct"]:.0f}%, {dev["photos_under_50"]} of {dev["sky_photos"]}', EVAL),
        ("false sky on ADE20K photos without sky", f'{indoor["false_sky_rate_pct"]:.2f}% of pixels', EVAL),
        (f"1080p images/s on CPU ({machine}): the served ensemble over gRPC / the network alone",
         f'{rate("C"):.1f} / {rate("B"):.1f}', COMPARE),
    ]
    lines = ["| figure | value | measured in |", "|---|---:|---|"]
    lines += [f"| {what} | {value} | [{Path(src).name}]({src}) |" for what, value, src in rows]
    return "\n".join(lines)


def test_the_readmes_figures_are_the_results_files():
    text = README.read_text()
    block = re.search(r"<!-- numbers: .*? -->\n(.*?)<!-- end numbers -->", text, flags=re.S)
    assert block, "README has no numbers block"
    assert block.group(1).strip() == render_numbers(), "README's figures are stale; replace them with:\n" + render_numbers()


def _shell_lines(path: Path) -> list[list[str]]:
    """Commands of the bash blocks as word lists: continuation lines joined, comments dropped, pipes,
    ``&&``, ``;`` and ``&`` separating commands (quotes respected)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", path.read_text(), flags=re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
            lexer.whitespace_split, lexer.commenters = True, "#"
            words: list[str] = []
            for token in list(lexer) + [";"]:
                if token and set(token) <= set(";&|"):
                    commands.append(words) if words else None
                    words = []
                else:
                    words.append(token)
    return commands


def _skyseg_commands():
    found = []
    for doc in DOCS:
        for words in _shell_lines(doc):
            while words and "=" in words[0] and not words[0].startswith("-"):
                words = words[1:]  # VAR=value prefixes
            if words and words[0].endswith("skyseg") and len(words) > 1:
                found.append(pytest.param(words[1:], id=f"{doc.name}: {' '.join(words[:3])}"))
    return found


@pytest.mark.parametrize("args", _skyseg_commands())
def test_every_skyseg_command_in_the_docs_parses(args):
    from skyseg_client.cli import build_parser

    try:
        build_parser().parse_args(args)
    except SystemExit as exc:
        pytest.fail(f"`skyseg {' '.join(args)}` does not parse (exit {exc.code})")


def test_every_benchmark_module_in_the_docs_answers_help():
    modules = sorted({words[i + 1] for doc in DOCS for words in _shell_lines(doc) for i, w in enumerate(words[:-1])
                      if w == "-m" and words[i + 1].startswith("benchmarks.")})
    assert modules, "the docs name no benchmark"
    for module in modules:
        done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"python -m {module} --help failed:\n{done.stderr[-2000:]}"


def test_the_readme_is_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    assert not re.search(r"\b(E\d{1,2}b?|R\d{1,2})\b", text), "experiment ids belong in train/EXPERIMENTS.md"
    for doc in ("docs/architecture.md", "docs/deployment.md", "docs/training.md", "MODEL_CARD.md"):
        assert f"]({doc})" in text and (ROOT / doc).is_file()
