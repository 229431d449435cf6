"""Issuers over the API: list, create, read, update, rotate keys. Handlers are thin; services decide."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from insignia.integrations.pagination import PageParams, paginate
from insignia.issuers import queries, services
from insignia.issuers.schemas import IssuerIn, IssuerOut, IssuerPage, IssuerPatch, issuer_data

router = Router()


@router.get("", response=IssuerPage, summary="List issuers")
def list_issuers(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    queryset = queries.issuers_for(request.auth).prefetch_related("keys")
    return paginate(request, queryset, page, issuer_data)


@router.post("", response={201: IssuerOut}, summary="Create an issuer (scope: manage)")
def create_issuer(request: HttpRequest, payload: IssuerIn) -> Status[dict[str, Any]]:
    issuer = services.create_issuer(actor=request.auth, name=payload.name, url=payload.url, email=payload.email,
                                    description=payload.description, did_method=payload.did_method)
    return Status(201, issuer_data(issuer))


@router.get("/{issuer_id}", response=IssuerOut, summary="Read an issuer")
def get_issuer(request: HttpRequest, issuer_id: str) -> dict[str, Any]:
    return issuer_data(queries.get_issuer(request.auth, issuer_id))


@router.patch("/{issuer_id}", response=IssuerOut, summary="Update an issuer's profile (scope: manage)")
def update_issuer(request: HttpRequest, issuer_id: str, payload: IssuerPatch) -> dict[str, Any]:
    issuer = queries.get_issuer(request.auth, issuer_id)
    changes = payload.dict(exclude_unset=True)

    def value(field: str) -> str:
        given = changes.get(field)
        return str(getattr(issuer, field)) if given is None else given

    issuer = services.update_issuer(actor=request.auth, issuer=issuer, name=value("name"), url=value("url"),
                                    email=value("email"), description=value("description"))
    return issuer_data(issuer)


@router.post("/{issuer_id}/rotate-keys", response=IssuerOut, summary="Rotate the signing keys (scope: manage)")
def rotate_keys(request: HttpRequest, issuer_id: str) -> dict[str, Any]:
    issuer = queries.get_issuer(request.auth, issuer_id)
    services.rotate_keys(actor=request.auth, issuer=issuer)
    return issuer_data(issuer)
