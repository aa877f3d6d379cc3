"""``ethos gateway log``: verify and read the gateway's tamper-evident audit log.

The folder comes from ``--dir``, else ``ETHOS_GATEWAY_AUDIT_DIR``, else ``[audit] dir`` in
``--config``, else ``ETHOS_HOME/gateway/audit``. The log modules are imported inside the commands.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from ethos._cli._common import JSON_OPTION
from ethos._cli._gateway_files import CONFIG_OPTION, gateway_files
from ethos._cli._output import console, emit_json, err_console, table

app = typer.Typer(help="Verify and read the gateway's hash-chained audit log.", no_args_is_help=True)

_DIR_OPTION = typer.Option(
    None,
    "--dir",
    envvar="ETHOS_GATEWAY_AUDIT_DIR",
    help="The audit log folder [env: ETHOS_GATEWAY_AUDIT_DIR; default: [audit] dir, else ETHOS_HOME/gateway/audit].",
)
_KEY_OPTION = typer.Option(None, "--key-file", help="The [audit] encrypt_key_file: decrypts logged content.")
_COLUMNS = ("time", "request id", "key id", "route", "model", "status", "reason", "latency ms")


def audit_dir(directory: Path | None, config: Path | None) -> Path:
    """The log folder: ``--dir`` / env (typer resolves both), else gateway.toml's ``[audit] dir``, else the default."""
    return directory if directory is not None else gateway_files(config)[1]


@app.command("verify")
def verify(
    directory: Path | None = _DIR_OPTION,
    config: Path | None = CONFIG_OPTION,
    expect_head: str | None = typer.Option(
        None, "--expect-head", help="A head hash saved elsewhere earlier: fail unless some entry carries it."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Check every entry's hash, the chain across files and the head anchor (exit 1 when broken)."""
    from ethos.gateway._auditverify import verify_log

    folder = audit_dir(directory, config)
    if not json_out and err_console.is_terminal:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        with Progress(TextColumn("verify"), BarColumn(), DownloadColumn(), console=err_console, transient=True) as bar:
            task = bar.add_task("verify", total=None)
            result = verify_log(
                folder,
                expect_head=expect_head,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    else:
        result = verify_log(folder, expect_head=expect_head)
    bad = result.first_bad
    if json_out:
        emit_json(
            {
                "ok": result.ok,
                "directory": str(folder),
                "entries": result.entries,
                "files": result.files,
                "head": result.head,
                "first_bad": None
                if bad is None
                else {"file": str(bad.file), "line": bad.line, "seq": bad.seq, "why": bad.why},
            }
        )
    elif bad is None:
        console.print(f"OK: {result.entries} entries in {result.files} files, head {result.head or '-'}", markup=False)
    else:
        console.print(f"FAILED: {bad}", markup=False)
    if bad is not None:
        raise typer.Exit(1)


@app.command("tail")
def tail(
    lines: int = typer.Option(20, "-n", "--lines", min=0, help="How many of the newest entries to show."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new entries until Ctrl-C."),
    directory: Path | None = _DIR_OPTION,
    config: Path | None = CONFIG_OPTION,
    key_file: Path | None = _KEY_OPTION,
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object per entry (JSON lines)."),
    poll: float = typer.Option(0.5, "--poll", min=0.05, help="Seconds between checks for new entries (--follow)."),
) -> None:
    """Show the newest entries as a table (or JSON lines); --follow keeps printing new ones."""
    from ethos.gateway._auditlog import load_key
    from ethos.gateway._auditverify import LogCursor, decrypt_content, read_log

    folder = audit_dir(directory, config)
    key = None if key_file is None else load_key(key_file)
    cursor = LogCursor(folder) if follow else None  # placed before reading, so no entry falls in between
    entries = read_log(folder, last=lines, key=key)
    shown = max((e["seq"] for e in entries if type(e.get("seq")) is int), default=0)
    if json_out:
        for entry in entries:
            _print_json(entry)
    elif entries or not follow:
        with_content = any(entry.get("content") is not None for entry in entries)
        columns = (*_COLUMNS, "content") if with_content else _COLUMNS
        table(None, columns, (_row(entry, with_content) for entry in entries))
    if cursor is None:
        return
    try:
        while True:
            sys.stdout.flush()
            time.sleep(poll)
            for entry in cursor.read_new():
                seq = entry.get("seq")
                if type(seq) is int and seq <= shown:
                    continue  # written while the newest entries were read: already printed
                if key is not None and type(seq) is int and "content" in entry:
                    entry["content"] = decrypt_content(entry["content"], seq, key, where=f"{folder} seq {seq}")
                if json_out:
                    _print_json(entry)
                else:
                    console.print(escape("  ".join(str(cell) for cell in _row(entry))))
    except KeyboardInterrupt:
        sys.stdout.flush()


def _print_json(entry: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")


def _row(entry: dict[str, Any], with_content: bool = False) -> tuple[Any, ...]:
    cells = [entry.get(name) for name in ("ts", "request_id", "key_id", "route", "model", "status", "reason")]
    cells.append(entry.get("latency_ms"))
    if with_content:
        cells.append(_preview(entry.get("content")))
    return tuple("" if value is None else value for value in cells)


def _preview(content: Any, width: int = 60) -> str:
    """A short view of logged content: the last prompt text and the answer, or what the content is."""
    if content is None:
        return ""
    if isinstance(content, dict) and "enc" in content:
        return "(encrypted: --key-file shows it)"
    if isinstance(content, dict) and "sha256" in content:
        return f"sha256 {str(content['sha256'])[:16]}…"
    if isinstance(content, dict):
        prompts = content.get("prompt") or [""]
        text = f"{prompts[-1]} → {content.get('answer') or ''}"
    else:
        text = str(content)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
