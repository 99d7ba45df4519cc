"""Command line: `jtai-portal up` runs everything with embedded defaults; the rest are parts.

jtai-portal up        clamd + Prefect server + API + ingest worker + scheduler, seeded demo
jtai-portal api       the HTTP API (uvicorn)
jtai-portal worker    the dispatcher that runs `ingest` flow runs
jtai-portal scheduler serves the `chase` and `retention` deployments on their schedules
jtai-portal migrate   bring the database schema up to date
jtai-portal audit verify  check every audit hash chain; exit 1 naming the first broken entry
jtai-portal s3-setup  make the buckets: versioned, encrypted, private, TLS (and KMS) only
jtai-portal s3-rekey KEY_ID [main|onsite]  re-encrypt every stored object under a new KMS key
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import httpx

from portal.domain.errors import TransientError
from portal.settings import REPO_ROOT, Settings

log = logging.getLogger("jtai")


def _api(settings: Settings) -> None:
    import uvicorn

    from portal.api.app import create_app
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
    from prefect import serve

    from flows.chase import chase_deployment
    from flows.ingest import use_container
    from flows.retention import retention_deployment
    from portal.bootstrap import build

    use_container(build(settings, run_migrations=False))
    log.info(
        "serving the chase (%s) and retention (%s) deployments, Europe/London",
        ", ".join(settings.chase_crons),
        settings.retention_cron,
    )
    serve(
        chase_deployment(settings.chase_crons),  # type: ignore[arg-type]
        retention_deployment(settings.retention_cron),  # type: ignore[arg-type]
    )


def _migrate(settings: Settings) -> None:
    from portal.adapters.db.engine import make_engine, migrate

    migrate(make_engine(settings.resolved_database_url))
    print(f"database at {settings.resolved_database_url} is up to date")


def _audit_verify(settings: Settings) -> None:
    from portal.adapters.db.audit_log import verify_audit_log
    from portal.adapters.db.engine import make_engine

    engine = make_engine(settings.resolved_database_url)
    try:
        verdict = verify_audit_log(engine)
    finally:
        engine.dispose()
    print(verdict.summary(), flush=True)
    if not verdict.ok:
        raise SystemExit(1)


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
    check: Callable[[], object], what: str, timeout: float, proc: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with status {proc.returncode}; see its log above")
        try:
            check()
            return
        except (OSError, httpx.HTTPError, TransientError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not become ready within {timeout:.0f} s")


def _up(settings: Settings) -> None:
    from portal.bootstrap import build
    from portal.demo import ensure_admin_token, ensure_demo_inspection

    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    prefect_port = int(os.environ.get("JTAI_PREFECT_PORT", "4200"))
    prefect_url = settings.prefect_api_url or f"http://127.0.0.1:{prefect_port}/api"
    env = {
        **os.environ,
        "JTAI_PREFECT_API_URL": prefect_url,
        "PREFECT_API_URL": prefect_url,
        "PREFECT_HOME": str(data / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "JTAI_DATA_DIR": str(data),
    }
    children: list[subprocess.Popen[bytes]] = []

    def start(args: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(args, env=env)
        children.append(proc)
        return proc

    def stop_all(*_: object) -> None:
        for proc in reversed(children):
            if proc.poll() is None:
                proc.terminate()
        for proc in children:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    def on_sigterm(*_: object) -> None:
        stop_all()
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        container = build(settings)
        if settings.clamd_host is None:
            clamd = start(
                [
                    str(REPO_ROOT / "infra/clamd/start-clamd"),
                    str(settings.resolved_clamd_socket.parent),
                ]
            )
            _wait_until(container.scanner.check, "clamd", 60, clamd)
        if settings.prefect_api_url is None:
            prefect = start(prefect_server_command(prefect_port))
            _wait_until(
                lambda: httpx.get(prefect_url + "/health", timeout=2).raise_for_status(),
                "Prefect server",
                120,
                prefect,
            )
        admin_token = ensure_admin_token(container)
        demo = ensure_demo_inspection(container)
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        api = start([sys.executable, "-m", "portal.cli", "api"])
        start([sys.executable, "-m", "portal.cli", "worker"])
        start([sys.executable, "-m", "portal.cli", "scheduler"])
        _wait_until(
            lambda: httpx.get(api_url + "/healthz", timeout=2).raise_for_status(), "API", 60, api
        )
        _print_welcome(api_url, prefect_url, data, admin_token, demo)
        while all(proc.poll() is None for proc in children):
            time.sleep(1)
        failed = [str(p.args) for p in children if p.poll() is not None]
        raise SystemExit(f"stopped because a process exited: {failed}")
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()


def _print_welcome(
    api_url: str, prefect_url: str, data: Path, admin_token: str | None, demo: dict[str, object]
) -> None:
    tokens = demo["tokens"]
    assert isinstance(tokens, dict)
    inspection = demo["inspection_id"]
    admin = admin_token or f"(shown on first run; stored in {data / 'admin-token'})"
    print(
        f"""
==========================================================================
 JTAI evidence portal is running (Ctrl-C stops everything)

   Web pages      {api_url}/sign-in   (paste a token below)
   API            {api_url}
   API docs       {api_url}/docs
   Readiness      {api_url}/readyz
   Prefect UI     {prefect_url.removesuffix("/api")}

 Demo inspection {inspection} ({demo["theme"]})
   local authority uploader token: {tokens["local_authority"]}
   police uploader token:          {tokens["police"]}
   lead inspector token:           {tokens["lead_inspector"]}
   records officer token:          {tokens.get("records_officer", "(re-seed to get one)")}
   admin token:                    {admin}

 Try it:
   curl -H "Authorization: Bearer {tokens["local_authority"]}" \\
        -F item=1.1 -F file=@{demo["sample_file"]} \\
        {api_url}/v1/inspections/{inspection}/documents
   then GET the status_url it returns with the same token.
   Preview retention:  curl -X POST -H "Authorization: Bearer <records officer token>" \\
        -H "Content-Type: application/json" -d '{{}}' {api_url}/v1/retention/runs
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
    audit = commands.add_parser("audit")
    audit.add_argument("subcommand", choices=["verify"])
    rekey = commands.add_parser("s3-rekey")
    rekey.add_argument("key_id")
    rekey.add_argument("bucket", nargs="?", choices=["main", "onsite"], default="main")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("alembic", "httpx", "pikepdf", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings()
    if args.command == "s3-rekey":
        _s3_rekey(settings, args.key_id, args.bucket)
        return
    run = {
        "up": _up,
        "api": _api,
        "worker": _worker,
        "scheduler": _scheduler,
        "migrate": _migrate,
        "audit": _audit_verify,
        "s3-setup": _s3_setup,
    }
    run[args.command](settings)


if __name__ == "__main__":
    main()
