"""Reads for the wallet, collection pages and portfolios. Every read is scoped to one earner.

A wallet holds the awards the earner accepted or declined (``earner``), the unclaimed awards made to one of
their verified identities (confirmed by the salted hash), and the badges they imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from insignia.awards.models import AcceptanceState, Award, AwardStatus, EngagementCount, Visibility
from insignia.backpack import identities as proofs
from insignia.backpack.models import Collection, CollectionItem, EarnerProfile, ImportedBadge
from insignia.core.errors import NotFound

#: Status filter values of the wallet, in the order the filter offers them.
STATUS_FILTERS = ("pending", "active", "expired", "suspended", "revoked", "declined", "unverified")
#: Origin filter values: badges from this instance, or imported ones (any origin or one in particular).
ORIGIN_FILTERS = ("insignia", "imported", "url", "file", "json", "jwt")


@dataclass
class WalletEntry:
    """One badge as the wallet shows it, native or imported."""

    kind: str  # "award" | "imported"
    key: str  # public id
    name: str
    issuer_name: str
    image_url: str | None
    issued_on: datetime | None
    expires_on: datetime | None
    status: str
    origin: str
    origin_label: str
    visibility: str
    url: str | None
    public_url: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    award: Award | None = None
    imported: ImportedBadge | None = None

    @property
    def views(self) -> int:
        return self.counts.get("view", 0)

    @property
    def shares(self) -> int:
        return self.counts.get("share", 0)

    @property
    def verifications(self) -> int:
        return self.counts.get("verify", 0)


# -- native awards -----------------------------------------------------------------------------------------------


def award_state(award: Award, now: datetime | None = None) -> str:
    """pending / declined first (the earner's decision), then revoked, suspended, expired, active."""
    if award.acceptance == AcceptanceState.PENDING:
        return "pending"
    if award.acceptance == AcceptanceState.DECLINED:
        return "declined"
    if award.status in (AwardStatus.REVOKED, AwardStatus.SUSPENDED):
        return str(award.status)
    if award.expires_on is not None and award.expires_on <= (now or timezone.now()):
        return "expired"
    return "active"


#: Columns the wallet's listing never shows (the signed credential and its cached forms: kilobytes per award).
HEAVY_COLUMNS = ("credential", "jwt", "ob2_signed")
#: What a wallet tile needs of an award and its badge, issuer and organisation (a page's awards load only these).
TILE_FIELDS = (
    "public_id", "organisation_id", "badge_id", "issuer_id", "recipient_kind", "recipient_identity",
    "recipient_salt", "recipient_hash", "issued_on", "expires_on", "status", "acceptance", "earner_id",
    "visibility", "show_recipient_name", "badge__name", "badge__public_id", "badge__image", "badge__image_png",
    "badge__image_type", "issuer__name", "issuer__public_id", "organisation__name", "organisation__public_id",
)
#: What choosing, filtering and ordering the wallet's badges needs of every award: read as plain rows, not model
#: objects (a fifth of the cost for a wallet of hundreds), and only the shown page's awards are loaded whole.
ROW_FIELDS = ("pk", "earner_id", "recipient_identity", "recipient_salt", "recipient_hash", "issued_on",
              "expires_on", "status", "acceptance", "badge__name", "issuer__name")
#: Badges per page of the wallet (divides evenly into rows of 2, 3, 4 or 6 tiles).
WALLET_PAGE_SIZE = 24


def _wallet_filter(user: Any) -> Q:
    """The awards that may be ``user``'s: theirs (``earner``), or unclaimed under one of their verified identities
    (to be confirmed by :func:`_confirmed`); an award re-issued as a correction counts as its replacement only."""
    query = Q(earner=user)
    by_identity = proofs.identity_filter(proofs.verified_identities(user))
    if by_identity is not None:
        query |= Q(earner__isnull=True) & by_identity
    return query & Q(replaced_by__isnull=True)


def _confirmed(user: Any, award: Any) -> bool:
    """An award (or a row of :data:`ROW_FIELDS`) found by :func:`_wallet_filter` really is ``user``'s."""
    return bool(award.earner_id == user.pk) or proofs.hash_matches(award)


def wallet_awards(user: Any, *, light: bool = False) -> list[Award]:
    """Every native award in ``user``'s wallet, newest first; an award re-issued as a correction is shown once,
    as its replacement (the replaced one stays reachable by its own link).

    One indexed query: by ``earner`` (the (earner, issued_on) index) or by the earner's verified identities
    (the (recipient_kind, recipient_identity) index); each identity match is then confirmed against the
    credential's salted hash here (microseconds per award, on the earner's own awards only, so it stays in
    Python rather than being remembered on the row: a wallet never shows an award its identity and hash
    disagree on, and nothing about an identity is revealed to anyone else). ``light`` leaves out the signed
    credential and its cached forms (for listings).
    """
    rows = Award.objects.select_related("badge", "issuer", "organisation")
    if light:
        rows = rows.defer(*HEAVY_COLUMNS)
    return [award for award in rows.filter(_wallet_filter(user)).order_by("-issued_on", "-id")
            if _confirmed(user, award)]


def wallet_rows(user: Any) -> list[Any]:
    """:func:`wallet_awards` as named rows of :data:`ROW_FIELDS` (``row.pk``, ``row.badge__name``…): the same
    awards in the same order, for choosing what to show before any award is loaded whole."""
    rows = (Award.objects.filter(_wallet_filter(user)).order_by("-issued_on", "-id")
            .values_list(*ROW_FIELDS, named=True))
    return [row for row in rows if _confirmed(user, row)]


def wallet_award(user: Any, public_id: str) -> Award:
    """One award of ``user``'s wallet; NotFound for anything else (others' awards look like missing ones)."""
    award = Award.objects.select_related("badge", "issuer", "organisation").filter(public_id=public_id).first()
    if award is None or not proofs.owns(user, award):
        raise NotFound("No such badge in your wallet.")
    return award


def pending_count(user: Any) -> int:
    return sum(1 for award in wallet_awards(user, light=True) if award.acceptance == AcceptanceState.PENDING)


class Links:
    """``reverse(name, args=[public_id])`` for the many badges of one page at the cost of one ``reverse`` per URL
    name: the URL is reversed once around a placeholder, which each public id then replaces (public ids are hex,
    so they need no quoting). One per page: the URL prefix of the request in hand is the one used."""

    _SLOT = "0public-id0"

    def __init__(self) -> None:
        self._reversed: dict[str, str] = {}

    def __call__(self, name: str, public_id: str) -> str:
        pattern = self._reversed.get(name)
        if pattern is None:
            pattern = self._reversed[name] = reverse(name, args=[self._SLOT])
        return pattern.replace(self._SLOT, public_id)


def _reverse(name: str, public_id: str) -> str:
    return reverse(name, args=[public_id])


def badge_image_url(award: Award, links: Links | None = None) -> str | None:
    badge = award.badge
    if not (badge.image_png or badge.image):
        return None
    return (links or _reverse)("badges:image_png", badge.public_id)


def engagement_counts(award_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Views, shares, verifications… per award (the awards app's counter when present)."""
    ids = list(dict.fromkeys(award_ids))
    try:
        from insignia.awards.engagement import counts_for_awards
    except ImportError:  # the counter module is optional; the table is not
        result: dict[int, dict[str, int]] = {pk: {} for pk in ids}
        rows = (EngagementCount.objects.filter(award_id__in=ids).values("award_id", "kind")
                .annotate(total=Sum("count")).order_by())
        for row in rows:
            result[row["award_id"]][row["kind"]] = int(row["total"] or 0)
        return result
    return counts_for_awards(ids)


# -- imported badges ---------------------------------------------------------------------------------------------


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def imported_state(item: ImportedBadge, now: datetime | None = None) -> str:
    """active / expired / revoked / suspended from the last verification; ``unverified`` when it failed."""
    checks = (item.report or {}).get("checks") or []
    failed = " ".join(str(check.get("code", "")) for check in checks
                      if isinstance(check, dict) and check.get("status") == "failed")
    if "revoked" in failed:
        return "revoked"
    if "suspended" in failed:
        return "suspended"
    until = _moment((item.summary or {}).get("valid_until"))
    if "expired" in failed or (until is not None and until <= (now or timezone.now())):
        return "expired"
    return "active" if item.verdict == "valid" else "unverified"


def imported_image_url(item: ImportedBadge) -> str | None:
    """Only images that load nothing from elsewhere: data URLs or this instance's own (no third-party requests)."""
    image = (item.summary or {}).get("image")
    if isinstance(image, dict):
        image = image.get("id")
    if not isinstance(image, str):
        return None
    if image.startswith("data:image/") or image.startswith(settings.BASE_URL + "/"):
        return image
    return None


def _imported_url(item: ImportedBadge) -> str | None:
    for name in ("backpack:imported_detail", "backpack:import_detail", "backpack:imported"):
        try:
            return reverse(name, args=[item.public_id])
        except NoReverseMatch:
            continue
    return None


def _reverse_or_none(name: str, public_id: str) -> str | None:
    try:
        return reverse(name, args=[public_id])
    except NoReverseMatch:
        return None


def imported_entry(item: ImportedBadge) -> WalletEntry:
    summary = item.summary or {}
    return WalletEntry(
        kind="imported", key=item.public_id,
        name=str(summary.get("name") or summary.get("achievement_name") or "Imported badge"),
        issuer_name=str(summary.get("issuer_name") or summary.get("issuer_url") or "Unknown issuer"),
        image_url=imported_image_url(item), issued_on=_moment(summary.get("valid_from")) or item.created_at,
        expires_on=_moment(summary.get("valid_until")), status=imported_state(item), origin=item.origin,
        origin_label=f"Imported · {item.get_origin_display().lower()}", visibility=item.visibility,
        url=_imported_url(item), public_url=_reverse_or_none("backpack:imported_public", item.public_id),
        imported=item,
    )


def award_entry(award: Award, counts: dict[str, int] | None = None, links: Links | None = None) -> WalletEntry:
    """``links``: a page's :class:`Links`, when it builds many entries."""
    link = links or _reverse
    return WalletEntry(
        kind="award", key=award.public_id, name=award.badge.name, issuer_name=award.issuer.name,
        image_url=badge_image_url(award, links), issued_on=award.issued_on, expires_on=award.expires_on,
        status=award_state(award), origin="insignia", origin_label=f"From {award.organisation.name}",
        visibility=award.visibility, url=link("backpack:award", award.public_id),
        public_url=link("awards:public", award.public_id), counts=counts or {}, award=award,
    )


# -- the wallet --------------------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    """A badge of the wallet before its entry is built (entries need the whole award and URLs; only a page's worth
    are built): a native award by its id, or an imported badge's entry."""

    status: str
    issued_on: datetime | None
    name: str
    issuer_name: str
    award_id: int | None = None
    entry: WalletEntry | None = None


def _candidates(user: Any, *, search: str, status: str, collection: str, origin: str) -> list[_Candidate]:
    """The wallet's badges, filtered and in display order (pending first, then newest), entries not yet built."""
    awards = wallet_rows(user)
    imported = list(ImportedBadge.objects.filter(user=user))
    if collection:
        chosen = Collection.objects.filter(user=user, public_id=collection).first()
        if chosen is None:
            return []
        items = list(CollectionItem.objects.filter(collection=chosen))
        award_ids = {item.award_id for item in items if item.award_id}
        imported_ids = {item.imported_id for item in items if item.imported_id}
        awards = [award for award in awards if award.pk in award_ids]
        imported = [item for item in imported if item.pk in imported_ids]
    if origin == "insignia":
        imported = []
    elif origin in ("imported", "url", "file", "json", "jwt"):
        awards = []
        if origin != "imported":
            imported = [item for item in imported if item.origin == origin]
    now = timezone.now()
    found = [_Candidate(status=award_state(row, now), issued_on=row.issued_on, name=row.badge__name,
                        issuer_name=row.issuer__name, award_id=row.pk) for row in awards]
    for item in imported:
        entry = imported_entry(item)
        found.append(_Candidate(status=entry.status, issued_on=entry.issued_on, name=entry.name,
                                issuer_name=entry.issuer_name, entry=entry))
    text = " ".join(search.split()).lower()
    if text:
        found = [c for c in found if text in c.name.lower() or text in c.issuer_name.lower()]
    if status in STATUS_FILTERS:
        found = [c for c in found if c.status == status]
    far_past = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda c: c.issued_on or far_past, reverse=True)
    found.sort(key=lambda c: c.status != "pending")
    return found


def _built(candidates: list[_Candidate]) -> list[WalletEntry | None]:
    """The candidates' entries, in their order: their awards (:data:`TILE_FIELDS` only) in one query, the
    engagement counts in another. None for an award gone in between (deleted a moment ago)."""
    ids = [c.award_id for c in candidates if c.award_id is not None]
    awards = {award.pk: award for award in Award.objects.select_related("badge", "issuer", "organisation")
              .only(*TILE_FIELDS).filter(pk__in=ids)} if ids else {}
    counts = engagement_counts(awards)
    links = Links()
    return [c.entry if c.entry is not None else
            award_entry(awards[c.award_id], counts.get(c.award_id), links) if c.award_id in awards else None
            for c in candidates]


def _entries(candidates: list[_Candidate]) -> list[WalletEntry]:
    return [entry for entry in _built(candidates) if entry is not None]


def wallet(user: Any, *, search: str = "", status: str = "", collection: str = "", origin: str = ""
           ) -> list[WalletEntry]:
    """The wallet's badges (pending first, then newest), filtered by text, status, collection and origin."""
    return _entries(_candidates(user, search=search, status=status, collection=collection, origin=origin))


@dataclass
class WalletPage:
    """What the wallet page shows: the pending badges apart (unfiltered only), one page of the others."""

    pending: list[WalletEntry]
    entries: list[WalletEntry]
    page: Any  # insignia.awards.queries.ListPage
    total: int
    #: How many badges wait for a decision (``pending`` holds at most half a page of them).
    waiting: int = 0


def wallet_page(user: Any, *, search: str = "", status: str = "", collection: str = "", origin: str = "",
                page: Any = 1, per_page: int | None = None) -> WalletPage:
    """One page of the wallet in a fixed number of queries: entries (URLs, counts) are built for that page only.

    Unfiltered, the badges waiting for a decision are listed apart, above the pages (at most half a page of them,
    with a link to the "pending" filter, which pages through them all).
    """
    from insignia.awards.queries import ListPage

    per_page = per_page or WALLET_PAGE_SIZE
    found = _candidates(user, search=search, status=status, collection=collection, origin=origin)
    filtered = any((search, status, collection, origin))
    pending: list[_Candidate] = []
    if not filtered:
        pending = [c for c in found if c.status == "pending"]
        found = found[len(pending):]
    waiting = len(pending)
    pending = pending[: max(1, per_page // 2)]
    pages = max(1, -(-len(found) // per_page))
    try:
        number = pages if page == "last" else min(max(1, int(page)), pages)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    shown = found[start: start + per_page]
    built = _built(pending + shown)
    entries = [entry for entry in built[len(pending):] if entry is not None]
    return WalletPage(
        pending=[entry for entry in built[: len(pending)] if entry is not None], entries=entries,
        page=ListPage(object_list=entries, number=number, per_page=per_page, count=len(found),
                      has_next=start + per_page < len(found)),
        total=len(found) + waiting, waiting=waiting,
    )


def collections_of(user: Any) -> list[Collection]:
    return list(Collection.objects.filter(user=user).order_by("position", "id"))


def collection_of(user: Any, public_id: str) -> Collection:
    found = Collection.objects.filter(user=user, public_id=public_id).first()
    if found is None:
        raise NotFound("No such collection.")
    return found


def collection_items(collection: Collection, *, public: bool) -> list[tuple[CollectionItem, WalletEntry]]:
    """A collection's badges in order; ``public`` leaves out hidden, declined and pending ones."""
    rows = (CollectionItem.objects.filter(collection=collection)
            .select_related("award__badge", "award__issuer", "award__organisation", "imported")
            .order_by("position", "id"))
    result = []
    for item in rows:
        if item.award is not None:
            award = item.award
            if award.earner_id != collection.user_id:
                continue  # left the earner's hands (e.g. re-claimed elsewhere): never shown under this name
            if public and (award.acceptance != AcceptanceState.ACCEPTED or award.visibility == Visibility.HIDDEN):
                continue
            result.append((item, award_entry(award)))
        elif item.imported is not None:
            if public and item.imported.visibility == Visibility.HIDDEN:
                continue
            result.append((item, imported_entry(item.imported)))
    return result


def collections_with(user: Any, *, award: Award | None = None, imported: ImportedBadge | None = None
                     ) -> set[int]:
    """Ids of the user's collections holding this badge."""
    rows = CollectionItem.objects.filter(collection__user=user)
    rows = rows.filter(award=award) if award is not None else rows.filter(imported=imported)
    return set(rows.values_list("collection_id", flat=True))


# -- public pages ------------------------------------------------------------------------------------------------


def portfolio(public_id: str) -> EarnerProfile:
    """An enabled portfolio; NotFound when it does not exist or is switched off."""
    profile = EarnerProfile.objects.select_related("user").filter(public_id=public_id, portfolio_enabled=True).first()
    if profile is None:
        raise NotFound("No such portfolio.")
    return profile


PortfolioCollections = list[tuple[Collection, list[WalletEntry]]]


def portfolio_content(profile: EarnerProfile) -> tuple[PortfolioCollections, list[WalletEntry]]:
    """The public collections (with their public badges) and the other public badges of a portfolio."""
    user = profile.user
    public = Collection.objects.filter(user=user, visibility=Visibility.PUBLIC).order_by("position", "id")
    collections = [(c, [entry for _, entry in collection_items(c, public=True)]) for c in public]
    awards = (Award.objects.filter(earner=user, acceptance=AcceptanceState.ACCEPTED, visibility=Visibility.PUBLIC)
              .select_related("badge", "issuer", "organisation").order_by("-issued_on", "-id"))
    badges = [award_entry(award) for award in awards]
    badges += [imported_entry(item) for item in ImportedBadge.objects.filter(user=user, visibility=Visibility.PUBLIC)]
    shown = {(entry.kind, entry.key) for _, entries in collections for entry in entries}
    return collections, [entry for entry in badges if (entry.kind, entry.key) not in shown]


def shared_collection(profile_id: str, collection_id: str, viewer: Any) -> tuple[EarnerProfile, Collection]:
    """A collection by its link. Hidden ones exist only for their owner; everyone else gets NotFound."""
    collection = (Collection.objects.select_related("user").filter(public_id=collection_id,
                                                                    user__earner_profile__public_id=profile_id).first())
    if collection is None:
        raise NotFound("No such collection.")
    is_owner = getattr(viewer, "is_authenticated", False) and viewer.pk == collection.user_id
    if collection.visibility == Visibility.HIDDEN and not is_owner:
        raise NotFound("No such collection.")
    return collection.user.earner_profile, collection


def wallet_has_badges(user: Any) -> bool:
    """Whether the user holds any badge (where sign-in should land for earners without an organisation)."""
    return ImportedBadge.objects.filter(user=user).exists() or bool(wallet_awards(user, light=True))
