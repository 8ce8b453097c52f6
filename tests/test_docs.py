"""The README and docs/ link only to files a fresh clone has: a figure written under an ignored
folder, or never added, is a broken link the reader meets first. Every table a study wrote into
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
