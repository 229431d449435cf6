"""Badge classes over the API: list, create, read, update, publish, archive. Services decide; handlers parse."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Status

from insignia.badges import queries, services
from insignia.badges.images import ImageUpload
from insignia.badges.schemas import BadgeFilters, BadgeIn, BadgeOut, BadgePage, BadgePatch, badge_data
from insignia.core.errors import ServiceError
from insignia.core.tenancy import Actor
from insignia.integrations.pagination import PageParams, paginate

router = Router()

#: Fields of the JSON body that are not ``update_badge`` changes.
_IMAGE_FIELDS = {"design", "image_base64", "image_filename"}


def _image(data: str | None, filename: str) -> ImageUpload | None:
    """The base64 image of a request body, decoded, or None; oversized or undecodable input is refused."""
    if data is None:
        return None
    limit = settings.MAX_UPLOAD_BYTES
    if len(data) > (limit * 4) // 3 + 8:
        raise ServiceError(f"The image is larger than {limit:,} bytes.", code="image_too_large", field="image_base64")
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError("image_base64 is not valid base64.", code="image_invalid", field="image_base64") from None
    return ImageUpload(content=content, filename=filename)


def _get(actor: Actor, badge_id: str) -> Any:
    actor.require("view")
    return queries.get_badge(actor, badge_id)


@router.get("", response=BadgePage, summary="List badges")
def list_badges(request: HttpRequest, page: Query[PageParams], filters: Query[BadgeFilters]) -> dict[str, Any]:
    actor: Actor = request.auth
    actor.require("view")
    queryset = queries.badges_for(actor, status=filters.status)
    if filters.issuer:
        queryset = queryset.filter(issuer__public_id=filters.issuer)
    return paginate(request, queryset, page, badge_data)


@router.post("", response={201: BadgeOut}, summary="Create a draft badge (scope: design)")
def create_badge(request: HttpRequest, payload: BadgeIn) -> Status[dict[str, Any]]:
    fields = payload.dict(exclude=_IMAGE_FIELDS)
    badge = services.create_badge(actor=request.auth, image_upload=_image(payload.image_base64,
                                                                          payload.image_filename),
                                  design=payload.design, **fields)
    return Status(201, badge_data(badge))


@router.get("/{badge_id}", response=BadgeOut, summary="Read a badge")
def get_badge(request: HttpRequest, badge_id: str) -> dict[str, Any]:
    return badge_data(_get(request.auth, badge_id))


@router.patch("/{badge_id}", response=BadgeOut, summary="Update a badge (scope: design)")
def update_badge(request: HttpRequest, badge_id: str, payload: BadgePatch) -> dict[str, Any]:
    badge = _get(request.auth, badge_id)
    changes = payload.dict(exclude_unset=True, exclude=_IMAGE_FIELDS)
    badge = services.update_badge(actor=request.auth, badge=badge,
                                  image_upload=_image(payload.image_base64, payload.image_filename),
                                  design=payload.design, **changes)
    return badge_data(badge)


@router.post("/{badge_id}/publish", response=BadgeOut, summary="Publish a badge (scope: design)")
def publish_badge(request: HttpRequest, badge_id: str) -> dict[str, Any]:
    badge = _get(request.auth, badge_id)
    return badge_data(services.publish_badge(actor=request.auth, badge=badge))


@router.post("/{badge_id}/archive", response=BadgeOut, summary="Archive a badge (scope: design)")
def archive_badge(request: HttpRequest, badge_id: str) -> dict[str, Any]:
    badge = _get(request.auth, badge_id)
    return badge_data(services.archive_badge(actor=request.auth, badge=badge))
