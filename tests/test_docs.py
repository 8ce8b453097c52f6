"""The README and docs/ link only to files a fresh clone has, and to headings those files have: a
figure written under an ignored folder, never added, or a section renamed, is a broken link the
reader meets first. Every table a study wrote into
docs/results/ says which command and commit printed it, and today's parsers still take that command."""

import importlib
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def local_targets(page: Path):
    """The files a page's markdown links point to, anchors dropped, web addresses skipped."""
    for target in LINK.findall(page.read_text()):
        path = target.split("#", 1)[0]
        if path and "://" not in path and not path.startswith("mailto:"):
            yield (page.parent / path).resolve()


def ignored_by_git(path: Path) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT).returncode == 0


HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text as rendered (no code ticks, emphasis or link targets),
    lowercased, punctuation other than hyphens and underscores dropped, spaces made hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[`*]", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set:
    """Every heading anchor of a Markdown page, repeats numbered as GitHub numbers them (-1, -2, ...)."""
    found, seen, fenced = set(), {}, False
    for line in page.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else HEADING.match(line)
        if heading:
            slug = github_slug(heading.group(2))
            found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return found


def broken_anchors(page: Path) -> list:
    """`file#anchor` and `#anchor` links of `page` whose Markdown target has no such heading."""
    broken = []
    for target in LINK.findall(page.read_text()):
        path, _, anchor = target.partition("#")
        if not anchor or "://" in path:
            continue
        destination = (page.parent / path).resolve() if path else page
        if destination.suffix == ".md" and destination.exists() and anchor not in anchors(destination):
            broken.append(target)
    return broken


def test_heading_anchors_follow_githubs_rules(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Use the layer in your own model\n## Speed\n```\n# not a heading\n```\n## Speed\n"
                    "### The study: `make reproduce-rl-nine`\n## On an NVIDIA H200 (JAX), 2026-12-04\n")
    assert anchors(page) == {"use-the-layer-in-your-own-model", "speed", "speed-1",
                             "the-study-make-reproduce-rl-nine", "on-an-nvidia-h200-jax-2026-12-04"}


def test_a_planted_broken_anchor_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# Speed\n")
    page = tmp_path / "page.md"
    page.write_text("# Here\n[ok](other.md#speed) [ok](#here) [broken](other.md#sped) [broken](#nowhere)\n")
    assert broken_anchors(page) == ["other.md#sped", "#nowhere"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_anchor_names_a_heading_of_its_page(page):
    assert not broken_anchors(page), f"{page.name} links to headings that do not exist: {broken_anchors(page)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_local_link_names_a_file_the_repository_keeps(page):
    targets = list(local_targets(page))
    missing = [str(path.relative_to(ROOT)) for path in targets if not path.exists()]
    ignored = [str(path.relative_to(ROOT)) for path in targets if path.exists() and ignored_by_git(path)]
    assert not missing, f"{page.name} links to files that do not exist: {missing}"
    assert not ignored, f"{page.name} links to files git ignores: {ignored}"


RESULTS = ROOT / "docs" / "results"
# the seed study's search, printed by older code: docs/results/history/README.md says what they are
STUDY_TABLES = [path for path in sorted(RESULTS.rglob("*.md")) if "history" not in path.relative_to(RESULTS).parts]
STAMP = re.compile(r"Written by `([^`]+)` at commit ([0-9a-f]{7,40})(\+changes)? on ")


def study_parser(words: list):
    """(parse_args, its arguments) of the study a stamped command runs."""
    if words[:2] == ["python", "reproduce.py"]:
        return importlib.import_module("studies.reproduce").parse_args, words[2:]
    assert words[:2] == ["python", "-m"] and words[2].startswith("studies."), f"not a study's command: {words[:3]}"
    return importlib.import_module(words[2]).parse_args, words[3:]


@pytest.mark.parametrize("table", STUDY_TABLES, ids=lambda path: str(path.relative_to(RESULTS)))
def test_every_published_table_names_its_command_and_commit_and_todays_parser_takes_the_command(table):
    stamp = STAMP.search(table.read_text())
    assert stamp, f"{table.relative_to(ROOT)} does not say which command and commit printed it"
    command, commit, changes = stamp.groups()
    assert not changes, f"{table.relative_to(ROOT)} was printed from uncommitted code"
    known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True)
    assert known.returncode == 0, f"{table.relative_to(ROOT)} names commit {commit}, which the history lacks"
    parse_args, argv = study_parser(shlex.split(command))
    parse_args(argv)  # a CliError here: today's parser refuses the command that printed the table


def test_the_arch_page_is_the_registrys_table():
    from studies import arch_table

    assert arch_table.PAGE.read_text() == arch_table.page(arch_table.table()), \
        "docs/archs.md is stale: rerun python -m studies.arch_table --write"
