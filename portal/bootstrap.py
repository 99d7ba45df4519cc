"""The one place where adapters are chosen and wired, from Settings."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from portal.adapters.audit_anchors import FileAnchorSink, S3AnchorSink
from portal.adapters.audit_keys import load_keyring
from portal.adapters.bank_holidays import EnglandAndWalesCalendars
from portal.adapters.clamd_scanner import AsyncClamdScanner, ClamdScanner
from portal.adapters.clock import SystemClock
from portal.adapters.db.audit_log import SqlAuditLog
from portal.adapters.db.concern_records import ConcernRecords
from portal.adapters.db.engine import make_engine, migrate
from portal.adapters.db.identities import Identities
from portal.adapters.db.repository import SqlRepository
from portal.adapters.db.retention_records import RetentionRecords
from portal.adapters.magic_classifier import MagicClassifier
from portal.adapters.mail import OutboxDirectoryMailer, SmtpMailer
from portal.adapters.oidc import OidcVerifier
from portal.adapters.pdf_sanitiser import PikepdfSanitiser
from portal.adapters.pdf_watermark import PikepdfWatermarker
from portal.adapters.policy_files import (
    load_chase_policy,
    load_file_type_policy,
    load_retention_policy,
    load_themes,
)
from portal.adapters.resumable_files import PartialUploads
from portal.adapters.store_fs import FilesystemStore
from portal.adapters.store_routed import AreaRoutedStore
from portal.adapters.tabular_files import TABLE_FILE_TYPES, SpreadsheetTables
from portal.adapters.token_cache import MemoryTokenCache
from portal.adapters.wakeup import InProcessWakeup
from portal.domain.access import Inspection
from portal.domain.after_fieldwork import AfterFieldwork, after_fieldwork_of
from portal.domain.audit_chain import AuditKeyring
from portal.domain.chase import ChasePolicy
from portal.domain.checklist import ThemePolicy
from portal.domain.completeness import DeadlineState, completeness
from portal.domain.documents import Area
from portal.domain.extra_items import (
    extra_requirements,
    is_extra_deadline,
    with_extra_deadlines,
)
from portal.domain.file_types import FileTypePolicy
from portal.domain.onsite import Fieldwork, OnSitePolicy, fieldwork_of
from portal.domain.ports import (
    AnchorSink,
    AuditLog,
    Classifier,
    Clock,
    ConcernStore,
    IdentityProvider,
    IdentityStore,
    Mailer,
    ObjectStore,
    PartialUploadFiles,
    ReloadableScanner,
    Repository,
    RetentionRecordsStore,
    Sanitiser,
    Scanner,
    StreamingScanner,
    TokenCache,
    Wakeup,
    Watermarker,
    WorkingCalendars,
)
from portal.domain.retention import RetentionEvent, RetentionPolicy
from portal.domain.schedule import Schedule, schedule_of
from portal.domain.seen_on_site import arranged_slots
from portal.domain.selection import Stage
from portal.domain.timeline import WorkingCalendar
from portal.ingest import IngestServices, check_step_order
from portal.settings import Settings


@dataclass(frozen=True)
class Container:
    """The wired application: settings, adapters and policies, built once per process."""

    settings: Settings
    clock: Clock
    repository: Repository
    store: ObjectStore
    scanner: Scanner
    classifier: Classifier
    sanitiser: Sanitiser
    themes: dict[str, ThemePolicy]
    file_types: FileTypePolicy
    mailer: Mailer
    records: RetentionRecordsStore
    concerns: ConcernStore
    retention_policy: RetentionPolicy
    chase_policy: ChasePolicy
    identities: IdentityStore
    token_cache: TokenCache
    oidc: IdentityProvider | None
    audit_keys: AuditKeyring
    anchor_sink: AnchorSink
    audit_log: AuditLog
    wakeup: Wakeup
    watermarker: Watermarker
    partial_uploads: PartialUploadFiles
    calendars: WorkingCalendars

    def working_calendar(self, around: date) -> WorkingCalendar:
        """England and Wales working days for the year of `around` and those either side."""
        return self.calendars.between(around.year - 1, around.year + 1)

    def working_calendar_between(self, first_year: int, last_year: int) -> WorkingCalendar:
        """England and Wales working days from the start of `first_year` to the end of
        `last_year`."""
        return self.calendars.between(first_year, last_year)

    def fieldwork(self, inspection: Inspection) -> Fieldwork | None:
        """The inspection's fieldwork days: from its start to its recorded end (or, until
        that is recorded, the end of the fieldwork week); None while it has no start."""
        if inspection.fieldwork_start is None:
            return None
        return fieldwork_of(
            inspection.fieldwork_start,
            self.records.events(inspection.id).get(RetentionEvent.fieldwork_end),
            self.working_calendar(inspection.fieldwork_start),
        )

    def onsite_policy(self, inspection_id: str) -> OnSitePolicy:
        """Where and when the inspection's health records may be viewed, bounded by its
        fieldwork (no fieldwork known: never)."""
        policy = self.repository.onsite_policy(inspection_id)
        inspection = self.repository.get_inspection(inspection_id)
        fieldwork = self.fieldwork(inspection) if inspection is not None else None
        return policy.model_copy(update={"fieldwork": fieldwork})

    def schedule(
        self,
        inspection: Inspection,
        *,
        with_moves: bool = True,
        proposed: dict[str, datetime] | None = None,
    ) -> Schedule | None:
        """The inspection's deadlines, with the lead inspector's moves applied (or, without
        them, as the theme sets them), and any `proposed` moves on top; a deadline for
        each item the lead asked of one agency among them."""
        if inspection.fieldwork_start is None:
            return None
        moves = self.repository.deadline_overrides(inspection.id) if with_moves else {}
        every_move = {**moves, **(proposed or {})}
        schedule = schedule_of(
            self.themes[inspection.theme_key],
            inspection.fieldwork_start,
            self.working_calendar(inspection.fieldwork_start),
            {k: at for k, at in every_move.items() if not is_extra_deadline(k)},
            inspection.notification_date,
        )
        if schedule is None:
            return None
        extra_moves = {k: at for k, at in every_move.items() if is_extra_deadline(k)}
        return with_extra_deadlines(
            schedule, self.repository.extra_items(inspection.id), extra_moves
        )

    def after_fieldwork(self, inspection: Inspection) -> AfterFieldwork | None:
        """The letter's recorded days and the after-fieldwork deadlines they start (None if
        the inspection's theme sets none)."""
        policy = self.themes[inspection.theme_key].after_fieldwork
        if policy is None:
            return None
        recorded = self.records.letter_days(inspection.id)
        years = [d.year for d in recorded.values()] or [self.clock.now().year]
        # 70 working days run into the next year: the calendar covers it.
        calendar = self.working_calendar_between(min(years), max(years) + 1)
        return after_fieldwork_of(policy, recorded, calendar)

    def completeness(
        self, inspection: Inspection, as_of: datetime, agency: str | None = None
    ) -> list[DeadlineState]:
        """The inspection's completeness matrix as of a time (one agency's, if given)."""
        agencies = [a for a in inspection.agencies if agency in (None, a)]
        schedule = self.schedule(inspection)
        theme = self.themes[inspection.theme_key]
        return completeness(
            theme,
            agencies,
            schedule.due_times() if schedule else {},
            self.repository.document_facts(inspection.id, agency),
            as_of,
            self.repository.selection(inspection.id, Stage.audit.value),
            self.repository.selection(inspection.id, Stage.shortlist.value),
            arranged_slots(theme, self.repository.on_site_records(inspection.id), as_of),
            extra_requirements(self.repository.extra_items(inspection.id), agencies),
        )

    def ingest_services(self) -> IngestServices:
        """The services the ingest steps run on, for one batch: each inspection's schedule
        is read once per batch, not once per document (a deadline moved meanwhile applies
        from the next batch)."""
        return IngestServices(
            store=self.store,
            scanner=self.scanner,
            classifier=self.classifier,
            sanitiser=self.sanitiser,
            tables=SpreadsheetTables(),
            table_file_types=TABLE_FILE_TYPES,
            repository=self.repository,
            themes=self.themes,
            file_types=self.file_types,
            retry_delay=timedelta(seconds=self.settings.retry_delay_seconds),
            claim_lease=timedelta(seconds=self.settings.processing_lease_seconds),
            clock=self.clock.now,
            schedule_of=functools.cache(self.schedule_of_inspection),
            holds_of=self.records.holds,
            scan_connections=self.settings.clamd_connections,
            workspace_root=(
                self.settings.ingest_workspace_dir if self.settings.store == "filesystem" else None
            ),
        )

    def schedule_of_inspection(self, inspection_id: str) -> Schedule | None:
        """The schedule of the inspection with this id (None if unknown or not yet dated)."""
        inspection = self.repository.get_inspection(inspection_id)
        return self.schedule(inspection) if inspection else None


def make_s3_client_for(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint, region and credentials."""
    from portal.adapters.store_s3 import make_s3_client

    return make_s3_client(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key=settings.s3_access_key_id,
        secret_key=(
            settings.s3_secret_access_key.get_secret_value()
            if settings.s3_secret_access_key
            else None
        ),
    )


def make_store(settings: Settings) -> ObjectStore:
    """The object store the settings name: the filesystem by default, or S3."""
    if settings.store == "s3":
        from portal.adapters.store_s3 import S3Store

        if not settings.s3_bucket:
            raise ValueError("JTAI_STORE=s3 needs JTAI_S3_BUCKET")
        client = make_s3_client_for(settings)
        main = S3Store(
            client,
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            sse=settings.s3_sse,
            kms_key_id=settings.s3_kms_key_id,
        )
        if not (settings.s3_onsite_bucket or settings.s3_onsite_kms_key_id):
            return main
        onsite = S3Store(
            client,
            settings.s3_onsite_bucket or settings.s3_bucket,
            prefix=settings.s3_onsite_prefix,
            sse="aws:kms" if settings.s3_onsite_kms_key_id else settings.s3_sse,
            kms_key_id=settings.s3_onsite_kms_key_id,
        )
        return AreaRoutedStore(main, {Area.onsite: onsite})
    return FilesystemStore(settings.store_root)


def make_anchor_sink(settings: Settings, clock: Clock) -> AnchorSink:
    """The audit anchor sink the settings name: the local append-only file by default, or
    an S3 bucket with Object Lock (checked when anchors are written)."""
    if settings.audit_anchor == "s3":
        if not settings.audit_anchor_s3_bucket:
            raise ValueError("JTAI_AUDIT_ANCHOR=s3 needs JTAI_AUDIT_ANCHOR_S3_BUCKET")
        return S3AnchorSink(
            make_s3_client_for(settings),
            settings.audit_anchor_s3_bucket,
            prefix=settings.audit_anchor_s3_prefix,
            retain_days=settings.audit_anchor_retain_days,
            now=clock.now,
        )
    return FileAnchorSink(settings.resolved_audit_anchor_file)


def load_audit_keys(settings: Settings, clock: Clock) -> AuditKeyring:
    """The audit keyring from JTAI_AUDIT_KEY_FILE; for the embedded defaults (the setting
    unset) data_dir/audit-key, made with a new key on first start."""
    create_at = clock.now() if settings.audit_key_file is None else None
    return load_keyring(settings.resolved_audit_key_file, create_at=create_at)


def make_oidc_verifier(settings: Settings) -> OidcVerifier | None:
    """A verifier of the configured identity provider's tokens, or None if none is set."""
    if not settings.oidc_issuer:
        return None
    return OidcVerifier(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        jwks_url=settings.oidc_jwks_url
        or settings.oidc_issuer.rstrip("/") + "/.well-known/jwks.json",
        algorithms=settings.oidc_algorithms,
    )


def make_mailer(settings: Settings) -> Mailer:
    """SMTP if configured, else .eml files in data_dir/outbox."""
    if settings.mail == "smtp":
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
    return OutboxDirectoryMailer(settings.data_dir / "outbox")


def _clamd_address(settings: Settings) -> dict[str, Any]:
    """Where clamd listens and how to talk to it: TCP if a host is set, else the Unix
    socket; what both clamd clients take."""
    where: dict[str, Any] = (
        {"host": settings.clamd_host, "port": settings.clamd_port}
        if settings.clamd_host
        else {"unix_socket": settings.resolved_clamd_socket}
    )
    return {
        **where,
        "timeout": settings.clamd_timeout_seconds,
        "chunk_size": settings.clamd_chunk_bytes,
    }


def make_scanner(settings: Settings) -> ReloadableScanner:
    """clamd over TCP if a host is set, else over the Unix socket."""
    return ClamdScanner(**_clamd_address(settings), max_connections=settings.clamd_connections)


def make_streaming_scanner(settings: Settings) -> StreamingScanner:
    """clamd over asyncio streams, for scanning uploads as they arrive: TCP if a host is
    set, else the Unix socket."""
    return AsyncClamdScanner(**_clamd_address(settings))


def build(
    settings: Settings,
    *,
    store: ObjectStore | None = None,
    scanner: Scanner | None = None,
    mailer: Mailer | None = None,
    clock: Clock | None = None,
    anchor_sink: AnchorSink | None = None,
    run_migrations: bool = True,
) -> Container:
    """Wire the application. Policies and the audit key file are checked here, so a bad
    one fails at start-up."""
    check_step_order()
    clock = clock or SystemClock()
    audit_keys = load_audit_keys(settings, clock)
    engine = make_engine(
        settings.resolved_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    if run_migrations:
        migrate(engine)
    file_types = load_file_type_policy(settings.policies_dir / "file_types.yaml")
    return Container(
        settings=settings,
        clock=clock,
        repository=SqlRepository(engine, audit_keys=audit_keys),
        store=store or make_store(settings),
        scanner=scanner or make_scanner(settings),
        classifier=MagicClassifier(container_limits=file_types.container_limits),
        sanitiser=PikepdfSanitiser(
            workers=settings.dispatcher_concurrency,
            timeout_seconds=settings.pdf_timeout_seconds,
            memory_limit_bytes=settings.pdf_memory_limit_bytes,
        ),
        themes=load_themes(settings.policies_dir / "themes", settings.policies_dir / "deep-dives"),
        file_types=file_types,
        mailer=mailer or make_mailer(settings),
        records=RetentionRecords(engine, audit_keys=audit_keys),
        concerns=ConcernRecords(engine, audit_keys=audit_keys),
        retention_policy=load_retention_policy(settings.policies_dir / "retention.yaml"),
        chase_policy=load_chase_policy(settings.policies_dir / "chasing.yaml"),
        identities=Identities(engine, audit_keys=audit_keys),
        token_cache=MemoryTokenCache(),
        oidc=make_oidc_verifier(settings),
        audit_keys=audit_keys,
        anchor_sink=anchor_sink or make_anchor_sink(settings, clock),
        audit_log=SqlAuditLog(engine),
        wakeup=InProcessWakeup(),
        watermarker=PikepdfWatermarker(),
        partial_uploads=PartialUploads(settings.resumable_dir),
        calendars=EnglandAndWalesCalendars(),
    )
