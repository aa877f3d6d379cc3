"""Streaming: chunks are read lazily (bounded memory), output order is kept, look-ahead is bounded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ethos.errors import ConfigError
from ethos.pii.detect import AnalyzerConfig
from ethos.pii.files import FileOptions, JsonlFormat, RedactJob, TextFormat, process_file, read_chunks

PATTERNS = AnalyzerConfig(spacy_model=None)


def write_jsonl(path: Path, n: int, *, pad: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": i, "text": f"user{i}@example.org says hi {'x' * pad}"}) + "\n")
    return path


def test_when_a_large_file_is_read_then_only_one_chunk_is_held_at_a_time(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "big.jsonl", 40_000, pad=60)  # ~4.5 MB
    size = path.stat().st_size
    assert size > 4_000_000
    with path.open("rb") as fh:
        chunks = read_chunks(fh, JsonlFormat(), chunk_size=100)
        first = next(chunks)
        # the reader has consumed one chunk of lines (plus the stream's read-ahead buffer), not the file
        assert len(first.records) == 100
        assert fh.tell() < 100 * 120 + 64 * 1024
        sizes = [len(first.records)] + [len(c.records) for c in chunks]
    assert max(sizes) == 100
    assert sum(sizes) == 40_000


def test_when_a_file_is_processed_then_look_ahead_is_bounded_by_the_window(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", 2_000, pad=20)
    seen: list[int] = []
    summary = process_file(
        path,
        RedactJob(PATTERNS),
        output=tmp_path / "out.jsonl",
        options=FileOptions(chunk_size=50),
        progress=lambda done, total: seen.append(done),
    )
    per_chunk = path.stat().st_size / 40
    # progress is reported when a chunk is written; by then at most the window (3 chunks) was read ahead
    for k, done in enumerate(seen, start=1):
        assert done <= (k + 3) * per_chunk * 1.05
    assert seen[-1] == path.stat().st_size
    assert summary.records_read == 2_000
    assert summary.entities == {"EMAIL_ADDRESS": 2_000}
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [o["id"] for o in out] == list(range(2_000))  # order kept
    assert all(o["text"].startswith("<EMAIL_ADDRESS_1> says hi") for o in out)


def test_when_two_workers_process_a_file_then_the_output_equals_one_worker(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", 600)
    one = process_file(path, RedactJob(PATTERNS), output=tmp_path / "one.jsonl", options=FileOptions(chunk_size=50))
    two = process_file(
        path, RedactJob(PATTERNS), output=tmp_path / "two.jsonl", options=FileOptions(chunk_size=50, workers=2)
    )
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert one.entities == two.entities == {"EMAIL_ADDRESS": 600}


def test_when_a_worker_cannot_start_then_the_error_is_one_line_and_no_output_is_left(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", 10)
    job = RedactJob(AnalyzerConfig(entities=("SPACESHIP_ID",), spacy_model=None))
    with pytest.raises(ConfigError, match="SPACESHIP_ID") as info:
        process_file(path, job, output=tmp_path / "out.jsonl", options=FileOptions(workers=2))
    assert "Traceback" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_when_the_chunk_size_is_not_positive_then_it_is_refused(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", 3)
    with path.open("rb") as fh, pytest.raises(ConfigError, match="chunk size"):
        next(read_chunks(fh, TextFormat(), chunk_size=0))
