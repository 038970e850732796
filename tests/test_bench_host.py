"""The benchmarks' host line (benchmarks/host.py): which int8 instructions stage 2 gets on this CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.host import describe_host, int8_instructions

CPUINFO = """processor\t: 0
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx avx2 {extra}

processor\t: 1
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx avx2 {extra}
"""


@pytest.mark.parametrize(
    ("extra", "named"),
    [("", "AVX2 without VNNI"), ("avx_vnni", "AVX-VNNI"), ("avx512f avx512_vnni", "AVX-512 VNNI")],
)
def test_the_host_line_names_the_cpu_and_its_int8_instructions(tmp_path: Path, extra: str, named: str) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO.format(extra=extra), encoding="utf-8")
    line = describe_host(cpuinfo)
    assert line.startswith("Example CPU 9000, ") and line.endswith(f"int8: {named}")


def test_without_avx2_or_a_cpuinfo_file_the_line_says_so(tmp_path: Path) -> None:
    assert int8_instructions({"sse2", "neon"}) == "no AVX2"
    assert "no " + str(tmp_path / "missing") in describe_host(tmp_path / "missing")
