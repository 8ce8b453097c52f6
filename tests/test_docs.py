"""The README and docs/ link only to files a fresh clone has: a figure written under an ignored
folder, or never added, is a broken link the reader meets first."""

import re
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
