"""Configuration: one pydantic-settings model, read from JTAI_* environment variables.

Nothing reads the environment at import; portal.bootstrap builds Settings once.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting of a deployment. Environment variables are JTAI_<NAME>, e.g. JTAI_DATA_DIR."""

    model_config = SettingsConfigDict(env_prefix="JTAI_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        default=REPO_ROOT / ".data",
        description="Where the embedded defaults keep their state: the SQLite database, the "
        "filesystem store, keys, tokens and logs.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata database, e.g. "
        "`postgresql://user@host/db`; default SQLite in data_dir (portal.sqlite3).",
    )
    policies_dir: Path = Field(
        default=REPO_ROOT / "policies",
        description="Theme checklists, the file-type allowlist and retention rules.",
    )

    store: Literal["filesystem", "s3"] = Field(
        default="filesystem",
        description="Where documents' bytes are kept: data_dir/objects, or an S3 bucket.",
    )
    s3_bucket: str | None = Field(default=None, description="The bucket (store=s3).")
    s3_prefix: str = Field(default="", description="Start of every key in the bucket.")
    s3_endpoint_url: str | None = Field(
        default=None, description="An S3-compatible endpoint; default AWS's for s3_region."
    )
    s3_region: str = Field(default="eu-west-2", description="The bucket's AWS region.")
    s3_access_key_id: str | None = Field(
        default=None, description="S3 credentials; default boto3's own (environment, role)."
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None, description="The secret of s3_access_key_id."
    )
    s3_sse: Literal["AES256", "aws:kms"] = Field(
        default="AES256", description="Server-side encryption of every object put."
    )
    s3_kms_key_id: str | None = Field(
        default=None,
        description="The KMS key of s3_sse=aws:kms; default the account's AWS managed key.",
    )
    s3_bucket_policy: bool = Field(
        default=True,
        description="`jtai-portal s3-setup` installs the bucket policy (TLS only, SSE-KMS "
        "uploads only). Off only for a local S3 that cannot evaluate it (infra/scaled/dev-s3).",
    )
    s3_onsite_bucket: str | None = Field(
        default=None, description="Health records' own bucket (default: the main bucket)."
    )
    s3_onsite_prefix: str = Field(
        default="", description="Start of every key in the health records' bucket."
    )
    s3_onsite_kms_key_id: str | None = Field(
        default=None, description="KMS key of the on-site area; SSE-KMS when set."
    )

    clamd_socket: Path | None = Field(
        default=None, description="clamd's Unix socket; default data_dir/clamd/clamd.sock."
    )
    clamd_host: str | None = Field(default=None, description="clamd's TCP host, used if set.")
    clamd_port: int = Field(default=3310, description="clamd's TCP port (with clamd_host).")
    clamd_timeout_seconds: float = Field(
        default=120.0, description="How long one scan may wait for clamd's reply."
    )
    clamd_chunk_bytes: int = Field(
        default=256 * 1024, ge=64 * 1024, description="INSTREAM chunk size (at least 64 KiB)."
    )
    clamd_connections: int = Field(
        default=4,
        ge=1,
        description="Scans of one process talking to clamd at once (clamd's MaxThreads "
        "should cover every worker's).",
    )
    upload_scan_connections: int = Field(
        default=8,
        ge=0,
        description="Uploads one API process streams to clamd while they arrive (INSTREAM "
        "connections at once), so their scan ends when they end and an infected one is "
        "rejected at once; the default covers one token's uploads at once "
        "(uploads_per_token). An upload that finds them all busy, or whose scan fails (clamd "
        "down or gone mid-upload, past its StreamMaxLength), is scanned by the worker as "
        "before. 0 turns scanning during upload off.",
    )
    clamd_database_dir: Path | None = Field(
        default=None,
        description="clamd's DatabaseDirectory as `jtai-portal signatures install` keeps "
        "it: a symlink to the database in use; default data_dir/clamd/signatures, where "
        "`jtai-portal up` installs the local test signatures on first start.",
    )
    signatures_max_age_hours: float = Field(
        default=72.0,
        gt=0,
        description="Signatures published longer ago than this make /readyz (and the admin's "
        "Scanner page) report the portal degraded: freshclam checks 12 times a day by "
        "default, so 3 days means updates have failed for days.",
    )
    signatures_reload_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long `jtai-portal signatures install` waits for clamd to report the "
        "new database before it puts the previous one back.",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections kept per process (none is held while a document "
        "is scanned).",
    )
    database_max_overflow: int = Field(
        default=10, ge=0, description="Extra PostgreSQL connections per process at peaks."
    )
    ingest_concurrency_limit_name: str | None = Field(
        default=None,
        description="A Prefect global concurrency limit every ingest run takes a slot of: "
        "the cap on ingest runs across all workers (infra/scaled/setup creates it).",
    )

    max_upload_bytes: int = Field(
        default=300 * 1024 * 1024, gt=0, description="Larger uploads get 413 `too_large`."
    )
    pdf_timeout_seconds: float = Field(
        default=120.0, gt=0, description="A PDF whose sanitising takes longer is `corrupt`."
    )
    pdf_memory_limit_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024,
        gt=0,
        description="Address space of a PDF sanitising process; beyond it the PDF is `corrupt`.",
    )
    max_list_upload_bytes: int = Field(
        default=50 * 1024 * 1024,
        gt=0,
        description="Lists of children (`list:<key>` uploads) are parsed whole: a lower limit.",
    )
    resumable_expiry_seconds: float = Field(
        default=24 * 3600,
        gt=0,
        description="How long the web pages' unfinished resumable (tus) upload is kept after "
        "it last received bytes (its Upload-Expires); then it is deleted from "
        "data_dir/resumable.",
    )
    resumable_unfinished_per_person: int = Field(
        default=5,
        ge=1,
        description="Unfinished resumable uploads one person may have at once (each up to "
        "max_upload_bytes on the portal's disk until it finishes or expires).",
    )

    upload_idle_seconds: float = Field(
        default=60.0,
        gt=0,
        description="An upload (the API's, the pages' form or a resumable PATCH) whose "
        "client sends nothing for this long is ended with 408 `upload_idle_timeout`: a form "
        "upload keeps nothing, a resumable upload keeps the bytes that arrived.",
    )
    status_wait_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="How often a waiting `POST /v1/documents/status` (`wait_seconds` > 0) "
        "looks at its documents again: one short query per look, no thread held between.",
    )
    uploads_per_token: int = Field(
        default=8,
        ge=1,
        description="Uploads one token (or signed-in person) may send to one API process at "
        "once; more are refused with 429 `too_many_uploads` and Retry-After.",
    )
    uploads_concurrent: int = Field(
        default=64,
        ge=1,
        description="Uploads one API process receives at once, from everyone; more are "
        "refused with 503 `uploads_busy` and Retry-After. Each may spool up to "
        "max_upload_bytes in data_dir/upload-spool until it is stored.",
    )
    max_request_header_bytes: int = Field(
        default=32 * 1024,
        ge=4 * 1024,
        description="The most a request's line and headers may take: a longer one is "
        "refused with 431 `request_headers_too_large` before any route sees it (and the "
        "server stops buffering one still arriving at four times this, with 400).",
    )

    batch_max_documents: int = Field(
        default=64, ge=1, description="The most documents one ingest flow run takes."
    )
    batch_max_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1, description="The most bytes one ingest flow run takes."
    )
    dispatcher_concurrency: int = Field(
        default=2, ge=1, description="Ingest flow runs at once per worker."
    )
    batch_linger_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a waiting document waits for its batch to fill while uploads "
        "keep arriving: a worker starts a batch when it is full, when its oldest document "
        "has waited this long with none of the worker's runs going (five times this "
        "beside a going run), or, with none going, when the same documents have waited a "
        "whole dispatcher_poll_seconds. Under a burst batches fill instead of runs "
        "multiplying (a run costs ~0.14 s of CPU whatever it carries).",
    )
    worker_id: str | None = Field(
        default=None,
        min_length=1,
        description="Names this ingest worker, the same across its restarts (default: the "
        "host's name): a worker that starts again takes back at once what it held when it "
        "died. Two workers on one host need ids of their own.",
    )
    dispatcher_poll_seconds: float = Field(
        default=0.1, gt=0, description="How often the worker looks for waiting documents."
    )
    processing_lease_seconds: float = Field(
        default=900.0, gt=0, description="A document processing longer than this is re-run."
    )
    retry_delay_seconds: float = Field(
        default=30.0, ge=0, description="How long a failed document waits before it runs again."
    )
    flow_retries: int = Field(default=2, ge=0, description="Prefect retries of an ingest run.")
    flow_retry_delay_seconds: float = Field(
        default=10.0, ge=0, description="How long Prefect waits before it retries an ingest run."
    )

    prefect_api_url: str | None = Field(
        default=None,
        description="Prefect server API, checked by /readyz; default the local server `up` "
        "starts on prefect_port.",
    )
    prefect_port: int = Field(
        default=4200,
        description="Port of the local Prefect server `jtai-portal up` starts (on 127.0.0.1 "
        "only); `jtai-portal prefect ...` talks to it.",
    )
    mail: Literal["outbox_dir", "smtp"] = Field(
        default="outbox_dir",
        description="How reminders go: outbox_dir writes each message as an .eml file in "
        "data_dir/outbox; smtp sends through smtp_host.",
    )
    mail_from: str = Field(default="jtai-portal@localhost", description="The sender of mail.")
    smtp_host: str = Field(default="127.0.0.1", description="The SMTP server (mail=smtp).")
    smtp_port: int = Field(default=25, description="The SMTP server's port.")
    smtp_starttls: bool = Field(default=False, description="Send STARTTLS before signing in.")
    smtp_username: str | None = Field(
        default=None, description="Sign in to the SMTP server as this user, if set."
    )
    smtp_password: SecretStr | None = Field(default=None, description="The SMTP user's password.")
    chase_crons: tuple[str, ...] = Field(
        default=("0 9 * * 1-5", "0 12 * * 1-5"),
        description="When the chase deployment runs (Europe/London); bank holidays are "
        "skipped by the chase itself. A reminder goes at the first run inside its window "
        "(policies/chasing.yaml); overdue notices at the first run after a deadline.",
    )
    retention_cron: str = Field(
        default="30 2 * * *",
        description="When the retention deployment runs (Europe/London): daily, at night.",
    )
    retention_run_lease_seconds: float = Field(
        default=600.0,
        gt=0,
        description="A retention run silent for this long is taken as interrupted; the "
        "next run finishes its work.",
    )
    rescan_cron: str = Field(
        default="*/15 * * * *",
        description="When the rescan deployment looks for held documents judged under "
        "other signatures than clamd's now, and rescans them; a run with nothing to do "
        "returns at once.",
    )
    rescan_connections: int = Field(
        default=1,
        ge=1,
        description="The share of clamd a rescan takes: scans it runs at once. The ingest "
        "pipeline keeps the rest of clamd's MaxThreads, so uploads before a deadline are "
        "not slowed.",
    )
    rescan_gives_way: bool = Field(
        default=True,
        description="A rescan stops scanning (and the next run goes on) as soon as documents "
        "wait for the ingest pipeline, so a deadline's uploads get clamd and the CPU first; "
        "false: rescans keep their connections whatever arrives.",
    )
    rescan_batch_documents: int = Field(
        default=500,
        ge=1,
        description="Documents one rescan run takes at most, newest inspections first; "
        "the rest wait for the next run.",
    )
    public_url: str | None = Field(
        default=None,
        description="Where agencies reach the portal, as they type it (scheme, host, port); "
        "links in answers and mail start with it. Default http://api_host:api_port.",
    )

    token_lifetime_days: int = Field(
        default=90, ge=1, le=365, description="How long a new API token lasts at most."
    )
    token_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long the API trusts a portal token it has just looked up without "
        "looking it up again (at most until the token's own expiry; failures are never "
        "remembered; 0 turns it off). The revocation bound: a token revoked (or its person "
        "disabled) through another API process still works there for at most this long; "
        "the process that revoked it refuses it at once.",
    )
    oidc_issuer: str | None = Field(
        default=None, description="Identity provider issuer; set it to accept its tokens."
    )
    oidc_audience: str = Field(default="jtai-portal", description="The `aud` tokens must name.")
    oidc_jwks_url: str | None = Field(
        default=None, description="The issuer's JWKS; default `<issuer>/.well-known/jwks.json`."
    )
    oidc_algorithms: tuple[str, ...] = Field(
        default=("RS256", "ES256"),
        description="The signature algorithms accepted in the provider's tokens (asymmetric).",
    )
    rate_limit: str = Field(
        default="600/minute",
        description="Requests per token (limits' notation, e.g. '600/minute;20/second').",
    )
    rate_limit_unauthenticated: str = Field(
        default="60/minute", description="Requests per client address without a valid token."
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(), description="CIDRs of reverse proxies whose X-Forwarded-For is believed."
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs the web pages' session cookies (at least 32 characters). Needed "
        "when the pages are reached other than as localhost; on localhost the portal "
        "generates one in data_dir/session-secret (mode 600) if it is not set.",
    )

    audit_key_file: Path | None = Field(
        default=None,
        description="The audit log's HMAC keys (one `<id> <hex>` a line, newest last), kept "
        "outside the database. Default data_dir/audit-key, made (mode 600) on first start; "
        "when set, the file must exist.",
    )
    audit_anchor: Literal["file", "s3"] = Field(
        default="file",
        description="Where audit chain heads are anchored: an append-only local file, or "
        "an S3 bucket with Object Lock (COMPLIANCE mode).",
    )
    audit_anchor_file: Path | None = Field(
        default=None, description="The anchor file; default data_dir/audit-anchors.jsonl."
    )
    audit_anchor_s3_bucket: str | None = Field(
        default=None, description="The Object Lock bucket anchors go to (audit_anchor=s3)."
    )
    audit_anchor_s3_prefix: str = Field(
        default="audit-anchors/", description="Start of every anchor object's key."
    )
    audit_anchor_retain_days: int = Field(
        default=2555,
        ge=1,
        description="How long each anchor object is locked (COMPLIANCE) in the bucket.",
    )
    audit_anchor_cron: str = Field(
        default="*/5 * * * *",
        description="When the audit-anchor deployment copies chain heads to the anchor "
        "sink: events newer than the last anchor are protected by their HMACs only.",
    )

    api_host: str = Field(
        default="127.0.0.1", description="Address `jtai-portal api` (and `up`) listen on."
    )
    api_port: int = Field(default=8000, description="Port `jtai-portal api` (and `up`) listen on.")

    @field_validator("s3_bucket")
    @classmethod
    def _no_placeholder_bucket(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() in {"", "changeme", "your-bucket"}:
            raise ValueError("JTAI_S3_BUCKET is a placeholder; name the real bucket")
        return value

    @field_validator("session_secret")
    @classmethod
    def _strong_session_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if secret.strip().lower() in {"", "changeme", "secret", "session-secret"}:
            raise ValueError("JTAI_SESSION_SECRET is a placeholder; set a random value")
        if len(secret) < 32:
            raise ValueError("JTAI_SESSION_SECRET must be at least 32 characters")
        return value

    @property
    def resolved_worker_id(self) -> str:
        """This worker's name: JTAI_WORKER_ID, else the host's name."""
        return self.worker_id or socket.gethostname()

    @property
    def resolved_public_url(self) -> str:
        """Where agencies reach the portal, without a trailing slash."""
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """The metadata database URL, defaulting to SQLite inside data_dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'portal.sqlite3'}"

    @property
    def resolved_audit_key_file(self) -> Path:
        """The audit key file, defaulting to data_dir/audit-key."""
        return self.audit_key_file or self.data_dir / "audit-key"

    @property
    def resolved_audit_anchor_file(self) -> Path:
        """The local anchor file, defaulting to data_dir/audit-anchors.jsonl."""
        return self.audit_anchor_file or self.data_dir / "audit-anchors.jsonl"

    @property
    def resolved_clamd_socket(self) -> Path:
        """clamd's Unix socket path, defaulting to the one infra/clamd starts."""
        return self.clamd_socket or self.data_dir / "clamd" / "clamd.sock"

    @property
    def resolved_clamd_database_dir(self) -> Path:
        """clamd's database directory (a symlink), defaulting to data_dir/clamd/signatures."""
        return self.clamd_database_dir or self.data_dir / "clamd" / "signatures"

    @property
    def resumable_dir(self) -> Path:
        """Where partial resumable uploads are kept: in data_dir, outside the store's areas."""
        return self.data_dir / "resumable"

    @property
    def upload_spool_dir(self) -> Path:
        """Where form uploads' file parts wait until the whole body has arrived (anonymous
        files: nothing is left there once an upload ends or the process dies)."""
        return self.data_dir / "upload-spool"

    @property
    def store_root(self) -> Path:
        """Root of the filesystem store."""
        return self.data_dir / "objects"

    @property
    def ingest_workspace_dir(self) -> Path:
        """Where ingest batches keep their temp workspaces with the filesystem store: beside
        its root, on the same filesystem, so a sanitised copy is renamed into the store
        rather than copied (each batch's workspace is removed when the batch ends)."""
        return self.data_dir / "ingest-work"
