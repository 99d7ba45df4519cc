"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, headless) against
the real app served by uvicorn on a free port, with real clamd, a Prefect server and the
dispatcher checking uploads as the worker does.

Every page a test visits is checked by axe-core (from web/node_modules, evaluated in the
page: the pages' Content-Security-Policy refuses inline scripts, so a script tag could not
run it), must log no console error, load every asset and run GOV.UK Frontend's script; a
screenshot of it goes to tests/browser/artifacts/<test>/ (git-ignored).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from playwright.sync_api import Response as PageResponse

from flows.dispatcher import Dispatcher
from portal.app import create_app
from portal.settings import REPO_ROOT, Settings
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FINAL_STATUSES = ("Accepted", "Rejected", "Withdrawn")


# Package scope, not session: sync Playwright keeps its event loop marked as running in this
# thread while it is open, and every later asyncio.run() (Prefect flows, deployments) would fail.
@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, with nothing that reaches the network by itself."""
    assert CHROMIUM.exists(), "Debian's chromium is missing: run infra/install --test"
    assert AXE.exists(), "axe-core is missing from web/node_modules: run infra/install --test"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class LivePortal:
    """The portal served over HTTP, with its inspection and tokens."""

    url: str
    portal: PortalUnderTest

    @property
    def inspection_id(self) -> str:
        return self.portal.inspection_id

    def token(self, who: str) -> str:
        return self.portal.tokens[who]


@pytest.fixture
def live_portal(
    settings: Settings, running_clamd: ClamdProcess, prefect_server: None
) -> Iterator[LivePortal]:
    """uvicorn on a free port of 127.0.0.1 and a dispatcher thread, over one container."""
    container = build_portal(settings)
    dispatcher = Dispatcher(container)
    portal = start_portal(container)
    portal.worker_beside = True
    app = create_app(container)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    serving = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    serving.start()
    worker = threading.Thread(target=dispatcher.run_forever, daemon=True)
    worker.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert serving.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield LivePortal(f"http://127.0.0.1:{port}", portal)
    finally:
        dispatcher.stop()
        server.should_exit = True
        worker.join(timeout=60)
        serving.join(timeout=30)
        listener.close()


@dataclass
class Browsing:
    """One person's browser tab on the live portal, checking every page it shows."""

    page: Page
    base_url: str
    folder: Path
    shots: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_assets: list[str] = field(default_factory=list)

    def goto(self, path: str) -> PageResponse | None:
        return self.page.goto(self.base_url + path)

    def check(self, name: str) -> None:
        """axe-core finds no violation, nothing failed to load or logged an error, GOV.UK
        Frontend's script ran; then a full-page screenshot."""
        self.page.wait_for_load_state("load")
        assert self.console_errors == [], self.console_errors
        assert self.failed_assets == [], self.failed_assets
        assert self.page.evaluate("document.body.classList.contains('govuk-frontend-supported')"), (
            "GOV.UK Frontend's support script did not run"
        )
        violations = run_axe(self.page)
        assert violations == [], describe_violations(violations)
        self.shots.append(name)
        self.page.screenshot(
            path=str(self.folder / f"{len(self.shots):02d}-{name}.png"), full_page=True
        )

    def sign_in(self, token: str) -> None:
        self.goto("/sign-in")
        self.page.locator("#token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state("load")

    def wait_for_final_status(self, timeout: float = 60.0) -> str:
        """Press "Check again" until the document's status is final."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.page.locator("#document-status").inner_text().strip()
            if status in FINAL_STATUSES or time.monotonic() > deadline:
                return status
            time.sleep(0.3)
            self.page.get_by_role("button", name="Check again").click()
            self.page.wait_for_load_state("load")


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page (WCAG 2.2 A and AA, and best practice)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;0")
    violations: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.html)}))",
        AXE_TAGS,
    )
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n  " + "\n  ".join(v["nodes"][:3])
        for v in violations
    )


@pytest.fixture
def browser_context(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    yield context
    context.close()


def _artifact_folder(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


def open_tab(context: BrowserContext, live_portal: LivePortal, folder: Path) -> Browsing:
    """A new tab that records console errors and assets that failed to load."""
    page = context.new_page()
    browsing = Browsing(page, live_portal.url, folder)

    def on_console(message: ConsoleMessage) -> None:
        # A page answered 403 or 404 on purpose is logged as a failed resource; assets that
        # fail are caught by on_response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            browsing.console_errors.append(message.text)

    def on_response(response: PageResponse) -> None:
        # A problem+json answer to a page's script (e.g. a refused resumable upload) is
        # read and shown by the script: not an asset that failed.
        if response.headers.get("content-type") == "application/problem+json" and (
            response.request.resource_type in ("xhr", "fetch")
        ):
            return
        if response.request.resource_type != "document" and response.status >= 400:
            browsing.failed_assets.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: browsing.console_errors.append(str(error)))
    page.on("response", on_response)
    return browsing


@pytest.fixture
def tab(
    request: pytest.FixtureRequest, browser_context: BrowserContext, live_portal: LivePortal
) -> Browsing:
    """A browser tab on the live portal; its screenshots go to artifacts/<test name>/."""
    return open_tab(browser_context, live_portal, _artifact_folder(request))


@pytest.fixture
def second_tab(
    request: pytest.FixtureRequest, chromium: Browser, live_portal: LivePortal
) -> Iterator[Browsing]:
    """Another person's browser (its own cookies), on the same live portal."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    folder = _artifact_folder(request) / "second"
    folder.mkdir(exist_ok=True)
    yield open_tab(context, live_portal, folder)
    context.close()
