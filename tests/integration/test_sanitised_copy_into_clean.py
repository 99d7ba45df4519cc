"""A sanitised copy reaches the clean area by rename when the batch's workspace is on the
filesystem store's filesystem, and by copy otherwise: the same bytes either way, and the
sha256 recorded is that of the bytes stored."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from portal.bootstrap import make_store
from portal.domain.documents import Area, DocumentStatus, StoredObject
from portal.domain.ports import ObjectStore
from portal.domain.reasons import WarningCode
from portal.ingest import process_batch, sweep_workspaces
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import TEST_NOW, build_portal
from tests.integration.test_batch_scans import _batch_of


class StoreWatchingTakes:
    """The real store, noting each file put_file was given and whether it was gone after
    (taken by rename) or left (copied)."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.taken: list[tuple[Area, bool]] = []

    def put_file(self, area: Area, key: str, path: Path) -> StoredObject:
        stored = self.inner.put_file(area, key, path)
        self.taken.append((area, path.exists()))
        return stored

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _ingest(settings: Settings, workspace_root: Path | None) -> tuple[list[Any], Any, Any]:
    store = StoreWatchingTakes(make_store(settings))
    container = build_portal(settings, store=store)
    # An active-content PDF (sanitised: a copy in the workspace) and a docx (not sanitised:
    # the quarantined original itself, which stays in quarantine until its verdict).
    documents = _batch_of(
        container,
        [samples.pdf_with_active_content(), samples.docx()],
        names=["plan.pdf", "plan.docx"],
    )
    services = container.ingest_services()
    if workspace_root is not None:
        services = dataclasses.replace(services, workspace_root=workspace_root)
    results = process_batch(documents, "claim-1", services)
    stored = []
    for document in documents:
        recorded = container.repository.get_document(document.id)
        assert recorded is not None and recorded.status is DocumentStatus.accepted
        with container.store.open(Area.clean, document.object_key) as handle:
            data = handle.read()
        assert recorded.sha256_stored == hashlib.sha256(data).hexdigest()
        assert not container.store.exists(Area.quarantine, document.object_key)
        stored.append(data)
    return stored, store, results


def test_a_sanitised_copy_renamed_into_the_clean_area_is_what_a_copy_would_store(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    renamed, renaming_store, results = _ingest(
        settings.model_copy(update={"data_dir": tmp_path / "renamed"}), None
    )
    with tempfile.TemporaryDirectory(dir="/dev/shm") as elsewhere:  # another filesystem
        copied, copying_store, _ = _ingest(
            settings.model_copy(update={"data_dir": tmp_path / "copied"}), Path(elsewhere)
        )

    assert WarningCode.active_content_removed in results[0].warnings
    # The sanitised PDF was handed over: taken by rename (gone) on the store's filesystem,
    # copied (left) from another one; the docx was copied out of quarantine by `put`.
    assert renaming_store.taken == [(Area.clean, False)]
    assert copying_store.taken == [(Area.clean, True)]
    assert renamed == copied
    # Each batch's workspace is gone when it ends.
    assert list((tmp_path / "renamed" / "ingest-work").iterdir()) == []


def test_a_dead_workers_batch_workspaces_are_swept_and_live_ones_spared(tmp_path: Path) -> None:
    root = tmp_path / "ingest-work"
    left, live, other = root / "jtai-ingest-left", root / "jtai-ingest-live", root / "keep"
    for directory in (left, live, other):
        (directory / "0").mkdir(parents=True)
        (directory / "0" / "sanitised.pdf").write_bytes(b"%PDF-")
    a_day_ago = TEST_NOW - timedelta(days=1)
    old = (a_day_ago - timedelta(minutes=1)).timestamp()
    os.utime(left, (old, old))
    os.utime(other, (old, old))
    os.utime(live, (a_day_ago.timestamp() + 60,) * 2)

    assert sweep_workspaces(root, a_day_ago) == 1
    assert sorted(p.name for p in root.iterdir()) == ["jtai-ingest-live", "keep"]
    assert sweep_workspaces(tmp_path / "never-made", a_day_ago) == 0
