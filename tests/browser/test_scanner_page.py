"""The administrator finds the Scanner page in their menu: clamd's engine and signatures,
and a plain warning that only the portal's local test signatures are loaded. Inspectors
see which signatures judged each accepted document. Real browser, real app, real clamd."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.domain.signatures import LOCAL_TEST_DATABASE_ID
from tests import samples
from tests.browser.conftest import Browsing, LivePortal


def test_the_administrator_sees_the_scanner_and_a_plain_warning_about_test_signatures(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("admin"))
    tab.goto("/inspections")
    tab.page.get_by_role("link", name="Scanner").click()

    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Scanner")
    expect(tab.page.locator("#scanner-status")).to_have_text("Degraded")
    expect(tab.page.locator("#scanner-warning")).to_contain_text(
        "Only the portal's local test signatures are loaded. They find the EICAR test file "
        "and nothing else"
    )
    signatures = tab.page.locator("#signatures")
    engine = live_portal.portal.container.scanner.signatures().engine
    expect(signatures).to_contain_text(f"ClamAV {engine}")
    expect(signatures).to_contain_text("The portal's local test signatures only")
    expect(signatures).to_contain_text("None (no ClamAV database is loaded)")
    expect(signatures).to_contain_text(f"local+{LOCAL_TEST_DATABASE_ID}")
    expect(signatures).to_contain_text("3 days")
    tab.check("scanner-test-signatures")


def test_the_scanner_page_is_the_administrators_alone(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    response = tab.goto("/scanner")
    assert response is not None and response.status == 403
    tab.check("scanner-refused")


def test_an_inspector_sees_which_signatures_judged_each_accepted_document(
    tab: Browsing, live_portal: LivePortal
) -> None:
    portal = live_portal.portal
    response = portal.upload("structure.pdf", samples.pdf_text_pages(2))
    assert response.status_code == 202, response.text
    assert portal.wait_final(response.json()["id"])["status"] == "accepted"

    tab.sign_in(live_portal.token("inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/documents")
    expect(tab.page.locator("[data-scanned]")).to_contain_text(
        "the portal's local test signatures only; scanned"
    )
    tab.check("documents-virus-check")

    tab.goto(f"/documents/{response.json()['id']}")
    expect(tab.page.locator("#virus-check")).to_contain_text("ClamAV")
    tab.check("document-virus-check")
