"""The earner's operations: claim, accept or decline, visibility, identities, collections, profile, leaving.

Every function takes the acting ``user`` (keyword-only), runs in one transaction and raises ``ServiceError``
subclasses. An award someone cannot act on is ``NotFound`` — the same answer as for an award that does not
exist, so nobody learns about another earner's badges. Changes to an award are audited in the issuing
organisation's log as the anonymous actor ``earner`` (no earner's personal data lands in the issuer's log).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from insignia.awards import events
from insignia.awards.models import AcceptanceState, Award, AwardStatus, Visibility
from insignia.backpack import identities as proofs
from insignia.backpack.models import (
    Collection,
    CollectionItem,
    EarnerIdentity,
    EarnerProfile,
    IdentityKind,
    ImportedBadge,
)
from insignia.core import audit
from insignia.core.errors import Conflict, NotFound, PermissionDenied, ServiceError

log = logging.getLogger(__name__)

#: How long a URL or DID challenge can be answered.
CHALLENGE_LIFETIME = timedelta(hours=24)
#: The most identities (URLs and DIDs) one account may hold, pending or verified.
MAX_IDENTITIES = 50
MAX_COLLECTIONS = 200
EARNER = "earner"


# == awards ======================================================================================================


def _award(user: Any, award: Award | str, *, lock: bool = True) -> Award:
    """The award, if ``user`` may act on it; NotFound otherwise (including for awards that do not exist)."""
    rows = Award.objects.select_related("badge", "issuer", "organisation")
    if lock:
        rows = rows.select_for_update(of=("self",))
    lookup = {"public_id": award} if isinstance(award, str) else {"pk": award.pk}
    found = rows.filter(**lookup).first()
    if found is None or not proofs.owns(user, found):
        raise NotFound("No such badge in your wallet.")
    return found


@transaction.atomic
def claim_award(*, user: Any, token: str, now: datetime | None = None) -> Award:
    """Use a claim link: the address it was sent to becomes a verified address of ``user``; the token is spent.

    Opening the link from the email proves control of the address. The award then waits in the wallet,
    pending, for the earner to accept or decline it.
    """
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from insignia.notifications.models import ClaimToken
    from insignia.notifications.services import hash_claim_token

    now = now or timezone.now()
    if not token or len(token) > 200:
        raise NotFound("This claim link does not work.")
    claim = (ClaimToken.objects.select_for_update().select_related("award")
             .filter(token_hash=hash_claim_token(token)).first())
    if claim is None:
        raise NotFound("This claim link does not work.")
    if claim.used_at is not None:
        raise ServiceError("This claim link has already been used. Sign in with the account that used it.",
                           code="claim_used")
    if claim.expires_at <= now:
        raise ServiceError("This claim link has expired. Ask the organisation to send the email again.",
                           code="claim_expired")
    award = claim.award
    if award.recipient_kind != "email":
        raise ServiceError("This award was not made to an email address.", code="claim_not_email")
    if award.earner_id is not None and award.earner_id != user.pk:
        raise Conflict("This badge has already been claimed by another account.", code="claim_taken")
    email = award.recipient_identity.strip().lower()
    taken = (EmailAddress.objects.filter(email__iexact=email).exclude(user=user).exists()
             or get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk).exists())
    if taken:
        raise Conflict(f"{email} belongs to another account. Sign out and sign in with that address (or reset "
                       "its password) to keep this badge.", code="identity_taken", field="email")
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=email, verified=True,
                                    primary=not EmailAddress.objects.filter(user=user, primary=True).exists())
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    claim.used_at = now
    claim.save(update_fields=["used_at"])
    audit.record(award.organisation, actor=EARNER, verb="award.claimed", obj=award)
    return award


@transaction.atomic
def accept_award(*, user: Any, award: Award | str, now: datetime | None = None) -> Award:
    """Accept a badge into the wallet: ``user`` becomes its earner; emits ``award.accepted`` once."""
    found = _award(user, award)
    if found.status == AwardStatus.REVOKED:
        raise ServiceError("This badge has been revoked by its issuer, so it cannot be accepted.",
                           code="award_revoked")
    if found.acceptance == AcceptanceState.ACCEPTED:
        return found
    found.acceptance = AcceptanceState.ACCEPTED
    found.accepted_at = now or timezone.now()
    found.earner = user
    found.save(update_fields=["acceptance", "accepted_at", "earner"])
    audit.record(found.organisation, actor=EARNER, verb="award.accepted", obj=found)
    transaction.on_commit(lambda: events.award_accepted(found))
    return found


@transaction.atomic
def decline_award(*, user: Any, award: Award | str, now: datetime | None = None) -> Award:
    """Decline a badge: its public page stops showing it, it leaves every collection, the name is hidden."""
    found = _award(user, award)
    if found.acceptance == AcceptanceState.DECLINED:
        return found
    found.acceptance = AcceptanceState.DECLINED
    found.accepted_at = now or timezone.now()
    found.earner = user
    found.show_recipient_name = False
    found.visibility = Visibility.UNLISTED
    found.save(update_fields=["acceptance", "accepted_at", "earner", "show_recipient_name", "visibility"])
    CollectionItem.objects.filter(award=found).delete()
    audit.record(found.organisation, actor=EARNER, verb="award.declined", obj=found)
    return found


@transaction.atomic
def set_award_visibility(*, user: Any, award: Award | str, visibility: str, show_recipient_name: bool) -> Award:
    """Who sees the award's page (unlisted, public, hidden) and whether it shows the recipient's name."""
    found = _award(user, award)
    if visibility not in Visibility.values:
        raise ServiceError("Choose unlisted, public or hidden.", field="visibility", code="visibility_invalid")
    if found.acceptance != AcceptanceState.ACCEPTED:
        raise ServiceError("Accept the badge first; then choose who can see it.", code="award_not_accepted")
    found.visibility = visibility
    found.show_recipient_name = bool(show_recipient_name)
    found.save(update_fields=["visibility", "show_recipient_name"])
    audit.record(found.organisation, actor=EARNER, verb="award.visibility_changed", obj=found,
                 data={"visibility": visibility, "show_recipient_name": found.show_recipient_name})
    return found


# == identities ==================================================================================================


def _identity(user: Any, identity: EarnerIdentity | int | str) -> EarnerIdentity:
    pk = identity.pk if isinstance(identity, EarnerIdentity) else identity
    try:
        found = EarnerIdentity.objects.select_for_update().filter(user=user, pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise NotFound("No such identity in your account.")
    return found


def identity_challenge(identity: EarnerIdentity, now: datetime | None = None) -> str | None:
    """The code a pending identity must publish or sign, or None once verified or expired."""
    expires = identity.challenge_expires_at
    if identity.verified_at is not None or expires is None or expires <= (now or timezone.now()):
        return None
    challenge = proofs.challenge_for(identity.user_id, identity.kind, identity.value, expires)
    return challenge if proofs.challenge_hash(challenge) == identity.challenge_hash else None


def _clean_identity(kind: str, value: str) -> str:
    if kind == IdentityKind.URL:
        try:
            return proofs.normalise_url(value)
        except ValueError as exc:
            raise ServiceError(str(exc), field="value", code="identity_invalid") from exc
    if kind == IdentityKind.DID:
        text = (value or "").strip()
        if not proofs.DID_RE.match(text) or len(text) > 320:
            raise ServiceError(f"{text!r} is not a DID: give it as did:method:identifier (e.g. did:key:z6Mk…), "
                               "without a #fragment.", field="value", code="identity_invalid")
        if not text.startswith(("did:key:", "did:web:")):
            raise ServiceError("Only did:key and did:web identities can be verified here.", field="value",
                               code="did_method_unsupported")
        return text
    raise ServiceError("Email addresses are added on the Email addresses page; here add a web address or a DID.",
                       field="kind", code="identity_kind_invalid")


def _new_challenge(identity: EarnerIdentity, now: datetime) -> None:
    expires = (now + CHALLENGE_LIFETIME).replace(microsecond=0)
    identity.challenge_expires_at = expires
    identity.challenge_hash = proofs.challenge_hash(
        proofs.challenge_for(identity.user_id, identity.kind, identity.value, expires))


@transaction.atomic
def add_identity(*, user: Any, kind: str, value: str, now: datetime | None = None) -> EarnerIdentity:
    """Start adding a web address or DID: a pending identity with a fresh challenge (see ``identity_challenge``)."""
    now = now or timezone.now()
    clean = _clean_identity(kind, value)
    existing = EarnerIdentity.objects.select_for_update().filter(user=user, kind=kind, value=clean).first()
    if existing is not None:
        if existing.verified_at is None:
            _new_challenge(existing, now)
            existing.save(update_fields=["challenge_hash", "challenge_expires_at"])
        return existing
    if EarnerIdentity.objects.filter(user=user).count() >= MAX_IDENTITIES:
        raise ServiceError(f"An account can hold at most {MAX_IDENTITIES} web addresses and DIDs; remove one first.",
                           code="identity_limit")
    identity = EarnerIdentity(user=user, kind=kind, value=clean)
    _new_challenge(identity, now)
    identity.save()
    log.info("earner identity added (%s)", kind)
    return identity


@transaction.atomic
def renew_challenge(*, user: Any, identity: EarnerIdentity | int | str, now: datetime | None = None
                    ) -> EarnerIdentity:
    """A fresh challenge for a pending identity (the old one stops working)."""
    found = _identity(user, identity)
    if found.verified_at is not None:
        return found
    _new_challenge(found, now or timezone.now())
    found.save(update_fields=["challenge_hash", "challenge_expires_at"])
    return found


def _mark_verified(identity: EarnerIdentity, now: datetime) -> EarnerIdentity:
    if EarnerIdentity.objects.filter(kind=identity.kind, value=identity.value, verified_at__isnull=False
                                     ).exclude(pk=identity.pk).exists():
        raise Conflict("This identity is already verified by another account. It can belong to one account only.",
                       code="identity_taken", field="value")
    identity.verified_at = now
    identity.challenge_hash = ""
    identity.challenge_expires_at = None
    try:
        with transaction.atomic():
            identity.save(update_fields=["verified_at", "challenge_hash", "challenge_expires_at"])
    except IntegrityError as exc:  # verified by another account at the same moment
        raise Conflict("This identity is already verified by another account.", code="identity_taken") from exc
    log.info("earner identity verified (%s)", identity.kind)
    return identity


def _pending_challenge(identity: EarnerIdentity, now: datetime) -> str:
    challenge = identity_challenge(identity, now)
    if challenge is None:
        raise ServiceError("The code has expired. Ask for a new code and publish or sign that one.",
                           code="challenge_expired")
    return challenge


@transaction.atomic
def verify_url_identity(*, user: Any, identity: EarnerIdentity | int | str, profile_url: str,
                        fetch: proofs.Fetch | None = None, now: datetime | None = None) -> EarnerIdentity:
    """Check the web page for the proof (rel="me" link to ``profile_url`` or the meta code); verify on success."""
    now = now or timezone.now()
    found = _identity(user, identity)
    if found.kind != IdentityKind.URL:
        raise NotFound("No such web address in your account.")
    if found.verified_at is not None:
        return found
    challenge = _pending_challenge(found, now)
    try:
        proofs.check_url_proof(found.value, fetch=fetch or proofs.default_fetch(), profile_url=profile_url,
                               challenge=challenge)
    except proofs.ProofFailed as exc:
        raise ServiceError(exc.message, code=exc.code) from exc
    return _mark_verified(found, now)


@transaction.atomic
def verify_did_identity(*, user: Any, identity: EarnerIdentity | int | str, jws: str,
                        fetch: proofs.Fetch | None = None, now: datetime | None = None) -> EarnerIdentity:
    """Check the signed challenge against the DID document (did:key offline, did:web fetched); verify on success."""
    now = now or timezone.now()
    found = _identity(user, identity)
    if found.kind != IdentityKind.DID:
        raise NotFound("No such DID in your account.")
    if found.verified_at is not None:
        return found
    challenge = _pending_challenge(found, now)
    needs_network = found.value.startswith("did:web:")
    try:
        proofs.check_did_proof(found.value, jws, challenge=challenge,
                               fetch=(fetch or proofs.default_fetch()) if needs_network else None)
    except proofs.ProofFailed as exc:
        raise ServiceError(exc.message, code=exc.code, field="jws") from exc
    return _mark_verified(found, now)


@transaction.atomic
def remove_identity(*, user: Any, identity: EarnerIdentity | int | str) -> None:
    """Forget a web address or DID. Badges already accepted stay (their earner is this account)."""
    _identity(user, identity).delete()


# == collections =================================================================================================


def _collection(user: Any, collection: Collection | str) -> Collection:
    public_id = collection.public_id if isinstance(collection, Collection) else collection
    found = Collection.objects.select_for_update().filter(user=user, public_id=public_id).first()
    if found is None:
        raise NotFound("No such collection.")
    return found


def _collection_fields(name: str, description: str, visibility: str) -> tuple[str, str]:
    clean = " ".join((name or "").split())
    if not clean:
        raise ServiceError("Give the collection a name.", field="name", code="name_missing")
    if len(clean) > 120:
        raise ServiceError("Keep the name to 120 characters or fewer.", field="name", code="name_too_long")
    if visibility not in Visibility.values:
        raise ServiceError("Choose unlisted, public or hidden.", field="visibility", code="visibility_invalid")
    text = (description or "").strip()
    if len(text) > 2000:
        raise ServiceError("Keep the description to 2,000 characters or fewer.", field="description",
                           code="description_too_long")
    return clean, text


@transaction.atomic
def create_collection(*, user: Any, name: str, description: str = "",
                      visibility: str = Visibility.UNLISTED) -> Collection:
    """A new, empty collection at the end of the earner's list."""
    clean, text = _collection_fields(name, description, visibility)
    if Collection.objects.filter(user=user).count() >= MAX_COLLECTIONS:
        raise ServiceError(f"You can keep at most {MAX_COLLECTIONS} collections.", code="collection_limit")
    last = Collection.objects.filter(user=user).aggregate(m=Max("position"))["m"]
    return Collection.objects.create(user=user, name=clean, description=text, visibility=visibility,
                                     position=0 if last is None else last + 1)


@transaction.atomic
def update_collection(*, user: Any, collection: Collection | str, name: str, description: str = "",
                      visibility: str) -> Collection:
    """Rename a collection, change its description or its visibility."""
    found = _collection(user, collection)
    found.name, found.description = _collection_fields(name, description, visibility)
    found.visibility = visibility
    found.save(update_fields=["name", "description", "visibility"])
    return found


@transaction.atomic
def delete_collection(*, user: Any, collection: Collection | str) -> None:
    """Delete a collection (its badges stay in the wallet)."""
    _collection(user, collection).delete()


def _swap(rows: list[Any], index: int, direction: str) -> None:
    """Move ``rows[index]`` one place up or down, renumbering positions 0..n-1."""
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise ServiceError("Move up or down.", code="direction_invalid")
    if 0 <= target < len(rows):
        rows[index], rows[target] = rows[target], rows[index]
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])


@transaction.atomic
def move_collection(*, user: Any, collection: Collection | str, direction: str) -> Collection:
    """Move a collection one place up or down in the earner's order."""
    found = _collection(user, collection)
    rows = list(Collection.objects.select_for_update().filter(user=user).order_by("position", "id"))
    _swap(rows, next(i for i, row in enumerate(rows) if row.pk == found.pk), direction)
    return found


@transaction.atomic
def add_to_collection(*, user: Any, collection: Collection | str, award: Award | str | None = None,
                      imported: ImportedBadge | str | None = None) -> CollectionItem:
    """Add an accepted award or an imported badge (exactly one) at the end of a collection; idempotent."""
    found = _collection(user, collection)
    if (award is None) == (imported is None):
        raise ServiceError("Choose one badge to add.", code="item_invalid")
    lookup: dict[str, Any]
    if award is not None:
        badge = _award(user, award, lock=False)
        if badge.acceptance != AcceptanceState.ACCEPTED:
            raise ServiceError("Accept the badge before adding it to a collection.", code="award_not_accepted")
        lookup = {"award": badge}
    else:
        public_id = imported.public_id if isinstance(imported, ImportedBadge) else imported
        item = ImportedBadge.objects.filter(user=user, public_id=public_id).first()
        if item is None:
            raise NotFound("No such imported badge in your wallet.")
        lookup = {"imported": item}
    existing = CollectionItem.objects.filter(collection=found, **lookup).first()
    if existing is not None:
        return existing
    last = CollectionItem.objects.filter(collection=found).aggregate(m=Max("position"))["m"]
    return CollectionItem.objects.create(collection=found, position=0 if last is None else last + 1, **lookup)


def _item(collection: Collection, item: CollectionItem | int | str) -> CollectionItem:
    pk = item.pk if isinstance(item, CollectionItem) else item
    try:
        found = CollectionItem.objects.filter(collection=collection, pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise NotFound("That badge is not in this collection.")
    return found


@transaction.atomic
def remove_from_collection(*, user: Any, collection: Collection | str, item: CollectionItem | int | str) -> None:
    """Take a badge out of a collection (it stays in the wallet)."""
    _item(_collection(user, collection), item).delete()


@transaction.atomic
def move_item(*, user: Any, collection: Collection | str, item: CollectionItem | int | str,
              direction: str) -> CollectionItem:
    """Move a badge one place up or down within its collection."""
    found = _collection(user, collection)
    target = _item(found, item)
    rows = list(CollectionItem.objects.select_for_update().filter(collection=found).order_by("position", "id"))
    _swap(rows, next(i for i, row in enumerate(rows) if row.pk == target.pk), direction)
    return target


# == profile =====================================================================================================


def profile_for(user: Any) -> EarnerProfile:
    """The earner's portfolio settings (made on first use, switched off)."""
    profile, _ = EarnerProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def update_profile(*, user: Any, display_name: str, headline: str, portfolio_enabled: bool) -> EarnerProfile:
    """The portfolio's name and headline, and whether the portfolio page is on."""
    profile = profile_for(user)
    name = " ".join((display_name or "").split())
    line = " ".join((headline or "").split())
    if len(name) > 200:
        raise ServiceError("Keep the name to 200 characters or fewer.", field="display_name", code="name_too_long")
    if len(line) > 300:
        raise ServiceError("Keep the headline to 300 characters or fewer.", field="headline",
                           code="headline_too_long")
    profile.display_name, profile.headline, profile.portfolio_enabled = name, line, bool(portfolio_enabled)
    profile.save(update_fields=["display_name", "headline", "portfolio_enabled"])
    return profile


# == leaving =====================================================================================================


def _sole_owner_of(user: Any) -> list[str]:
    from insignia.core.models import Membership, Role

    names = []
    for membership in Membership.objects.filter(user=user, role=Role.OWNER).select_related("organisation"):
        others = Membership.objects.filter(organisation=membership.organisation, role=Role.OWNER).exclude(user=user)
        if not others.exists():
            names.append(membership.organisation.name)
    return names


def _delete_sessions(user_pk: Any) -> int:
    from django.contrib.sessions.models import Session

    wanted, removed = str(user_pk), 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        try:
            owner = session.get_decoded().get("_auth_user_id")
        except Exception:  # a damaged session belongs to nobody we can tell
            log.debug("skipped an unreadable session")
            continue
        if owner == wanted:
            session.delete()
            removed += 1
    return removed


@transaction.atomic
def delete_account(*, user: Any, password: str = "", confirm_email: str = "") -> None:
    """Delete the account and the earner's personal data; the issuers' records keep every credential verifiable.

    Confirmed with the password or, for accounts without one (single sign-on), by typing the email address.
    Awards stay with their issuers: no earner, the recipient's name hidden again, visibility back to unlisted.
    """
    has_password = user.has_usable_password()
    if has_password and not user.check_password(password or ""):
        raise PermissionDenied("That is not your password. Type your current password to delete the account.",
                               code="password_wrong")
    if not has_password and (confirm_email or "").strip().lower() != user.email.lower():
        raise PermissionDenied(f"Type your email address ({user.email}) to confirm.", code="confirmation_wrong")
    sole = _sole_owner_of(user)
    if sole:
        raise Conflict(f"You are the only owner of {', '.join(sole)}. Make someone else an owner (or delete the "
                       "organisation) first, so it is not left without one.", code="sole_owner")
    for award in Award.objects.filter(earner=user).select_related("organisation"):
        audit.record(award.organisation, actor=EARNER, verb="award.earner_left", obj=award)
    Award.objects.filter(earner=user).update(earner=None, show_recipient_name=False, visibility=Visibility.UNLISTED)
    pk = user.pk
    user.delete()  # identities, imports, collections, profile, email addresses, social accounts, memberships
    _delete_sessions(pk)
    log.info("an earner account was deleted")


__all__ = [
    "accept_award",
    "add_identity",
    "add_to_collection",
    "claim_award",
    "create_collection",
    "decline_award",
    "delete_account",
    "delete_collection",
    "identity_challenge",
    "move_collection",
    "move_item",
    "profile_for",
    "remove_from_collection",
    "remove_identity",
    "renew_challenge",
    "set_award_visibility",
    "update_collection",
    "update_profile",
    "verify_did_identity",
    "verify_url_identity",
]
