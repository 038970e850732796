"""What the benchmarks ran on: the CPU, its cores, and how it multiplies int8 (stage 2's graph).

Stage 2's int8 graph ran about three times faster on a machine with VNNI than on one with AVX2 only, twice the
gap of stage 1 (README), so a figure means little without this line.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def int8_instructions(flags: set[str]) -> str:
    """The widest int8 dot-product instructions among a CPU's flags, as ONNX Runtime would use them."""
    if "avx512_vnni" in flags:
        return "AVX-512 VNNI"
    if "avx_vnni" in flags:
        return "AVX-VNNI"
    if "avx2" in flags:
        return "AVX2 without VNNI"
    return "no AVX2"


def describe_host(cpuinfo: Path = CPUINFO) -> str:
    """One line: CPU model, cores this process may use, int8 instructions (from /proc/cpuinfo where it exists)."""
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return f"{platform.machine()} {platform.processor() or 'CPU'}, {os.cpu_count()} cores (no {cpuinfo})"
    fields = {key.strip(): value.strip() for key, value in (line.split(":", 1) for line in lines if ":" in line)}
    name = " ".join(fields.get("model name", "unknown CPU").split())
    flags = set(fields.get("flags", "").split())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{name}, {cores} cores usable, int8: {int8_instructions(flags)}"
