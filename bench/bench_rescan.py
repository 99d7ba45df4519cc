"""Rescan benchmark: how many held documents a rescan judges an hour, at its share of clamd.

    .venv/bin/python -m bench.bench_rescan [--full] [--connections 1,2]

The corpus (bench/corpus.py; the quick one unless --full) is put in the clean area of a
fresh portal (SQLite, filesystem store, temp data dir) as accepted documents judged under
no recorded signatures (every file's bytes differ: no identical bytes to skip, the worst
case). Then the rescan's steps (portal.services.rescan: select, scan, withdraw, record, as
flows/rescan.py orders them, without the Prefect server: a flow run costs ~0.2 s against a
batch's seconds) run batch after batch until nothing is left, once per number of
connections, each on a freshly started clamd (clamd caches the verdict of clean bytes by
hash). Prints documents and MB an hour, and the machine's load average, which skews it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench import corpus as corpus_module
from portal.domain.signatures import ScannedWith
from portal.services.rescan import (
    judged_documents,
    plan_batch,
    record_judged,
    scan_distinct,
    withdraw_found,
)
from portal.settings import Settings
from tests.conftest import ClamdProcess
from tests.factories import add_document, add_inspection, build_portal


def _measure(
    files: list[corpus_module.CorpusFile], connections: int, root: Path
) -> dict[str, float]:
    clamd = ClamdProcess(root / "clamd")
    (root / "clamd").mkdir(parents=True)
    clamd.start()
    try:
        settings = Settings(  # type: ignore[call-arg]
            data_dir=root / "data", clamd_socket=clamd.socket, _env_file=None
        )
        container = build_portal(settings)
        inspection_id = add_inspection(container)
        for n, file in enumerate(files):
            add_document(
                container,
                inspection_id,
                item=f"1.{n % 9 + 1}",
                content=file.path.read_bytes(),
                sha256_stored=file.sha256,
            )
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        documents = 0
        while True:
            signatures = container.scanner.signatures()
            plan = plan_batch(container, signatures, settings.rescan_batch_documents)
            if not plan.to_scan and not plan.already_judged:
                break
            scans = scan_distinct(container, plan.to_scan, connections)
            assert scans.stopped is None, scans.stopped
            judged = judged_documents(plan, scans)
            withdraw_found(container, judged, signatures)
            scanned_with = ScannedWith(signatures=signatures, at=container.clock.now())
            documents += record_judged(container, judged, scanned_with)
        seconds = time.perf_counter() - started
    finally:
        clamd.stop()
    megabytes = sum(f.size for f in files) / 1e6
    return {
        "connections": connections,
        "documents": documents,
        "megabytes": megabytes,
        "seconds": seconds,
        "documents_per_hour": documents / seconds * 3600,
        "megabytes_per_hour": megabytes / seconds * 3600,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def main() -> None:
    """Run the benchmark and print one line per number of connections."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full corpus, not the quick")
    parser.add_argument("--connections", default="1", help="comma-separated, e.g. 1,2")
    args = parser.parse_args()
    corpus = corpus_module.build(quick=not args.full)
    files = [f for f in corpus.throughput if f.expected == "accepted"]
    print(f"corpus {corpus.name}: {len(files)} files, {sum(f.size for f in files) / 1e6:.1f} MB")
    print(f"cpus {os.cpu_count()}")
    for connections in (int(c) for c in args.connections.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-rescan-") as tmp:
            r = _measure(files, connections, Path(tmp))
        print(
            f"connections {connections}: {r['documents']:.0f} documents, "
            f"{r['megabytes']:.1f} MB in {r['seconds']:.1f} s = "
            f"{r['documents_per_hour']:,.0f} documents/hour, "
            f"{r['megabytes_per_hour']:,.0f} MB/hour "
            f"(load average {r['load_before']:.1f} before, {r['load_after']:.1f} after)"
        )


if __name__ == "__main__":
    main()
