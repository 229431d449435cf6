"""Serving caches: the stored award's verdict, the public page, credential.json bytes and buffered engagement.

Every cache here must give the same answers as no cache: a revocation, suspension, unsuspension, key
change or expiry shows on the very next request; buffered counts are exact once flushed. No timings.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from insignia.awards import engagement
from insignia.awards.models import Award, EngagementCount
from insignia.awards.services import issue_award, revoke_award, suspend_award, unsuspend_award
from insignia.badges.models import ExpiryPolicy
from insignia.core.http import etag_for
from insignia.core.models import Role
from insignia.credentials.verify.pipeline import DEFAULT_SKEW
from insignia.issuers.models import SigningKey
from insignia.issuers.services import rotate_keys
from insignia.verification import services
from insignia.verification.services import verdict_cache_key, verify_stored_award
from tests.platform.test_awards_support import check, make_badge, make_issuer, make_public_award

pytestmark = pytest.mark.django_db

RECIPIENT = "ada@example.org"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(member: Any) -> Any:
    return member(Role.OWNER)


@pytest.fixture
def badge(owner: Any) -> Any:
    return make_badge(owner, make_issuer(owner))


@pytest.fixture
def award(owner: Any, badge: Any) -> Award:
    return make_public_award(owner, badge, recipient=RECIPIENT)


@pytest.fixture
def buffered() -> Any:
    engagement.flush()
    engagement.enable_buffering(flush_every=1_000_000, flush_seconds=3600, background=False)
    yield
    engagement.disable_buffering()


def _verdict_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count real verifications (cache misses) by wrapping the shared verifier's ``verify``."""
    calls: list[str] = []
    verifier = services.platform_verifier()
    original = verifier.verify

    def counting(data: Any, **options: Any) -> Any:
        calls.append("verify")
        return original(data, **options)

    monkeypatch.setattr(verifier, "verify", counting)
    return calls


def _fresh(award: Award) -> Award:
    return Award.objects.get(pk=award.pk)


# == the verdict cache =======================================================================================


def test_verdict_is_cached_until_something_it_depends_on_changes(award: Award, owner: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _verdict_calls(monkeypatch)
    assert verify_stored_award(award).verdict == "valid"
    assert verify_stored_award(_fresh(award)).verdict == "valid"
    assert len(calls) == 1  # the second answer came from the cache

    suspend_award(actor=owner, award=award, reason="Checking.")
    report = verify_stored_award(award)  # even the stale instance sees it: versions are read live
    assert (report.verdict, check(report, "status")) == ("invalid", ("failed", "suspended"))
    assert len(calls) == 2

    unsuspend_award(actor=owner, award=_fresh(award))
    assert verify_stored_award(_fresh(award)).verdict == "valid"
    assert len(calls) == 3

    revoke_award(actor=owner, award=_fresh(award), reason="Error.")
    report = verify_stored_award(_fresh(award))
    assert (report.verdict, check(report, "status")) == ("invalid", ("failed", "revoked"))
    assert verify_stored_award(_fresh(award)).verdict == "invalid"
    assert len(calls) == 4


def test_key_changes_give_a_new_verdict(award: Award, owner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    now = timezone.now()
    calls = _verdict_calls(monkeypatch)
    before = verdict_cache_key(award, now)
    assert verify_stored_award(award).verdict == "valid"

    rotate_keys(actor=owner, issuer=award.issuer)  # old keys retired but still published: still valid
    assert verdict_cache_key(_fresh(award), now) != before
    assert verify_stored_award(_fresh(award)).verdict == "valid"
    assert len(calls) == 2

    SigningKey.objects.filter(issuer=award.issuer).delete()  # the signing key is gone: no longer verifiable
    report = verify_stored_award(_fresh(award))
    assert report.verdict != "valid"
    assert len(calls) == 3


def test_a_tampered_credential_is_never_answered_from_the_cache(award: Award) -> None:
    assert verify_stored_award(award).verdict == "valid"
    tampered = {**award.credential, "name": "Something else"}
    Award.objects.filter(pk=award.pk).update(credential=tampered)
    assert verify_stored_award(_fresh(award)).verdict == "invalid"


def test_the_cache_never_spans_an_expiry(owner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    expiring = make_badge(owner, make_issuer(owner, "Expiring Academy"), name="Short Lived",
                          expiry_policy=ExpiryPolicy.DURATION, expiry_days=30)
    award = issue_award(actor=owner, badge=expiring, recipient=RECIPIENT)
    assert award.expires_on is not None
    # the verifier allows its clock skew past validUntil: the verdict flips at expiry + skew
    just_before = award.expires_on + DEFAULT_SKEW - timedelta(seconds=1)
    just_after = award.expires_on + DEFAULT_SKEW + timedelta(seconds=1)
    calls = _verdict_calls(monkeypatch)
    assert verify_stored_award(award, now=just_before).verdict == "valid"
    assert verdict_cache_key(award, just_before) != verdict_cache_key(award, just_after)
    report = verify_stored_award(award, now=just_after)
    assert (report.verdict, check(report, "validity")[0]) == ("invalid", "failed")
    assert len(calls) == 2
    # and before the start: never the cached "valid"
    assert check(verify_stored_award(award, now=award.issued_on - timedelta(days=2)), "validity")[0] == "failed"


def test_verdict_window_moves_on(award: Award) -> None:
    now = timezone.now()
    assert verdict_cache_key(award, now) != verdict_cache_key(award, now + timedelta(
        seconds=services.VERDICT_WINDOW + 1))


# == the public page ==========================================================================================


def test_revoking_shows_on_the_next_page_load(award: Award, owner: Any, client: Client) -> None:
    first = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    assert first.status_code == 200
    assert first.context is not None
    assert first.context["state"] == "valid"
    again = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    assert again.content == first.content  # the cached page

    revoke_award(actor=owner, award=_fresh(award), reason="Awarded in error.")
    after = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    assert after.status_code == 200
    assert after.content != first.content
    assert b"Awarded in error." in after.content
    assert after.context is not None
    assert after.context["state"] == "revoked"
    assert after.context["verdict"] == "invalid"


def test_suspend_and_unsuspend_show_on_the_next_page_load(award: Award, owner: Any, client: Client) -> None:
    valid = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    suspend_award(actor=owner, award=_fresh(award), reason="Under review.")
    suspended = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    assert suspended.context["state"] == "suspended"
    assert suspended.context["verdict"] == "invalid"
    unsuspend_award(actor=owner, award=_fresh(award))
    again = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    assert again.content == valid.content


def test_visibility_and_badge_edits_show_on_the_next_page_load(award: Award, client: Client) -> None:
    client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    Award.objects.filter(pk=award.pk).update(show_recipient_name=True)
    assert b"Ada Lovelace" in client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html").content
    badge = award.badge
    badge.name = "Renamed Badge"
    badge.save()
    assert b"Renamed Badge" in client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html").content
    Award.objects.filter(pk=award.pk).update(visibility="hidden")
    hidden = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    assert b"Renamed Badge" not in hidden.content


def test_a_signed_in_earner_is_never_served_the_shared_page(award: Award, client: Client, make_user: Any) -> None:
    client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")  # cached for visitors
    earner = make_user("ada@example.org")
    Award.objects.filter(pk=award.pk).update(earner=earner)
    client.force_login(earner)
    page = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    assert page.context is not None
    assert page.context["is_earner"] is True
    assert "private" in page["Cache-Control"]


def test_cached_page_views_are_counted(award: Award, client: Client) -> None:
    for _ in range(3):
        assert client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html").status_code == 200
    assert engagement.counts_for_award(award)["view"] == 3


def test_unknown_page_is_404(client: Client) -> None:
    assert client.get("/c/doesnotexist", HTTP_ACCEPT="text/html").status_code == 404


# == credential.json ==========================================================================================


def test_credential_json_etag_and_304(award: Award, client: Client) -> None:
    first = client.get(f"/c/{award.public_id}/credential.json")
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag == etag_for(first.content)
    assert first.json() == award.credential
    again = client.get(f"/c/{award.public_id}/credential.json")
    assert again.content == first.content
    assert again["ETag"] == etag
    not_modified = client.get(f"/c/{award.public_id}/credential.json", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert client.get(f"/c/{award.public_id}/credential.json", HTTP_IF_NONE_MATCH='"other"').status_code == 200
    negotiated = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="application/ld+json")
    assert negotiated.content == first.content
    assert negotiated["ETag"] == etag
    # downloads counted, 304s not
    rows = dict(EngagementCount.objects.filter(award=award, kind="download").values_list("channel", "count"))
    assert rows == {"json": 3}


def test_credential_json_of_an_unknown_award_is_404(client: Client) -> None:
    assert client.get("/c/nope/credential.json").status_code == 404


# == buffered engagement ======================================================================================


def test_buffered_counts_are_exact_once_flushed(award: Award, owner: Any, badge: Any, buffered: Any) -> None:
    other = issue_award(actor=owner, badge=badge, recipient="grace@example.org")
    today = timezone.now()
    yesterday = today - timedelta(days=1)
    EngagementCount.objects.create(award=award, kind="view", channel="", day=timezone.localdate(today), count=5)
    for _ in range(7):
        engagement.record_engagement(award, "view")
    for _ in range(2):
        engagement.record_engagement(award.pk, "view", now=yesterday)
    engagement.record_engagement(other, "share", "linkedin")
    engagement.record_engagement(other, "share", "x")
    engagement.record_engagement(other, "share", "x")

    assert EngagementCount.objects.filter(award=award, count__gt=5).count() == 0  # nothing written yet
    assert sum(engagement.pending().values()) == 12
    assert engagement.flush() == 12
    assert engagement.pending() == {}
    rows = {(r.award_id, r.kind, r.channel, r.day): r.count for r in EngagementCount.objects.all()}
    assert rows == {
        (award.pk, "view", "", timezone.localdate(today)): 12,
        (award.pk, "view", "", timezone.localdate(yesterday)): 2,
        (other.pk, "share", "linkedin", timezone.localdate(today)): 1,
        (other.pk, "share", "x", timezone.localdate(today)): 2,
    }
    assert engagement.flush() == 0  # nothing twice
    engagement.record_engagement(award, "view")
    assert engagement.flush() == 1
    assert EngagementCount.objects.get(award=award, kind="view", day=timezone.localdate(today)).count == 13


def test_readers_see_this_process_buffer(award: Award, buffered: Any) -> None:
    for _ in range(4):
        engagement.record_engagement(award, "download", "json")
    assert engagement.counts_for_award(award)["download"] == 4
    assert engagement.pending() == {}


def test_page_views_are_buffered_not_written(award: Award, client: Client, buffered: Any) -> None:
    for _ in range(5):
        client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
        client.get(f"/c/{award.public_id}/credential.json")
    assert not EngagementCount.objects.exists()
    assert engagement.flush() == 10
    assert dict(EngagementCount.objects.values_list("kind", "count")) == {"view": 5, "download": 5}


def test_flush_every_n_increments(award: Award) -> None:
    engagement.enable_buffering(flush_every=3, flush_seconds=3600, background=False)
    try:
        engagement.record_engagement(award, "view")
        engagement.record_engagement(award, "view")
        assert not EngagementCount.objects.exists()
        engagement.record_engagement(award, "view")
        assert EngagementCount.objects.get(award=award).count == 3
    finally:
        engagement.disable_buffering()


@pytest.mark.django_db(transaction=True)
def test_a_full_buffer_is_written_by_the_background_thread_not_the_request(award: Award,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    written_by: list[str] = []
    real_flush = engagement.flush

    def observed_flush() -> int:
        written_by.append(threading.current_thread().name)
        return real_flush()

    monkeypatch.setattr(engagement, "flush", observed_flush)
    engagement.enable_buffering(flush_every=3, flush_seconds=3600, background=True)
    try:
        for _ in range(3):
            engagement.record_engagement(award, "view")
        deadline = time.monotonic() + 10
        while not EngagementCount.objects.filter(award=award, count=3).exists():  # not the hour flush_seconds says
            assert time.monotonic() < deadline, "the background thread did not write the full buffer"
            time.sleep(0.01)
        assert written_by == ["engagement-flush"]  # the caller (a request) never wrote
    finally:
        engagement.disable_buffering()
    assert written_by[-1] == threading.current_thread().name  # disabling writes what is left, in the caller


def test_counts_of_a_deleted_award_are_dropped_not_retried(award: Award, owner: Any, badge: Any,
                                                           buffered: Any) -> None:
    other = issue_award(actor=owner, badge=badge, recipient="grace@example.org")
    engagement.record_engagement(award, "view")
    engagement.record_engagement(other.pk, "view")
    EngagementCount.objects.all().delete()
    Award.objects.filter(pk=other.pk).delete()
    assert engagement.flush() == 1
    assert dict(EngagementCount.objects.values_list("award_id", "count")) == {award.pk: 1}
    assert engagement.pending() == {}


def test_disable_buffering_flushes(award: Award) -> None:
    engagement.enable_buffering(flush_every=1000, flush_seconds=3600, background=False)
    engagement.record_engagement(award, "embed")
    engagement.disable_buffering()
    assert not engagement.buffering()
    assert EngagementCount.objects.get(award=award, kind="embed").count == 1
    engagement.record_engagement(award, "embed")  # unbuffered again: written at once
    assert EngagementCount.objects.get(award=award, kind="embed").count == 2


# == documents the verifier fetches in-process ================================================================


def test_cached_status_list_and_did_document_follow_their_versions(award: Award, owner: Any) -> None:
    from insignia.awards import credentials as documents
    from insignia.issuers.identity import did_document_url

    entries = award.credential["credentialStatus"]
    entries = entries if isinstance(entries, list) else [entries]
    list_url = next(e["statusListCredential"] for e in entries if e.get("statusPurpose") == "revocation")
    did_url = did_document_url(award.issuer)
    list_before, did_before = services.instance_fetch(list_url), services.instance_fetch(did_url)
    assert services.instance_fetch(list_url) == list_before
    assert services.instance_fetch(did_url) == did_before

    revoke_award(actor=owner, award=_fresh(award), reason="Error.")
    assert services.instance_fetch(list_url) != list_before  # the bit flipped: a new version, re-signed
    rotate_keys(actor=owner, issuer=award.issuer)
    did_after = services.instance_fetch(did_url)
    assert did_after != did_before
    assert len(json.loads(did_after)["verificationMethod"]) > len(json.loads(did_before)["verificationMethod"])
    assert documents.credential_url(award.public_id) in award.credential["id"]
