"""Writes of short links: create, update, archive, restore."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from partners.models import Partner
from referrals.clicks.recording import forget_link
from referrals.models import Link
from referrals.services._common import _actor_label, _check_partner
from referrals.validation import UTM_FIELDS, generate_code, normalize_code, validate_destination


@dataclass
class LinkResult:
    link: Link
    created: bool


def create_link(
    *,
    workspace: Workspace,
    partner: Partner,
    destination_url: str,
    code: str = "",
    channel: str = "",
    campaign: str = "",
    utm: dict[str, str] | None = None,
    created_by: User | None = None,
    actor_label: str | None = None,
    is_default: bool = False,
) -> LinkResult:
    """Make a short link for a partner; the code is generated unless one is chosen.

    Asking again for a chosen code with the same partner and destination returns the existing link
    (`created` False), so a retried request makes no second link.
    """
    errors: dict[str, list[str]] = {}
    try:
        _check_partner(workspace, partner)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        destination = validate_destination(workspace=workspace, url=destination_url)
    except ValidationError as exc:
        errors["destination_url"] = exc.messages
    chosen = ""
    if code and code.strip():
        try:
            chosen = normalize_code(code, what="link code")
        except ValidationError as exc:
            errors["code"] = exc.messages
    labels = {"channel": (channel or "").strip(), "campaign": (campaign or "").strip()}
    utm_values = {field: ((utm or {}).get(field) or "").strip() for field in UTM_FIELDS}
    for field, value in {**labels, **utm_values}.items():
        column = Link._meta.get_field(field)
        # Every label and UTM column of Link is a CharField with a max_length.
        assert isinstance(column, CharField) and column.max_length is not None
        limit = column.max_length
        if len(value) > limit:
            errors[field] = [f"Keep this under {limit} characters."]
    if errors:
        raise ValidationError(errors)

    if chosen:
        # Unscoped on purpose: link codes are unique across Tandem, so any workspace's link blocks the code.
        existing = Link.objects.across_workspaces("link codes are unique across Tandem").filter(code=chosen).first()
        if existing is not None:
            if (
                existing.workspace_id == workspace.pk
                and existing.partner_id == partner.pk
                and existing.destination_url == destination
            ):
                return LinkResult(existing, created=False)
            raise ValidationError({"code": [f"The link code “{chosen}” is taken; choose another."]})
    for _attempt in range(8):
        candidate = chosen or generate_code()
        try:
            with transaction.atomic():
                link = Link.objects.create(
                    workspace=workspace,
                    program_id=partner.program_id,
                    partner=partner,
                    code=candidate,
                    destination_url=destination,
                    created_by=created_by,
                    is_default=is_default,
                    **labels,
                    **utm_values,
                )
        except IntegrityError:
            if chosen:
                raise ValidationError({"code": [f"The link code “{chosen}” is taken; choose another."]}) from None
            continue  # a generated code collided (1 in 27 billion per try): draw again
        break
    else:  # pragma: no cover - would need 8 collisions in a row
        raise ValidationError({"code": ["Could not find a free code; try again."]})
    # A code may have been looked up (and remembered as missing) before it existed.
    forget_link(link.code)
    record_audit(
        workspace=workspace,
        actor=created_by,
        actor_label=_actor_label(created_by, actor_label),
        action="link.created",
        target=link,
        changes={"partner": partner.name, "destination": destination},
    )
    return LinkResult(link, created=True)


def update_link(
    *, link: Link, destination_url: str, channel: str, campaign: str, utm: dict[str, str], by: User | None
) -> Link:
    """Change where a link goes and its labels; the code never changes (it is printed on things)."""
    destination = validate_destination(workspace=link.workspace, url=destination_url)
    before = link.destination_url
    link.destination_url = destination
    link.channel, link.campaign = channel.strip(), campaign.strip()
    for field in UTM_FIELDS:
        setattr(link, field, (utm.get(field) or "").strip())
    link.save(update_fields=["destination_url", "channel", "campaign", *UTM_FIELDS, "updated_at"])
    forget_link(link.code)
    record_audit(
        workspace=link.workspace,
        actor=by,
        action="link.updated",
        target=link,
        changes={"destination": [before, destination]} if before != destination else {},
    )
    return link


def archive_link(*, link: Link, by: User | None) -> Link:
    """Stop a link: its short URL answers 404 from now on. Its clicks stay."""
    if link.archived_at is None:
        link.archived_at = timezone.now()
        link.save(update_fields=["archived_at", "updated_at"])
        forget_link(link.code)
        record_audit(workspace=link.workspace, actor=by, action="link.archived", target=link)
    return link


def restore_link(*, link: Link, by: User | None) -> Link:
    if link.archived_at is not None:
        link.archived_at = None
        link.save(update_fields=["archived_at", "updated_at"])
        forget_link(link.code)
        record_audit(workspace=link.workspace, actor=by, action="link.restored", target=link)
    return link
