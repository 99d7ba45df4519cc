"""Command line: `jtai-portal up` runs everything with embedded defaults; the rest are parts.

jtai-portal up        clamd + Prefect server + API + ingest worker + scheduler, seeded demo
jtai-portal api       the HTTP API (uvicorn)
jtai-portal worker    the dispatcher that runs `ingest` flow runs
jtai-portal scheduler serves the `chase`, `retention`, `audit-anchor` and `rescan`
                      deployments on their schedules
jtai-portal migrate   bring the database schema up to date
jtai-portal audit verify  check every audit chain's HMACs and anchors; exit 1 naming the
                          first broken entry
jtai-portal audit anchor  copy every moved chain head to the anchor sink now
jtai-portal audit rotate-key  add a new newest audit key to the key file
jtai-portal s3-setup  make the buckets: versioned, encrypted, private, TLS (and KMS) only
jtai-portal s3-rekey KEY_ID [main|onsite]  re-encrypt every stored object under a new KMS key
jtai-portal signatures install DIR  check the ClamAV database in DIR, put it in place as
                          clamd's database atomically, reload clamd and wait until it
                          reports it (exit 1 naming what is wrong, changing nothing);
                          then ask Prefect to run the rescan deployment at once
jtai-portal signatures show  clamd's engine and signatures, their age, whether fit for use
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx

from portal.domain.errors import TransientError
from portal.domain.signatures import SignatureKind, SignatureState, age_words
from portal.settings import REPO_ROOT, Settings
from portal.supervisor import Supervisor

if TYPE_CHECKING:
    from portal.bootstrap import Container

log = logging.getLogger("jtai")


def _api(settings: Settings) -> None:
    import uvicorn

    from portal.app import create_app
    from portal.bootstrap import build

    app = create_app(build(settings, run_migrations=False))
    uvicorn.run(app, **api_server_options(settings))


def api_server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the API process. uvicorn never rewrites the client address
    from X-Forwarded-For (or any other header): only the portal's own
    JTAI_TRUSTED_PROXIES decides which proxy to believe, and with none set the peer
    address is the client. The app answers requests whose line and headers pass
    JTAI_MAX_REQUEST_HEADER_BYTES with 431; h11 stops buffering a request whose headers
    are still arriving at four times that (400), so none takes unbounded memory (the
    httptools parser has no such bound)."""
    return {
        "host": settings.api_host,
        "port": settings.api_port,
        "log_level": "info",
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "http": "h11",
        "h11_max_incomplete_event_size": 4 * settings.max_request_header_bytes,
    }


def _worker(settings: Settings) -> None:
    from flows.dispatcher import Dispatcher
    from flows.ingest import use_container
    from portal.bootstrap import build

    container = build(settings, run_migrations=False)
    use_container(container)
    dispatcher = Dispatcher(container)
    signal.signal(signal.SIGTERM, lambda *_: dispatcher.stop())
    log.info("ingest dispatcher running (concurrency %d)", settings.dispatcher_concurrency)
    try:
        dispatcher.run_forever()
    except KeyboardInterrupt:
        dispatcher.stop()


def _scheduler(settings: Settings) -> None:
    from prefect.runner import Runner

    from flows.audit_anchor import audit_anchor_deployment
    from flows.chase import chase_deployment
    from flows.ingest import use_container
    from flows.rescan import rescan_deployment
    from flows.retention import retention_deployment
    from portal.bootstrap import build

    use_container(build(settings, run_migrations=False))
    log.info(
        "serving the chase (%s), retention (%s), audit-anchor (%s) and rescan (%s) "
        "deployments, Europe/London",
        ", ".join(settings.chase_crons),
        settings.retention_cron,
        settings.audit_anchor_cron,
        settings.rescan_cron,
    )
    # prefect.serve() with its Runner's own SIGTERM handler calls the async stop without
    # awaiting it ("coroutine 'Runner.astop' was never awaited") and then pauses the
    # schedules through a server that may already be stopping. Here SIGTERM is Ctrl-C: the
    # run is cancelled and the runner's context exits, stopping it properly; the schedules
    # stay as they are for the next start.
    runner = Runner(pause_on_shutdown=False)
    runner.handle_sigterm = _raise_keyboard_interrupt  # type: ignore[method-assign]
    for deployment in (
        chase_deployment(settings.chase_crons),
        retention_deployment(settings.retention_cron),
        audit_anchor_deployment(settings.audit_anchor_cron),
        rescan_deployment(settings.rescan_cron),
    ):
        runner.add_deployment(deployment)  # type: ignore[arg-type]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runner.start())
    log.info("scheduler stopped")


def _migrate(settings: Settings) -> None:
    from portal.adapters.clock import SystemClock
    from portal.adapters.db.audit_log import SqlAuditLog
    from portal.adapters.db.engine import make_engine, migrate
    from portal.bootstrap import load_audit_keys, make_anchor_sink
    from portal.services.audit import anchor_heads

    clock = SystemClock()
    load_audit_keys(settings, clock)  # no key file, no migration: the next start needs one
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        # Events from before keyed chains verify only under an anchor: anchor them now.
        anchored = anchor_heads(SqlAuditLog(engine), make_anchor_sink(settings, clock), clock.now())
    finally:
        engine.dispose()
    print(
        f"database at {settings.resolved_database_url} is up to date; "
        f"{len(anchored)} audit chain heads anchored"
    )


def _audit(settings: Settings, subcommand: str) -> None:
    from portal.adapters.audit_keys import load_keyring, rotate_key
    from portal.adapters.clock import SystemClock
    from portal.adapters.db.audit_log import SqlAuditLog
    from portal.adapters.db.engine import make_engine
    from portal.bootstrap import make_anchor_sink
    from portal.domain.errors import PortalError
    from portal.services.audit import anchor_heads, verify_audit

    clock = SystemClock()
    if subcommand == "rotate-key":
        try:
            key = rotate_key(settings.resolved_audit_key_file, clock.now())
        except PortalError as exc:
            raise SystemExit(f"jtai-portal audit rotate-key: {exc}") from exc
        print(
            f"new audit key {key.key_id} added to {settings.resolved_audit_key_file}; "
            "restart the API, workers and scheduler to seal with it (keep every older key)"
        )
        return
    engine = make_engine(settings.resolved_database_url)
    log = SqlAuditLog(engine)
    try:
        sink = make_anchor_sink(settings, clock)
        if subcommand == "anchor":
            anchored = anchor_heads(log, sink, clock.now())
            print(f"{len(anchored)} audit chain heads anchored", flush=True)
            return
        verdict = verify_audit(log, load_keyring(settings.resolved_audit_key_file), sink)
    except PortalError as exc:
        print(f"audit log NOT VERIFIED: {exc}", flush=True)
        raise SystemExit(1) from exc
    finally:
        engine.dispose()
    print(verdict.summary(), flush=True)
    if not verdict.ok:
        raise SystemExit(1)


PREFECT_SERVER_TUNING = {
    # By default the task-run recorder writes each task run's state events in a transaction
    # of its own; on SQLite those writes collide with the next flow run's ("database is
    # locked", answered 503, and the client backs off ~2 s, up to a minute over its
    # retries). Batched, the six step tasks of an ingest run cost a few writes a second.
    # The UI shows task runs up to 5 s (the flush interval) later.
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "5",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "1000",
    # The portal defines no automations, and the triggers service reads every event for
    # them: work it never needs (the saving in a burst is within the runs' spread).
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
}
"""Settings of the Prefect server `jtai-portal up` starts (and the benchmarks start)."""


def prefect_server_command(port: int) -> list[str]:
    """The command that starts a local Prefect server on 127.0.0.1:`port`."""
    return [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def _wait_until(
    check: Callable[[], object], what: str, timeout: float, supervisor: Supervisor
) -> None:
    """Wait until `check` passes, tending the children meanwhile (one that dies while
    starting is restarted); give up after `timeout` seconds, naming the log to read."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.tend()
        try:
            check()
            return
        except (OSError, httpx.HTTPError, TransientError):
            pass
        time.sleep(0.3)
    raise SystemExit(
        f"{what} did not become ready within {timeout:.0f} s; see {supervisor.log_dir}/"
    )


def _answers(url: str) -> Callable[[], object]:
    """A readiness check for `_wait_until`: GET `url` answers 2xx (else it raises)."""
    return lambda: httpx.get(url, timeout=2).raise_for_status()


def prefect_api_url(settings: Settings) -> str:
    """The Prefect API the portal reports to: JTAI_PREFECT_API_URL, else the local server
    `up` starts on JTAI_PREFECT_PORT."""
    return settings.prefect_api_url or f"http://127.0.0.1:{settings.prefect_port}/api"


def prefect_env(settings: Settings) -> dict[str, str]:
    """The environment in which Prefect (its CLI, the worker, the scheduler) talks to the
    portal's Prefect server, not a temporary one of its own."""
    url = prefect_api_url(settings)
    return {
        "JTAI_PREFECT_API_URL": url,
        "PREFECT_API_URL": url,
        "PREFECT_HOME": str(settings.data_dir / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def _prefect(settings: Settings, args: list[str]) -> None:
    os.execve(
        sys.executable,
        [sys.executable, "-m", "prefect", *args],
        {**os.environ, **prefect_env(settings)},
    )


def clamd_threads(settings: Settings) -> int:
    """clamd's MaxThreads for the clamd `up` starts (unless CLAMD_MAX_THREADS is set): a
    thread for every connection `up`'s processes may open at once (the API's scans during
    upload, the worker's, the scheduler's rescans), so that none waits in clamd's queue,
    where the portal's timeout runs but no scan does."""
    return (
        settings.upload_scan_connections + settings.clamd_connections + settings.rescan_connections
    )


def _up(settings: Settings) -> None:
    from portal.bootstrap import build
    from portal.demo import ensure_admin_token, ensure_demo_inspection
    from portal.services.audit import anchor_heads

    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    prefect_url = prefect_api_url(settings)
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    env = {
        **PREFECT_SERVER_TUNING,
        "CLAMD_MAX_THREADS": str(clamd_threads(settings)),
        **os.environ,
        **prefect_env(settings),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "JTAI_DATA_DIR": str(data),
        "JTAI_PUBLIC_URL": settings.resolved_public_url,
    }
    supervisor = Supervisor(env, data / "logs", notice=_say)
    # Ctrl-C (SIGINT) and SIGTERM both end the loop below; the children, in their own
    # process groups, hear of it only from stop_all.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    _say(f"starting the portal; the processes' logs go to {supervisor.log_dir}/")
    try:
        container = build(settings)
        if settings.clamd_host is None:
            database = ensure_signatures(settings)
            supervisor.start(
                "clamd",
                [
                    str(REPO_ROOT / "infra/clamd/start-clamd"),
                    str(settings.resolved_clamd_socket.parent),
                    str(database),
                ],
            )
        if settings.prefect_api_url is None:
            supervisor.start("prefect", prefect_server_command(settings.prefect_port))
        admin_token = ensure_admin_token(container)
        demo = ensure_demo_inspection(container)
        anchor_heads(container.audit_log, container.anchor_sink, container.clock.now())
        portal = [sys.executable, "-m", "portal.cli"]
        supervisor.start("api", [*portal, "api"])
        _wait_until(
            _answers(prefect_url + "/health"),
            "the Prefect server",
            120,
            supervisor,
        )
        supervisor.start("worker", [*portal, "worker"])
        supervisor.start("scheduler", [*portal, "scheduler"])
        _wait_until(container.scanner.check, "clamd", 120, supervisor)
        # The welcome offers `prefect deployment run retention/retention`: it must exist.
        _wait_until(
            _answers(prefect_url + "/deployments/name/retention/retention"),
            "the scheduler's deployments",
            120,
            supervisor,
        )
        _wait_until(
            _answers(api_url + "/healthz"),
            "the API",
            60,
            supervisor,
        )
        _print_welcome(api_url, prefect_url, data, admin_token, demo, _signatures_line(container))
        while True:
            supervisor.tend()
            time.sleep(0.5)
    except KeyboardInterrupt:
        _say("stopping ...")
    finally:
        supervisor.stop_all(grace_seconds=STOP_GRACE_SECONDS)
        _say("stopped")


STOP_GRACE_SECONDS = 5.0

LOCAL_TEST_SIGNATURES = REPO_ROOT / "infra/clamd/db"
"""The portal's local test signature database: the EICAR test signature and its marker."""


def ensure_signatures(settings: Settings) -> Path:
    """clamd's database directory for `up`: JTAI_CLAMD_DATABASE_DIR as it is, or on a
    first start (nothing there yet) the local test signatures installed there, so that
    `jtai-portal signatures install` can later swap in real ones."""
    from portal.adapters.clamscan_validator import ClamscanValidator
    from portal.adapters.signature_directory import VersionedDatabaseDirectory
    from portal.domain.errors import PortalError
    from portal.services.signatures import install_signatures

    link = settings.resolved_clamd_database_dir
    if not link.exists():
        _say(f"installing the local test signatures (EICAR only) in {link}")
        try:
            install_signatures(
                LOCAL_TEST_SIGNATURES,
                VersionedDatabaseDirectory(link),
                ClamscanValidator(),
                None,
                timeout_seconds=settings.signatures_reload_timeout_seconds,
            )
        except PortalError as exc:
            raise SystemExit(f"jtai-portal up: clamd's signatures: {exc}") from exc
    return link


def _signatures(settings: Settings, subcommand: str, source: Path | None) -> None:
    from portal.adapters.clamscan_validator import ClamscanValidator
    from portal.adapters.clock import SystemClock
    from portal.adapters.signature_directory import VersionedDatabaseDirectory
    from portal.bootstrap import make_scanner
    from portal.domain.errors import PortalError
    from portal.services.signatures import install_signatures, signature_state

    scanner = make_scanner(settings)
    if subcommand == "show":
        try:
            state = signature_state(
                scanner,
                SystemClock().now(),
                timedelta(hours=settings.signatures_max_age_hours),
            )
        except PortalError as exc:
            raise SystemExit(f"jtai-portal signatures show: {exc}") from exc
        print(signatures_summary(state), flush=True)
        return
    assert source is not None
    link = settings.resolved_clamd_database_dir
    try:
        installed = install_signatures(
            source.resolve(),
            VersionedDatabaseDirectory(link),
            ClamscanValidator(),
            scanner,
            timeout_seconds=settings.signatures_reload_timeout_seconds,
        )
    except PortalError as exc:
        raise SystemExit(f"jtai-portal signatures install: {exc}") from exc
    loaded = installed.loaded
    print(
        f"installed database {installed.database_id} ({installed.signature_count} signatures) "
        f"as {link} -> {installed.path}"
        + (f"; clamd now reports {loaded.version} (ClamAV {loaded.engine})" if loaded else ""),
        flush=True,
    )
    print(_rescan_now(settings), flush=True)


def _rescan_now(settings: Settings) -> str:
    """Start a rescan at once after new signatures, rather than at the schedule's next run;
    says which happened. Never fails the install: the schedule is the backstop."""
    from flows.rescan import request_rescan

    try:
        run = request_rescan(prefect_api_url(settings))
    except Exception as exc:  # Prefect down, or the scheduler never served the deployment
        return (
            f"could not start a rescan now ({type(exc).__name__}: {str(exc)[:200]}); "
            f"the scheduler's next rescan ({settings.rescan_cron}) will run it"
        )
    return f"rescan started: flow run {run} of the rescan deployment"


def signatures_summary(state: SignatureState) -> str:
    """What `jtai-portal signatures show` prints: one fact a line, then any warning."""
    signatures = state.signatures
    published = signatures.database_date
    lines = [
        f"engine:      ClamAV {signatures.engine}",
        f"signatures:  {signatures.version} ({signatures.kind.value})",
        f"published:   {published.isoformat() if published else 'not known'}",
        f"age:         {age_words(state.age) if state.age is not None else 'not known'}"
        f" (degraded after {age_words(state.max_age)})",
        f"status:      {'DEGRADED' if state.degraded else 'ok'}",
    ]
    if state.warning:
        lines.append(state.warning)
    return "\n".join(lines)


def _raise_keyboard_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


# The settings a pasted `jtai-portal logs` or `jtai-portal prefect ...` needs to find this
# portal's data and Prefect server, when they are not the defaults.
_WHERE_SETTINGS = ("JTAI_DATA_DIR", "JTAI_PREFECT_PORT", "JTAI_PREFECT_API_URL")


def _portal_command() -> str:
    """This install's `jtai-portal`, by absolute path, after the settings that locate this
    portal when they were set: pasted into another terminal it reaches this portal."""
    where = [
        f"{name}={shlex.quote(os.environ[name])}" for name in _WHERE_SETTINGS if name in os.environ
    ]
    return " ".join([*where, shlex.quote(str(Path(sys.executable).parent / "jtai-portal"))])


def _say(line: str) -> None:
    print(f"jtai-portal: {line}", file=sys.stderr, flush=True)


def _logs(settings: Settings, names: list[str]) -> None:
    from portal.log_files import follow

    with contextlib.suppress(KeyboardInterrupt):
        follow(settings.data_dir / "logs", names, sys.stdout)


def _signatures_line(container: Container) -> str:
    """What the welcome says of clamd's signatures: plainly, when they are the test ones."""
    from portal.services.signatures import scanner_status

    state = scanner_status(container).state
    if state is None:
        return "clamd does not say (see /scanner)"
    if state.signatures.kind is SignatureKind.test:
        return "the local test signatures only: they find the EICAR test file, nothing else"
    return f"{state.signatures.version}" + (" (DEGRADED: see /scanner)" if state.degraded else "")


def _print_welcome(
    api_url: str,
    prefect_url: str,
    data: Path,
    admin_token: str | None,
    demo: dict[str, object],
    signatures: str,
) -> None:
    tokens = demo["tokens"]
    assert isinstance(tokens, dict)
    inspection = demo["inspection_id"]
    admin = admin_token or f"(shown on first run; stored in {data / 'admin-token'})"
    records = tokens.get("records_officer")
    records_line = (
        f"""   Preview retention (as the records officer):
     curl -X POST -H "Authorization: Bearer {records}" \\
          -H "Content-Type: application/json" -d '{{}}' {api_url}/v1/retention/runs
"""
        if records
        else ""
    )
    command = _portal_command()
    print(
        f"""
==========================================================================
 JTAI evidence portal is running (Ctrl-C stops everything)

   Web pages      {api_url}/sign-in   (paste a token below)
   API            {api_url}
   API docs       {api_url}/docs
   Readiness      {api_url}/readyz
   Signatures     {signatures}
   Prefect UI     {prefect_url.removesuffix("/api")}
   Logs           {data / "logs"}/   (follow them: {command} logs)

 Demo inspection {inspection} ({demo["theme"]})
   local authority uploader token: {tokens["local_authority"]}
   police uploader token:          {tokens["police"]}
   lead inspector token:           {tokens["lead_inspector"]}
   records officer token:          {records or "(re-seed to get one)"}
   admin token:                    {admin}

 Try it, in another terminal:
   Upload a file as the local authority (the answer's status_url says how it went):
     curl -H "Authorization: Bearer {tokens["local_authority"]}" \\
          -F item=1.1 -F file=@{demo["sample_file"]} \\
          {api_url}/v1/inspections/{inspection}/documents
   Wait for its verdict (the answer's id; up to 500 ids a call, answered once all are final):
     curl -H "Authorization: Bearer {tokens["local_authority"]}" \\
          -H "Content-Type: application/json" \\
          -d '{{"ids": ["<id>"], "wait_seconds": 30}}' {api_url}/v1/documents/status
{records_line}   Run the retention deployment now, through Prefect:
     {command} prefect deployment run retention/retention
==========================================================================
""",
        flush=True,
    )


def _s3_setup(settings: Settings) -> None:
    from portal.adapters.s3_setup import secure_bucket
    from portal.bootstrap import make_s3_client_for

    client = make_s3_client_for(settings)
    for bucket, prefix, sse, key in _buckets(settings):
        secure_bucket(
            client,
            bucket,
            prefix=prefix,
            sse=sse,
            kms_key_id=key,
            apply_policy=settings.s3_bucket_policy,
        )
        log.info("bucket %s ready: versioned, %s, public access blocked, TLS required", bucket, sse)


def _buckets(settings: Settings) -> list[tuple[str, str, Literal["AES256", "aws:kms"], str | None]]:
    if settings.store != "s3" or not settings.s3_bucket:
        raise SystemExit("JTAI_STORE=s3 and JTAI_S3_BUCKET are needed")
    buckets: list[tuple[str, str, Literal["AES256", "aws:kms"], str | None]] = [
        (settings.s3_bucket, settings.s3_prefix, settings.s3_sse, settings.s3_kms_key_id)
    ]
    if settings.s3_onsite_bucket or settings.s3_onsite_kms_key_id:
        buckets.append(
            (
                settings.s3_onsite_bucket or settings.s3_bucket,
                settings.s3_onsite_prefix,
                "aws:kms" if settings.s3_onsite_kms_key_id else settings.s3_sse,
                settings.s3_onsite_kms_key_id,
            )
        )
    return buckets


def _s3_rekey(settings: Settings, key_id: str, which: str) -> None:
    from portal.adapters.s3_setup import rekey
    from portal.bootstrap import make_s3_client_for

    buckets = _buckets(settings)
    if which == "onsite" and len(buckets) < 2:
        raise SystemExit("no on-site bucket is configured")
    bucket, prefix, _sse, _key = buckets[1] if which == "onsite" else buckets[0]
    copied = rekey(make_s3_client_for(settings), bucket, prefix, key_id)
    log.info(
        "%s: %d objects re-encrypted under %s; now set the setting and restart",
        bucket,
        copied,
        key_id,
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `jtai-portal` command."""
    parser = argparse.ArgumentParser(
        prog="jtai-portal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "api", "worker", "scheduler", "migrate", "s3-setup"):
        commands.add_parser(name)
    logs = commands.add_parser("logs", help="follow the logs of `up`'s processes")
    logs.add_argument("names", nargs="*", help="clamd, prefect, api, worker, scheduler")
    prefect = commands.add_parser(
        "prefect", help="Prefect's CLI, talking to the portal's Prefect server", add_help=False
    )
    prefect.add_argument("args", nargs=argparse.REMAINDER)
    audit = commands.add_parser("audit")
    audit.add_argument("subcommand", choices=["verify", "anchor", "rotate-key"])
    signatures = commands.add_parser("signatures", help="clamd's signature database")
    signature_commands = signatures.add_subparsers(dest="subcommand", required=True)
    install = signature_commands.add_parser(
        "install", help="put the ClamAV database in DIR in place and reload clamd"
    )
    install.add_argument("directory", type=Path, metavar="DIR")
    signature_commands.add_parser("show", help="clamd's engine and signatures, and their age")
    rekey = commands.add_parser("s3-rekey")
    rekey.add_argument("key_id")
    rekey.add_argument("bucket", nargs="?", choices=["main", "onsite"], default="main")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("alembic", "httpx", "pikepdf", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings()
    if args.command == "prefect":
        _prefect(settings, args.args)
        return
    if args.command == "logs":
        _logs(settings, args.names)
        return
    if args.command == "audit":
        _audit(settings, args.subcommand)
        return
    if args.command == "signatures":
        _signatures(settings, args.subcommand, getattr(args, "directory", None))
        return
    if args.command == "s3-rekey":
        _s3_rekey(settings, args.key_id, args.bucket)
        return
    run = {
        "up": _up,
        "api": _api,
        "worker": _worker,
        "scheduler": _scheduler,
        "migrate": _migrate,
        "s3-setup": _s3_setup,
    }
    run[args.command](settings)


if __name__ == "__main__":
    main()
