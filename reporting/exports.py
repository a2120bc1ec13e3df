"""CSV exports of the report's rows (partners, clicks, referrals, conversions, commissions) for the
current filters. Small exports stream straight into the response; one too large for a request
(more than EXPORT_STREAM_LIMIT rows) is written by a worker to a file while the page shows progress."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Workspace
from attribution.models import Commission, Conversion
from core.spreadsheets import safe_cell
from partners.models import Partner
from referrals.models import Click, Referral
from reporting import metrics
from reporting.rollups.models import ExportJob

EXPORT_STREAM_LIMIT = getattr(settings, "EXPORT_STREAM_LIMIT", 50_000)
CHUNK = 2_000
KINDS = ("partners", "clicks", "referrals", "conversions", "commissions")


def _range(field: str, f: metrics.Filters) -> Q:
    a = dt.datetime.combine(f.start, dt.time.min, tzinfo=dt.UTC)
    b = dt.datetime.combine(f.end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return Q(**{f"{field}__gte": a, f"{field}__lt": b})


def _scoped(rows: QuerySet, f: metrics.Filters, *, program: str, partner: str, channel: Q | None) -> QuerySet:
    """Narrow raw rows by the same filters the rollups use (reporting/metrics.py), currency included."""
    rows = rows.filter(**{f"{program}__currency": f.currency})
    if f.program_id is not None:
        rows = rows.filter(**{f"{program}_id": f.program_id})
    if f.partner_id is not None:
        rows = rows.filter(**{f"{partner}_id": f.partner_id})
    if f.group_id is not None:
        rows = rows.filter(**{f"{partner}__group_id": f.group_id})
    if f.channel is not None and channel is not None:
        rows = rows.filter(channel)
    return rows


def _referral_channel(prefix: str, channel: str) -> Q:
    """The channel of a referral: its click's link's, else its code's, else none (as the rollups define it)."""
    p = f"{prefix}__" if prefix else ""
    with_click = Q(**{f"{p}click__isnull": False, f"{p}click__link__channel": channel})
    with_code = Q(**{f"{p}click__isnull": True, f"{p}code__isnull": False, f"{p}code__channel": channel})
    neither = Q(**{f"{p}click__isnull": True, f"{p}code__isnull": True}) if channel == "" else Q(pk__in=[])
    return with_click | with_code | neither


def _iso(value: Any) -> Any:
    """A cell as written: dates in ISO 8601, text made safe to open in a spreadsheet."""
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else safe_cell(value)


def rows_for(workspace: Workspace, kind: str, f: metrics.Filters) -> tuple[list[str], QuerySet]:
    """The header and the queryset (as value rows) of one export."""
    if kind == "clicks":
        rows = _scoped(
            Click.objects.for_workspace(workspace).filter(_range("clicked_at", f)),
            f,
            program="link__program",
            partner="partner",
            channel=Q(link__channel=f.channel) if f.channel is not None else None,
        )
        header = [
            "click_id",
            "clicked_at",
            "partner_id",
            "partner",
            "link",
            "channel",
            "campaign",
            "is_bot",
            "is_unique",
            "referrer",
        ]
        fields = [
            "click_id",
            "clicked_at",
            "partner_id",
            "partner__name",
            "link__code",
            "link__channel",
            "link__campaign",
            "is_bot",
            "is_unique",
            "referrer",
        ]
        return header, rows.order_by("clicked_at", "id").values_list(*fields)
    if kind == "referrals":
        rows = _scoped(
            Referral.objects.for_workspace(workspace).filter(_range("created_at", f)),
            f,
            program="program",
            partner="partner",
            channel=_referral_channel("", f.channel) if f.channel is not None else None,
        )
        header = [
            "referral_id",
            "created_at",
            "partner_id",
            "partner",
            "customer_external_id",
            "source",
            "stage",
            "click_id",
            "code",
            "converted_at",
        ]
        fields = [
            "id",
            "created_at",
            "partner_id",
            "partner__name",
            "customer_external_id",
            "source",
            "stage",
            "click__click_id",
            "code__code",
            "converted_at",
        ]
        return header, rows.order_by("created_at", "id").values_list(*fields)
    if kind == "conversions":
        rows = _scoped(
            Conversion.objects.for_workspace(workspace).filter(_range("occurred_at", f)),
            f,
            program="program",
            partner="partner",
            channel=_referral_channel("referral", f.channel) if f.channel is not None else None,
        )
        header = [
            "conversion_id",
            "occurred_at",
            "kind",
            "event_id",
            "partner_id",
            "partner",
            "customer_external_id",
            "amount",
            "currency",
            "sale_event_id",
        ]
        fields = [
            "id",
            "occurred_at",
            "kind",
            "event_id",
            "partner_id",
            "partner__name",
            "referral__customer_external_id",
            "amount",
            "currency",
            "sale__event_id",
        ]
        return header, rows.order_by("occurred_at", "id").values_list(*fields)
    if kind == "commissions":
        rows = _scoped(
            Commission.objects.for_workspace(workspace).filter(_range("occurred_at", f)),
            f,
            program="program",
            partner="partner",
            channel=_referral_channel("referral", f.channel) if f.channel is not None else None,
        )
        header = [
            "commission_id",
            "occurred_at",
            "kind",
            "status",
            "partner_id",
            "partner",
            "amount",
            "reversed_amount",
            "currency",
            "conversion_event_id",
        ]
        fields = [
            "id",
            "occurred_at",
            "kind",
            "status",
            "partner_id",
            "partner__name",
            "amount",
            "reversed_amount",
            "currency",
            "conversion__event_id",
        ]
        return header, rows.order_by("occurred_at", "id").values_list(*fields)
    if kind == "partners":
        return _partner_rows(workspace, f)
    raise ValueError(kind)


def _partner_rows(workspace: Workspace, f: metrics.Filters) -> tuple[list[str], Any]:
    """One row per partner with the range's figures, from the same breakdown the dashboard shows."""
    header = [
        "partner_id",
        "partner",
        "clicks",
        "unique_clicks",
        "leads",
        "customers",
        "sales",
        "revenue",
        "commission_net",
        "currency",
    ]
    figures = {row.key: row.totals for row in metrics.breakdown(workspace, f, "partner")}
    partners = Partner.objects.for_workspace(workspace).filter(program__currency=f.currency).order_by("name", "id")
    if f.program_id is not None:
        partners = partners.filter(program_id=f.program_id)
    if f.group_id is not None:
        partners = partners.filter(group_id=f.group_id)
    if f.partner_id is not None:
        partners = partners.filter(pk=f.partner_id)
    zero = metrics.Totals(currency=f.currency)

    class PartnerRows:
        def count(self) -> int:
            return partners.count()

        def iterator(self, chunk_size: int = CHUNK) -> Iterator[tuple[Any, ...]]:
            for pk, name in partners.values_list("pk", "name").iterator(chunk_size=chunk_size):
                t = figures.get(pk, zero)
                yield (
                    pk,
                    name,
                    t.clicks,
                    t.unique_clicks,
                    t.leads,
                    t.customers,
                    t.sales,
                    t.revenue,
                    t.commission_net,
                    f.currency,
                )

    return header, PartnerRows()


class _Echo:
    """A file-like object whose write returns the line, for csv.writer feeding a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_iso(v) for v in row])


def stream(workspace: Workspace, kind: str, f: metrics.Filters) -> Iterator[str]:
    header, rows = rows_for(workspace, kind, f)
    return csv_lines(header, rows.iterator(chunk_size=CHUNK))


def count(workspace: Workspace, kind: str, f: metrics.Filters) -> int:
    return rows_for(workspace, kind, f)[1].count()


def file_name(workspace: Workspace, kind: str, f: metrics.Filters) -> str:
    return f"{workspace.slug}-{kind}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.csv"


def filters_to_json(f: metrics.Filters) -> dict[str, Any]:
    return {k: _iso(v) for k, v in asdict(f).items()}


def filters_from_json(data: dict[str, Any]) -> metrics.Filters:
    return metrics.Filters(
        **{**data, "start": dt.date.fromisoformat(data["start"]), "end": dt.date.fromisoformat(data["end"])}
    )


def start_export_job(*, workspace: Workspace, kind: str, filters: metrics.Filters, by: Any) -> ExportJob:
    """Queue a background export; the worker picks it up once this transaction commits."""
    from django.db import transaction

    from reporting.tasks import run_export_job

    job = ExportJob.objects.create(
        workspace=workspace,
        kind=kind,
        filters=filters_to_json(filters),
        created_by=by,
        total_rows=count(workspace, kind, filters),
    )
    transaction.on_commit(lambda: run_export_job.delay(job.pk))
    return job


def run_export(job: ExportJob, *, on_progress: Callable[[int], None] | None = None) -> ExportJob:
    """Write the job's CSV to storage, recording progress every chunk. Running it again rewrites the same file."""
    if job.status == ExportJob.Status.DONE:
        return job
    f = filters_from_json(job.filters)
    header, rows = rows_for(job.workspace, job.kind, f)
    job.status = ExportJob.Status.RUNNING
    job.total_rows = rows.count()
    job.written_rows = 0
    job.save(update_fields=["status", "total_rows", "written_rows"])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    written = 0
    for row in rows.iterator(chunk_size=CHUNK):
        writer.writerow([_iso(v) for v in row])
        written += 1
        if written % (CHUNK * 5) == 0:
            ExportJob.objects.for_workspace(job.workspace).filter(pk=job.pk).update(written_rows=written)
    name = f"exports/{job.workspace_id}/{job.pk}-{file_name(job.workspace, job.kind, f)}"
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(buffer.getvalue().encode()))
    job.file_name = saved
    job.written_rows = written
    job.status = ExportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["file_name", "written_rows", "status", "finished_at"])
    return job
