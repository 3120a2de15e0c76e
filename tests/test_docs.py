"""The documents stay true: the README's figures are rendered from the results files they link,
every `skyseg` command in the README and docs/ parses, and every `python -m benchmarks.*` they
show answers --help, no figure is written with another value than its results file holds, and every
relative link resolves."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import doc_figures
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
@pytest.mark.parametrize("doc, name", list(doc_figures.generated_blocks()), ids=lambda v: getattr(v, "name", v))
def test_generated_figures_are_the_results_files(doc, name):
    expected = doc_figures.generated_blocks()[(doc, name)]
    written = doc_figures.block(doc.read_text(), name)
    assert written is not None, f"{doc.name} has no `<!-- {name}: ... -->` block"
    assert written == expected, f"{doc.name}'s {name} are stale; replace the block with:\n{expected}"


@pytest.mark.parametrize("what, pattern, measured", doc_figures.prose_figures(), ids=lambda v: v if isinstance(v, str) and " " in v else "")
def test_no_document_restates_a_figure_with_another_value(what, pattern, measured):
    found = [(doc.relative_to(ROOT), m.group(1)) for doc in doc_figures.DOCUMENTS
             for m in re.finditer(pattern, re.sub(r"\s+", " ", doc.read_text()))]
    assert found, f"no document states {what!r} as {pattern!r} any more: update the pattern in tests/doc_figures.py"
    wrong = [(str(doc), value) for doc, value in found if not doc_figures.same_figure(value, measured)]
    assert not wrong, f"{what} is {measured:.4g} in its results file, but written as {wrong}"


def test_the_results_pages_compare_section_is_compare_json():
    from benchmarks import compare

    saved = doc_figures.compare()
    table = compare.render(saved["results"], saved["camvid_test_sky_iou"], saved["steps"], saved["checks"])
    assert table in (ROOT / "benchmarks" / "RESULTS.md").read_text(), "rerun benchmarks.compare: RESULTS.md and compare.json differ"


def test_compare_and_eval_agree_on_the_served_camvid_score():
    """Both measure CamVid test through the served ensemble: a rerun of one without the other shows here."""
    assert round(doc_figures.compare()["camvid_test_sky_iou"]["C"], 2) == round(doc_figures.served()["camvid_test"]["sky_iou"], 2)


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


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_relative_link_in_the_documents_resolves():
    docs = [*doc_figures.DOCUMENTS, ROOT / "benchmarks" / "README.md", ROOT / "train" / "EXPERIMENTS.md",
            *ROOT.glob("benchmarks/results/archive/*.md"), ROOT / "skyseg" / "demo_photos" / "NOTICE.md"]
    broken = []
    for doc in docs:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", doc.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path = (doc.parent / target).resolve() if target else doc
            if not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
            elif anchor and path.suffix == ".md":
                headings = {_anchor(h) for h in re.findall(r"^#+ (.+)$", path.read_text(), flags=re.M)}
                if anchor not in headings:
                    broken.append(f"{doc.relative_to(ROOT)}: {target}#{anchor}")
    assert not broken, f"links to nothing: {broken}"


def test_the_model_card_has_the_usual_sections():
    headings = re.findall(r"^## (.+)$", (ROOT / "MODEL_CARD.md").read_text(), flags=re.M)
    for section in ("Intended use", "Out-of-scope uses", "Limitations and failure cases",
                    "Ethical considerations and privacy", "Training data and licences", "Metrics"):
        assert section in headings, f"MODEL_CARD.md has no '## {section}' section"
