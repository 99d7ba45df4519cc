"""First-run set-up for the embedded defaults: an admin token and a demo inspection."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from portal.bootstrap import Container
from portal.domain.access import Inspection, Role
from portal.domain.timeline import LONDON
from portal.services.identities import issue_token, token_hash

DEMO_THEME = "domestic-abuse/sept-2024"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def ensure_admin_token(container: Container) -> str | None:
    """Issue the first admin token if there is none; return it (else None).

    The token is written to data_dir/admin-token (mode 600) so the operator can find it.
    """
    if container.identities.has_usable_admin_token(container.clock.now()):
        return None
    _principal, token = issue_token(container, Role.admin, label="bootstrap admin")
    _write_private(container.settings.data_dir / "admin-token", token + "\n")
    return token


def ensure_demo_inspection(container: Container) -> dict[str, Any]:
    """Create the demo inspection and its tokens once; return what to show the user."""
    path = container.settings.data_dir / "demo.json"
    if path.exists():
        demo: dict[str, Any] = json.loads(path.read_text())
        lead = demo.get("tokens", {}).get("lead_inspector", "")
        if container.identities.principal_for_token(token_hash(lead), container.clock.now()):
            return demo
        # The demo's tokens have expired: seed a fresh demo inspection.
    today = container.clock.now().astimezone(LONDON).date()
    fieldwork_start = today + timedelta(days=(7 - today.weekday()) % 7 + 14)
    theme = container.themes[DEMO_THEME]
    inspection = Inspection(
        id="demo" + container.clock.now().strftime("%Y%m%d%H%M%S"),
        theme_key=theme.key,
        area_name="Demoshire (demonstration)",
        fieldwork_start=fieldwork_start,
        agencies=tuple(a.code for a in theme.agencies),
        created_at=container.clock.now(),
    )
    container.repository.add_inspection(inspection, "demo-seed")
    tokens = {}
    for role, agency in (
        (Role.agency_uploader, "local_authority"),
        (Role.agency_uploader, "police"),
        (Role.lead_inspector, None),
        (Role.inspector, None),
        (Role.records_officer, None),
    ):
        _p, token = issue_token(
            container,
            role,
            inspection_id=inspection.id,
            agency=agency,
            label="demo",
            actor="demo-seed",
        )
        tokens[agency or role.value] = token
    sample = container.settings.data_dir / "demo" / "organisational-structure.pdf"
    _write_sample_pdf(sample)
    demo = {
        "inspection_id": inspection.id,
        "theme": theme.key,
        "tokens": tokens,
        "sample_file": str(sample),
    }
    _write_private(path, json.dumps(demo, indent=2))
    return demo


def _write_sample_pdf(path: Path) -> None:
    """A one-page PDF to try the upload with."""
    import pikepdf

    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(
        b"BT /F1 14 Tf 72 770 Td (Demoshire local authority: organisational structure) Tj ET"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.save(path)
