"""Run the real ``ethos`` entry point in-process or as a subprocess and capture what it prints."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class CliResult:
    """What a CLI invocation printed and how it exited."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliResult:
    """Call ``ethos._cli.main.main`` in this process (fast; includes its error handling)."""
    from ethos._cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli_subprocess(*args: str, timeout: float = 120.0) -> CliResult:
    """Run ``python -m ethos._cli.main`` as a real process (for exit codes and tracebacks)."""
    proc = subprocess.run(  # noqa: S603 - fixed interpreter, test-controlled arguments
        [sys.executable, "-m", "ethos._cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(stderr: str, *needles: str) -> str:
    """Check that a command failed with exactly one error line (no traceback) containing ``needles``; return it."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
