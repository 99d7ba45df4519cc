"""Summarise a py-spy `--format raw` profile of the worker by where its CPU time goes.

    .venv/bin/python -m bench.pyspy_summary bench/results/<stamp>-profiles/worker-c.txt[.gz] [RATE]

bench_ingest --profile records the worker at 100 samples/s without idle threads, so the
samples approximate CPU time. Each stack is put in the first matching bucket below.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingest: sanitise (pikepdf)", ("portal/adapters/pdf_sanitiser.py",)),
    ("ingest: scan (send to clamd)", ("portal/adapters/clamd_scanner.py",)),
    ("ingest: classify (libmagic)", ("portal/adapters/magic_classifier.py",)),
    ("ingest: store (copy, hash, fsync)", ("portal/adapters/store_fs.py",)),
    ("ingest: database (SQLAlchemy)", ("portal/adapters/db/",)),
    ("ingest: other", ("process_document (portal/ingest.py",)),
    ("Prefect: flow run engine, client, artifacts", ("prefect/", "Dispatcher.run_batch")),
    ("dispatcher loop (claim, poll)", ("flows/dispatcher.py",)),
)


def summarise(path: Path, rate: float = 100.0) -> list[tuple[str, float, float]]:
    totals: dict[str, int] = {}
    data = path.read_bytes()
    text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode(errors="replace")
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        bucket = next(
            (name for name, needles in BUCKETS if any(n in stack for n in needles)),
            "other (imports, threads, GC)",
        )
        totals[bucket] = totals.get(bucket, 0) + int(count)
    whole = sum(totals.values()) or 1
    return [
        (name, n / rate, 100 * n / whole)
        for name, n in sorted(totals.items(), key=lambda kv: -kv[1])
    ]


def main() -> None:
    path = Path(sys.argv[1])
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 100.0
    print(f"| {path.name} | CPU s (samples/{rate:.0f}) | share |\n|---|--:|--:|")
    for name, seconds, share in summarise(path, rate):
        print(f"| {name} | {seconds:.1f} | {share:.0f} % |")


if __name__ == "__main__":
    main()
