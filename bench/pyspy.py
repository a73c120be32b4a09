"""A sampling profile of a server process over a benchmark's window, by py-spy (not a
dependency: PY_SPY names its binary, else `py-spy` on PATH; without it no profile is taken).

py-spy samples from outside (--nonblocking: the process is never paused), so the CPU the
benchmark reads from /proc is the server's own. Its raw output (one line per stack, frames
root first, and a count) is summarised as the functions most often on top of the stack (self)
and the project's functions most often anywhere in it (inclusive), in % of the samples where
a thread ran (not waiting in WAITING).
"""

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

# Leaves where a thread waits rather than runs: py-spy --nonblocking cannot always tell an idle
# thread, so its samples there are left out of the shares.
WAITING = (
    "EpollSelector.select (",
    "_worker (concurrent/futures/thread.py)",
    "wait (threading.py)",
)
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def binary() -> str | None:
    return os.environ.get("PY_SPY") or shutil.which("py-spy")


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    """Start sampling `pid` for `seconds` (100 a second, every thread, idle ones left out)."""
    spy = binary()
    if spy is None:
        return None
    command = [spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
    command += ["--rate", "100", "--nonblocking", "--format", "raw", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _name(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        root = str(Path(__file__).resolve().parent.parent) + "/"
        path = path.removeprefix(root)
    return f"{match['function']} ({path})"


def summary(output: Path, top: int = 25, project: tuple[str, ...] = ("chargers/",)) -> list[str]:
    """Lines: the samples, then the top functions by self and by inclusive share."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in output.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        frames = [_name(frame) for frame in stack.split(";") if frame]
        if frames and frames[-1].startswith(WAITING):
            continue
        total += samples
        if frames:
            own[frames[-1]] += samples
        for name in set(frames):
            if any(part in name for part in project):
                inclusive[name] += samples
    if not total:
        return ["no samples"]
    lines = [f"{total} samples of running threads"]
    lines += [f"self {100 * n / total:5.1f} %  {name}" for name, n in own.most_common(top)]
    lines += [f"incl {100 * n / total:5.1f} %  {name}" for name, n in inclusive.most_common(top)]
    return lines
