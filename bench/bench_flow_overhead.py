"""What one `ingest` flow run costs by itself: wall time and CPU, worker side and server side.

    .venv/bin/python -m bench.bench_flow_overhead [--runs 40]

Starts a Prefect server (SQLite, temp PREFECT_HOME) and runs the real `ingest` flow over an
empty batch, the way the worker does (Dispatcher.run_batch: on the thread's long-lived
event loop, Prefect's clients reused), then the same with the loop and its clients closed
after every run, as the worker did before (a fresh asyncio.run and new clients per batch).
One run at a time, after 3 warm-up runs.
CPU of this process (all threads) and of the server process tree are measured with psutil.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]

from portal.cli import PREFECT_SERVER_TUNING, prefect_server_command


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jtai-flow-overhead-"))
    # Prefect reads its settings at import: set them before anything imports it.
    from bench.bench_ingest import RESULTS_DIR, Proc, free_port, wait_for

    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JTAI_", "PREFECT_"))}
    env.update(
        {
            "PREFECT_HOME": str(work / "prefect"),
            "PREFECT_API_URL": url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            **PREFECT_SERVER_TUNING,
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    os.environ.update(
        {
            "PREFECT_API_URL": url,
            "PREFECT_HOME": str(work / "prefect"),
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    server = Proc(
        "prefect",
        prefect_server_command(port),
        env,
        work / "prefect.log",
    )
    try:
        wait_for(
            lambda: httpx.get(url + "/health", timeout=3).is_success, "Prefect server", 240, server
        )
        from flows.dispatcher import Dispatcher
        from flows.ingest import use_container
        from portal.bootstrap import build
        from portal.settings import Settings

        container = build(Settings(data_dir=work / "data"))
        use_container(container)
        me = psutil.Process()
        lines = [
            f"# Flow-run overhead, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"`python -m bench.bench_flow_overhead --runs {args.runs}`: {args.runs} runs of "
            "`ingest` over an empty batch, one at a time; load average before "
            + " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "",
            "| dispatcher | wall ms/run p50 | p95 | worker CPU ms/run | server CPU ms/run |",
            "|---|--:|--:|--:|--:|",
        ]
        for label, fresh_loop_each_run in (
            ("flows.dispatcher.Dispatcher (one loop per thread, clients reused)", False),
            ("the same, loop and clients closed after each run (as before)", True),
        ):
            dispatcher = Dispatcher(container)
            one_run = partial(_run_once, dispatcher, fresh_loop_each_run)
            for _ in range(3):
                one_run()
            walls = []
            cpu0, server0 = me.cpu_times(), server.cpu_seconds()
            for _ in range(args.runs):
                started = time.perf_counter()
                one_run()
                walls.append(time.perf_counter() - started)
            cpu1, server1 = me.cpu_times(), server.cpu_seconds()
            dispatcher.close()
            worker_cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / args.runs
            walls.sort()
            lines.append(
                f"| {label} | {1000 * statistics.median(walls):.0f} | "
                f"{1000 * walls[int(0.95 * len(walls)) - 1]:.0f} | {1000 * worker_cpu:.0f} | "
                f"{1000 * (server1 - server0) / args.runs:.0f} |"
            )
        report = "\n".join(lines) + "\n"
        print(report)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out = RESULTS_DIR / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-flow-overhead.md"
        out.write_text(report)
        print(f"written to {out}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _run_once(dispatcher: Any, close_after: bool) -> None:
    """One `ingest` run over an empty batch; then, if asked, the thread's loop and clients
    closed, so the next run builds its own (what every run did before they were kept)."""
    dispatcher.run_batch([], uuid.uuid4().hex)
    if close_after:
        dispatcher.close()


if __name__ == "__main__":
    main()
