"""PikepdfSanitiser runs qpdf in worker processes: a PDF that hangs it, exhausts its memory
or crashes it is rejected as corrupt, and the next PDF is sanitised as usual."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.adapters.pdf_sanitiser import PikepdfSanitiser, Work
from portal.domain.reasons import ReasonCode
from portal.domain.sanitising import SanitiseReport, decide_sanitise
from tests import samples
from tests.integration import pdf_hooks


def pdf_with_huge_array(elements: int) -> bytes:
    """A valid PDF whose incremental update adds one array of `elements` zeros.

    Two bytes of file per element, a few hundred bytes of qpdf memory and some Python
    time per element when every object is walked: a genuinely pathological PDF.
    """
    base = samples.pdf_text_pages(1)
    size = int(re.findall(rb"/Size (\d+)", base)[-1])
    root = re.findall(rb"/Root (\d+ \d+ R)", base)[-1].decode()
    prev = int(re.findall(rb"startxref\s+(\d+)", base)[-1])
    body = bytearray(base)
    offset = len(body)
    body += f"{size} 0 obj\n[".encode() + b"0 " * elements + b"]\nendobj\n"
    xref = len(body)
    body += (
        f"xref\n{size} 1\n{offset:010d} 00000 n \ntrailer\n"
        f"<< /Size {size + 1} /Root {root} /Prev {prev} /Huge {size} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(body)


@pytest.fixture
def make_sanitiser() -> Iterator[type[PikepdfSanitiser]]:
    made: list[PikepdfSanitiser] = []

    class Closing(PikepdfSanitiser):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)  # type: ignore[arg-type]
            made.append(self)

    yield Closing
    for sanitiser in made:
        sanitiser.close()


def run(sanitiser: PikepdfSanitiser, folder: Path, name: str, data: bytes) -> SanitiseReport:
    source = folder / name
    source.write_bytes(data)
    return sanitiser.sanitise_pdf(source, folder / f"clean-{name}")


def assert_next_pdf_still_works(sanitiser: PikepdfSanitiser, folder: Path) -> None:
    report = run(sanitiser, folder, "next.pdf", samples.pdf_text_pages(2))
    assert report.problem is None
    assert (folder / "clean-next.pdf").read_bytes().startswith(b"%PDF-")


def test_a_pdf_that_hangs_qpdf_is_rejected_corrupt_within_the_timeout(
    tmp_path: Path, make_sanitiser: type[PikepdfSanitiser]
) -> None:
    sanitiser = make_sanitiser(timeout_seconds=1.0, work=pdf_hooks.hang_on_slow_pdfs)

    started = time.monotonic()
    report = run(sanitiser, tmp_path, "slow.pdf", samples.pdf_text_pages(1))

    assert time.monotonic() - started < 10
    assert report.problem == "corrupt"
    assert "longer than 1 s" in report.problem_detail
    assert decide_sanitise(report).reason is ReasonCode.corrupt
    assert not (tmp_path / "clean-slow.pdf").exists()
    assert not list(tmp_path.glob(".*partial"))
    assert_next_pdf_still_works(sanitiser, tmp_path)


def test_a_pdf_with_a_huge_array_passes_the_time_limit_and_is_rejected_corrupt(
    tmp_path: Path, make_sanitiser: type[PikepdfSanitiser]
) -> None:
    sanitiser = make_sanitiser(timeout_seconds=0.3)

    report = run(sanitiser, tmp_path, "huge.pdf", pdf_with_huge_array(500_000))

    assert report.problem == "corrupt"
    assert "longer than" in report.problem_detail
    assert_next_pdf_still_works(sanitiser, tmp_path)


def test_a_pdf_that_blows_up_qpdf_memory_is_rejected_corrupt(
    tmp_path: Path, make_sanitiser: type[PikepdfSanitiser]
) -> None:
    sanitiser = make_sanitiser(memory_limit_bytes=128 * 1024 * 1024, timeout_seconds=60)

    report = run(sanitiser, tmp_path, "huge.pdf", pdf_with_huge_array(1_000_000))

    assert report.problem == "corrupt"
    assert re.search("bad_alloc|memory|stopped the worker", report.problem_detail)
    assert decide_sanitise(report).reason is ReasonCode.corrupt
    assert_next_pdf_still_works(sanitiser, tmp_path)


def test_a_worker_that_runs_out_of_memory_is_replaced_and_the_pdf_rejected_corrupt(
    tmp_path: Path, make_sanitiser: type[PikepdfSanitiser]
) -> None:
    sanitiser = make_sanitiser(
        memory_limit_bytes=256 * 1024 * 1024, work=pdf_hooks.exhaust_memory_on_greedy_pdfs
    )

    report = run(sanitiser, tmp_path, "greedy.pdf", samples.pdf_text_pages(1))

    assert report.problem == "corrupt"
    assert "memory" in report.problem_detail
    assert_next_pdf_still_works(sanitiser, tmp_path)


def test_a_worker_that_crashes_is_replaced_and_the_pdf_rejected_corrupt(
    tmp_path: Path, make_sanitiser: type[PikepdfSanitiser]
) -> None:
    sanitiser = make_sanitiser(work=pdf_hooks.crash_on_fatal_pdfs)

    report = run(sanitiser, tmp_path, "fatal.pdf", samples.pdf_text_pages(1))

    assert report.problem == "corrupt"
    assert "stopped the worker" in report.problem_detail
    assert_next_pdf_still_works(sanitiser, tmp_path)


def test_an_undocumented_error_from_pikepdf_rejects_the_pdf_as_corrupt(
    tmp_path: Path, make_sanitiser: type[PikepdfSanitiser]
) -> None:
    sanitiser = make_sanitiser(work=pdf_hooks.raise_on_odd_pdfs)

    report = run(sanitiser, tmp_path, "odd.pdf", samples.pdf_text_pages(1))

    assert report.problem == "corrupt"
    assert "RuntimeError" in report.problem_detail
    assert_next_pdf_still_works(sanitiser, tmp_path)


def test_a_hanging_pdf_does_not_hold_up_a_pdf_sanitised_beside_it(
    tmp_path: Path, make_sanitiser: type[PikepdfSanitiser]
) -> None:
    sanitiser = make_sanitiser(workers=2, timeout_seconds=3.0, work=pdf_hooks.hang_on_slow_pdfs)
    reports: dict[str, SanitiseReport] = {}
    slow = threading.Thread(
        target=lambda: reports.update(
            slow=run(sanitiser, tmp_path, "slow.pdf", samples.pdf_text_pages(1))
        )
    )
    slow.start()
    time.sleep(0.2)
    started = time.monotonic()
    reports["fine"] = run(sanitiser, tmp_path, "fine.pdf", samples.pdf_text_pages(2))
    fine_took = time.monotonic() - started
    slow.join(timeout=30)

    assert reports["fine"].problem is None
    assert fine_took < 2.5
    assert reports["slow"].problem == "corrupt"


def test_workers_are_reused_and_replaced_after_their_quota_of_pdfs(
    tmp_path: Path, make_sanitiser: type[PikepdfSanitiser]
) -> None:
    work: Work = pdf_hooks.report_worker_pid
    sanitiser = make_sanitiser(workers=1, tasks_per_worker=2, work=work)

    pids = [
        run(sanitiser, tmp_path, f"{i}.pdf", samples.pdf_text_pages(1)).problem_detail
        for i in range(4)
    ]

    assert pids[0] == pids[1] != pids[2] == pids[3]


def test_refuses_a_work_function_a_worker_could_not_import(
    make_sanitiser: type[PikepdfSanitiser],
) -> None:
    def local(source: Path, partial: Path) -> SanitiseReport:
        return SanitiseReport()

    with pytest.raises(ValueError, match="module-level"):
        make_sanitiser(work=local)


def test_a_worker_sees_none_of_the_callers_secrets(
    tmp_path: Path, make_sanitiser: type[PikepdfSanitiser], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JTAI_DATABASE_URL", "postgresql://portal:secret@db/portal")
    sanitiser = make_sanitiser(work=pdf_hooks.report_environment)

    names = run(sanitiser, tmp_path, "a.pdf", samples.pdf_text_pages(1)).problem_detail.split()

    assert "JTAI_DATABASE_URL" not in names
    assert set(names) <= {"PATH", "PYTHONPATH", "PYTHONUTF8", "PYTHONDONTWRITEBYTECODE", "LC_CTYPE"}


def test_a_worker_started_from_a_thread_that_has_ended_keeps_serving(tmp_path: Path) -> None:
    """Ingest runs start workers from threads that end with the run; another run may still
    be using the worker, so it must outlive the thread (it did not with PR_SET_PDEATHSIG)."""
    import psutil  # type: ignore[import-untyped]

    sanitiser = PikepdfSanitiser(workers=1)
    source = tmp_path / "a.pdf"
    source.write_bytes(samples.pdf_text_pages(1))
    starter = threading.Thread(target=sanitiser.sanitise_pdf, args=(source, tmp_path / "1.pdf"))
    starter.start()
    starter.join()
    time.sleep(1.5)

    workers = [
        p
        for p in psutil.Process().children()
        if "portal.adapters.pdf_sanitiser" in " ".join(p.cmdline())
    ]
    assert workers, "the worker is gone"
    assert all(p.status() != psutil.STATUS_ZOMBIE for p in workers)
    assert sanitiser.sanitise_pdf(source, tmp_path / "2.pdf").problem is None
