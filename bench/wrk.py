"""wrk rounds and what they cost: throughput and latency from wrk, CPU from /proc.

CPU per request is the utime+stime of the server's whole process tree (uvicorn's parent and its
workers) over the round, divided by the requests wrk completed: the figure that says how much of
a core one request takes, independent of how busy the rest of the machine is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def ensure_wrk() -> str:
    """The wrk binary, installed from the Debian package when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("== wrk missing: apt-get install -y wrk")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed; install it and rerun")
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


@dataclass
class Round:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_s: float
    output: str = ""  # wrk's own text, kept for when a figure looks wrong


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run(
    wrk: str,
    base: str,
    path: str,
    token: str,
    pid: int,
    args: tuple[int, int, float],
    script: Path | None = None,
) -> Round:
    threads, connections, duration = args
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "60s",
    ]
    cmd += ["-H", f"Authorization: Bearer {token}"]
    if script is not None:
        cmd += ["-s", str(script)]
    cpu0 = cpu_seconds(pid)
    out = subprocess.run([*cmd, base + path], check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - cpu0
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    requests = int(done.group(1)) if done else 0
    seconds = (
        float(done.group(2)) * {"s": 1, "ms": 0.001, "m": 60}.get(done.group(3), 1)
        if done
        else duration
    )
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errs = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(errs.group(1)) if errs else 0
    if socket_errs:
        errors += sum(int(g) for g in socket_errs.groups())
    return Round(
        requests, seconds, _ms(lat.get("50", "")), _ms(lat.get("99", "")), errors, cpu, out
    )


def id_script(directory: Path, path: str, ids: list[str]) -> Path:
    """A wrk Lua script that walks ``ids`` through ``path`` (which holds ``{id}``)."""
    head, tail = path.split("{id}")
    quoted = ",".join(f'"{i}"' for i in ids)
    lua = (
        f"local ids = {{{quoted}}}\nlocal n = 0\n"
        "request = function()\n  n = n + 1\n"
        f'  return wrk.format("GET", "{head}" .. ids[(n % #ids) + 1] .. "{tail}")\nend\n'
    )
    script = directory / f"ids-{abs(hash(path))}.lua"
    script.write_text(lua)
    return script
