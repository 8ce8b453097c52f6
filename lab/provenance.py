"""The line every study's table ends with: the command that wrote it, the commit it ran at and the machine.

A figure in docs/ must be one today's code prints: with the command and the
commit beside it, a reader can rerun it, and tests/test_docs.py checks that each
table under docs/results/ carries them and that today's parsers still accept
the command.
"""

import datetime
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMP_PREFIX = "Written by `"


def command_line(program: str, argv: list | None = None) -> str:
    """`program` (e.g. "python -m studies.reproduce_gan") with its arguments as a user types them: `argv`, or this
    process's own when None (a study's main called from the command line)."""
    return shlex.join([*program.split(), *(sys.argv[1:] if argv is None else argv)])


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


def machine() -> str:
    """The CPU this process runs on and the cores it may use, as the stamp names them: "this CPU" means nothing
    to a reader of a table printed on another machine."""
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
    except OSError:
        names = []
    return f"{names[0] if names else platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores"


def stamp(command: str) -> str:
    """One Markdown paragraph: `Written by \\`COMMAND\\` at commit C on DATE, on MACHINE`, C the commit the
    process started at."""
    today = datetime.date.today().isoformat()
    return f"\n{STAMP_PREFIX}{command}` at commit {COMMIT_AT_START} on {today}, on {machine()}.\n"


def stamped(text: str, command: str) -> str:
    """A table's text with the stamp of `command` (command_line's) after it."""
    return text.rstrip("\n") + "\n" + stamp(command)
