"""A records officer runs retention from the pages: a dry run and its result, legal holds
placed and lifted, a deleting run behind a confirmation, and the deletion records.
Real browser, real app."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from portal.domain.documents import Area, Document, DocumentStatus
from tests.browser.conftest import Browsing, LivePortal
from tests.factories import add_document

LONG_AGO = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _records_officer_token(live_portal: LivePortal) -> str:
    """A records officer of every inspection, registered and given a token by the admin."""
    portal = live_portal.portal
    user = portal.client.post(
        "/v1/users",
        headers=portal.auth("admin"),
        json={"name": "Rita Records", "role": "records_officer"},
    )
    assert user.status_code == 201, user.text
    token = portal.client.post(
        f"/v1/users/{user.json()['id']}/tokens", headers=portal.auth("admin"), json={}
    )
    assert token.status_code == 201, token.text
    value: str = token.json()["token"]
    return value


def _rejected_long_ago(live_portal: LivePortal, name: str) -> Document:
    """A rejected upload decided months ago: due for deletion (10 working days)."""
    return add_document(
        live_portal.portal.container,
        live_portal.inspection_id,
        original_filename=name,
        status=DocumentStatus.rejected,
        area=Area.quarantine,
        size_bytes=5,
        sha256_received="a" * 64,
        content=b"bytes",
        decided_at=LONG_AGO,
    )


def test_a_records_officer_runs_a_dry_run_and_sees_what_would_go_and_what_is_held(
    tab: Browsing, live_portal: LivePortal
) -> None:
    held = _rejected_long_ago(live_portal, "held.txt")
    due = _rejected_long_ago(live_portal, "due.txt")
    tab.sign_in(_records_officer_token(live_portal))
    expect(tab.page).to_have_url(re.compile(r"/retention$"))
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Retention")
    tab.check("retention")

    tab.page.get_by_role("link", name="Legal holds").click()
    expect(tab.page.locator("#no-holds")).to_be_visible()
    tab.check("holds-none")
    tab.page.get_by_role("button", name="Place the hold").click()
    summary = tab.page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link", name="Select the inspection to hold")).to_have_attribute(
        "href", "#inspection"
    )
    expect(summary.get_by_role("link", name="Enter why the records must be kept")).to_be_visible()
    tab.check("holds-errors")
    tab.page.locator("#inspection").select_option(live_portal.inspection_id)
    tab.page.locator("#document-id").fill("f" * 32)
    tab.page.locator("#reason").fill("Complaint ref C-1")
    tab.page.get_by_role("button", name="Place the hold").click()
    expect(tab.page.locator("#document-id-error")).to_contain_text(
        "This inspection has no document with that ID"
    )
    tab.page.locator("#document-id").fill(held.id)
    tab.page.get_by_role("button", name="Place the hold").click()
    expect(tab.page.locator(".govuk-notification-banner")).to_contain_text(
        "The legal hold was placed"
    )
    row = tab.page.locator("#holds tbody tr").first
    expect(row).to_contain_text(f"Document {held.id}")
    expect(row).to_contain_text("Complaint ref C-1")
    expect(row.locator(".govuk-tag")).to_have_text("Active")
    hold_id = row.get_attribute("data-hold")
    tab.check("holds-placed")

    tab.page.get_by_role("link", name="Retention", exact=True).click()
    tab.page.get_by_role("button", name="Start a dry run").click()
    expect(tab.page).to_have_url(re.compile(r"/retention/runs/[0-9a-f]{32}\?started=1$"))
    expect(tab.page.locator(".govuk-notification-banner")).to_contain_text(
        "The dry run finished. Nothing was deleted."
    )
    would = tab.page.locator(f"[data-action=would_delete][data-record='{due.id}']")
    expect(would).to_contain_text("Rejected upload")
    expect(would).to_contain_text("10 working days after decided")
    kept = tab.page.locator(f"[data-action=held][data-record='{held.id}']")
    expect(kept.locator("[data-field=reason]")).to_contain_text("under legal hold")
    expect(kept.get_by_role("link", name=f"Legal hold {hold_id}")).to_be_visible()
    tab.check("dry-run-result")

    # Lift the hold: the next run would delete what it kept.
    tab.page.get_by_role("link", name="Legal holds").click()
    tab.page.locator(f"tr[data-hold='{hold_id}']").get_by_role("link", name="Lift").click()
    tab.page.get_by_role("button", name="Lift the hold").click()
    expect(tab.page.locator("#reason-error")).to_contain_text("Enter why the hold can be lifted")
    tab.check("lift-error")
    tab.page.locator("#reason").fill("Complaint closed")
    tab.page.get_by_role("button", name="Lift the hold").click()
    expect(tab.page.locator(".govuk-notification-banner")).to_contain_text(
        "The legal hold was lifted"
    )
    expect(tab.page.locator(f"tr[data-hold='{hold_id}'] .govuk-tag")).to_have_text("Lifted")
    tab.check("holds-lifted")


def test_a_deleting_run_asks_first_and_its_deletion_record_proves_what_went(
    tab: Browsing, live_portal: LivePortal
) -> None:
    due = _rejected_long_ago(live_portal, "due.txt")
    tab.sign_in(_records_officer_token(live_portal))
    tab.page.get_by_role("button", name="Delete what is due now").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to delete what is due now?"
    )
    expect(tab.page.locator(".govuk-warning-text")).to_contain_text("cannot be recovered")
    tab.check("confirm-delete")
    tab.page.get_by_role("button", name="Yes, delete what is due").click()
    expect(tab.page.locator(".govuk-notification-banner")).to_contain_text(
        "The deleting run finished"
    )
    gone = tab.page.locator(f"[data-action=deleted][data-record='{due.id}']")
    expect(gone.locator("[data-field=sha256]")).to_contain_text("a" * 64)
    expect(gone.locator("[data-field=size]")).to_contain_text("5 bytes")
    expect(gone.locator("[data-field=proof]")).to_contain_text("Versions remaining: 0")
    run_url = tab.page.url.split("?")[0]
    tab.check("deleting-run-result")

    tab.page.get_by_role("link", name="Deletion records", exact=True).click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Deletion records")
    tab.check("deletion-records")
    tab.page.locator("#runs tbody tr").first.get_by_role("link").click()
    assert tab.page.url == run_url
    expect(tab.page.locator("#run-status")).to_have_text("Completed")
    expect(tab.page.locator("[data-field=policy] dd")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    tab.check("deletion-record")


def test_an_agency_uploader_cannot_reach_the_records_pages(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("local_authority"))
    for path in ("/retention", "/retention/delete", "/retention/runs", "/retention/holds"):
        response = tab.goto(path)
        assert response is not None and response.status == 403, path
    hold = live_portal.portal.container.records.place_hold(
        live_portal.inspection_id, None, "Claim", "test", LONG_AGO
    )
    response = tab.goto(f"/retention/holds/{hold.id}/lift")
    assert response is not None and response.status == 403
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("You cannot see this page")
    tab.check("forbidden")
