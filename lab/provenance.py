"""The line every study's table ends with: the command that wrote it and the commit it ran at.

A figure in docs/ must be one today's code prints: with the command and the
commit beside it, a reader can rerun it, and tests/test_docs.py checks that each
table under docs/results/ carries them and that today's parsers still accept
the command.
"""

import datetime
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMP_PREFIX = "Written by `"


def command_line(argv: list | None = None) -> str:
    """This process's command as a user types it from the repository root: `python -m studies.x ...` for a
    study run as a module, `python script.py ...` for a root script."""
    argv = sys.argv if argv is None else argv
    script = Path(argv[0]).resolve()
    try:
        relative = script.relative_to(ROOT)
    except ValueError:
        relative = Path(script.name)
    launcher = ["-m", ".".join(relative.with_suffix("").parts)] if relative.parent != Path(".") else [str(relative)]
    return shlex.join(["python", *launcher, *argv[1:]])


def commit() -> str:
    """The short commit of the checkout, with "+changes" when tracked files differ from it; "unknown" outside git."""
    def git(*arguments) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *arguments], capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        head = git("rev-parse", "--short=10", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if changed else "")


COMMIT_AT_START = commit()  # when a study's process imports this: edits made while it runs are not its code


def stamp(argv: list | None = None) -> str:
    """One Markdown paragraph: `Written by \\`COMMAND\\` at commit C on DATE`, C the commit the process started at."""
    today = datetime.date.today().isoformat()
    return f"\n{STAMP_PREFIX}{command_line(argv)}` at commit {COMMIT_AT_START} on {today}.\n"


def stamped(text: str, argv: list | None = None) -> str:
    """A table's text with the stamp after it."""
    return text.rstrip("\n") + "\n" + stamp(argv)
