"""The award list, the wallet and the analytics counts read the same number of queries whatever the page size, on
every kind of page (first, by number, by Next and Previous links, last, filtered), while showing the rows the page
size asks for. No timings here: ``benchmarks/scale.py`` measures over a million awards."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from insignia.awards import engagement, rollup
from insignia.awards import views as award_views
from insignia.awards.models import Award, EngagementCount
from insignia.awards.services import issue_award, revoke_award
from insignia.backpack import queries as wallet_queries
from insignia.backpack import services as wallet_services
from insignia.core.models import Role
from tests.platform.backpack_support import client_for
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.platform.backpack_support"]

SMALL, LARGE = 4, 12


def _queries(run: Any) -> tuple[int, Any]:
    run()  # once first: once-a-minute writes and warm caches are not what is counted
    with CaptureQueriesContext(connection) as captured:
        result = run()
    return len(captured.captured_queries), result


def _link(html: str, rel: str) -> str:
    found = re.search(rf'href="\?([^"]*)" rel="{rel}"', html)
    assert found, f"no {rel} link"
    return unescape(found.group(1))


# -- the issuer's award list ---------------------------------------------------------------------------------------


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def listed(owner) -> dict[str, Any]:
    """30 awards of two badges, 3 of them revoked."""
    issuer = make_issuer(owner)
    first, second = make_badge(owner, issuer), make_badge(owner, issuer, name="Second badge")
    made = [issue_award(actor=owner, badge=first if n % 3 else second, recipient=f"learner{n}@example.org",
                        recipient_name=f"Learner {n}") for n in range(30)]
    for award in made[:3]:
        revoke_award(actor=owner, award=award, reason="Issued in error")
    client = Client()
    client.force_login(owner.user)
    return {"client": client, "url": f"/orgs/{owner.organisation.public_id}/awards/", "second": second}


def _award_list_pages(listed: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each kind of page and its query string; the Next and Previous links are followed from the page before."""
    client, url = listed["client"], listed["url"]

    def follow(params: dict[str, str], rel: str) -> dict[str, str]:
        html = client.get(url, params).content.decode()
        return dict(part.split("=", 1) for part in _link(html, rel).split("&"))

    second_page = follow({}, "next")
    return {
        "first": {},
        "second by number": {"page": "2"},
        "second by Next": second_page,
        "second by Previous": follow(follow(second_page, "next"), "prev"),
        "third by number": {"page": "3"},  # past the middle; for the larger size, the last page
        "last": {"page": "last"},
        "revoked": {"status": "revoked"},
        "active": {"status": "active"},
        "search": {"q": "learner1"},
        "search, second page": {"q": "learner", "page": "2"},
        "one badge": {"badge": listed["second"].public_id},
    }


def test_award_list_queries_do_not_grow_with_the_page_size(listed, monkeypatch) -> None:
    client, url = listed["client"], listed["url"]
    counted: dict[int, dict[str, tuple[int, int]]] = {}
    for size in (SMALL, LARGE):
        monkeypatch.setattr(award_views, "AWARDS_PER_PAGE", size)
        counted[size] = {}
        for name, params in _award_list_pages(listed).items():
            def run(params: dict[str, str] = params) -> int:
                response = client.get(url, params)
                assert response.status_code == 200
                return response.content.decode().count("status-pill")
            counted[size][name] = _queries(run)
    for name in counted[SMALL]:
        small, large = counted[SMALL][name], counted[LARGE][name]
        # Never more with the larger page (one fewer where the larger page is the last one: read at once).
        assert large[0] <= small[0], f"{name}: {small[0]} queries with {SMALL} rows a page, {large[0]} with {LARGE}"
    assert all(counted[SMALL][name][0] == counted[LARGE][name][0] for name in ("first", "second by number",
                                                                              "second by Next", "last"))
    # The pages really were of different sizes.
    assert (counted[SMALL]["first"][1], counted[LARGE]["first"][1]) == (SMALL, LARGE)
    assert (counted[SMALL]["second by Next"][1], counted[LARGE]["second by Next"][1]) == (SMALL, LARGE)
    assert (counted[SMALL]["last"][1], counted[LARGE]["last"][1]) == (30 - 7 * SMALL, 30 - 2 * LARGE)
    assert counted[SMALL]["revoked"][1] == counted[LARGE]["revoked"][1] == 3
    assert (counted[SMALL]["search, second page"][1], counted[LARGE]["search, second page"][1]) == (SMALL, LARGE)


def test_uncounted_award_list_pages_queries_do_not_grow_with_the_page_size(listed, monkeypatch) -> None:
    """Over the count limit, the oldest page and the pages before it (by Previous or typed) are read from the far
    end: no exact count, and the same queries whatever the page size."""
    from insignia.awards import queries as award_queries

    monkeypatch.setattr(award_queries, "COUNT_LIMIT", 5)
    client, url = listed["client"], listed["url"]
    counted: dict[int, dict[str, tuple[int, int]]] = {}
    for size in (SMALL, LARGE):
        monkeypatch.setattr(award_views, "AWARDS_PER_PAGE", size)
        oldest = client.get(url, {"page": "last"}).content.decode()
        pages = {
            "first": {}, "second by number": {"page": "2"}, "oldest": {"page": "last"},
            "before the oldest by Previous": dict(part.split("=", 1) for part in _link(oldest, "prev").split("&")),
            "before the oldest typed": {"page": "last-1"}, "past the end typed": {"page": "99"},
            "oldest revoked": {"status": "revoked", "page": "last"},
        }
        counted[size] = {}
        for name, params in pages.items():
            def run(params: dict[str, str] = params) -> tuple[int, str]:
                response = client.get(url, params)
                assert response.status_code == 200
                html = response.content.decode()
                return html.count("status-pill"), _status(html)
            counted[size][name] = _queries(run)
            exact = [sql for sql in _sql(run) if 'COUNT(*) AS "__count" FROM "awards_award"' in sql]
            assert not exact, f"{name}: an exact count"
    for name in counted[SMALL]:
        small, large = counted[SMALL][name], counted[LARGE][name]
        assert small[0] == large[0], f"{name}: {small[0]} queries with {SMALL} rows a page, {large[0]} with {LARGE}"
    for size in (SMALL, LARGE):
        assert counted[size]["oldest"][1] == (size, 'Oldest awards <span class="muted">(more than 5 in all)')
        assert counted[size]["before the oldest by Previous"][1][0] == size
        assert counted[size]["before the oldest typed"][1] == counted[size]["before the oldest by Previous"][1]
        assert counted[size]["past the end typed"][1] == counted[size]["oldest"][1]
        assert counted[size]["oldest revoked"][1][0] == 3  # counted (3 ≤ 5): the numbered last page
    assert counted[SMALL]["before the oldest typed"][1][1].startswith("Page 2 from the end")
    assert counted[LARGE]["before the oldest typed"][1][1].startswith("Page 2 from the end")


def _status(html: str) -> str:
    found = re.search(r'<span class="pagination-status">(.*?)</span></span>', html, re.S)
    return re.sub(r"\s+", " ", found.group(1)) if found else ""


def _sql(run: Any) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    return [query["sql"] for query in captured.captured_queries]


def test_award_list_pages_link_each_award_and_its_moment(listed, monkeypatch) -> None:
    """The rows' detail links and ``<time datetime>`` are the awards' own (the page builds them cheaply)."""
    monkeypatch.setattr(award_views, "AWARDS_PER_PAGE", SMALL)
    html = listed["client"].get(listed["url"]).content.decode()
    shown = Award.objects.order_by("-issued_on", "-id")[:SMALL]
    for award in shown:
        detail = reverse("awards:detail", args=[award.organisation.public_id, award.public_id])
        assert f'href="{detail}"' in html
        assert f'datetime="{award.issued_on.isoformat()}"' in html
    assert html.count('<th scope="row"><a href=') == SMALL


# -- the earner's wallet -------------------------------------------------------------------------------------------


@pytest.fixture
def wallet_of(issuer_actor, badge, earner) -> dict[str, Any]:
    """Ada's wallet: 30 awards, 18 accepted (6 of them in a collection, 2 revoked) and 12 waiting for her."""
    ada = earner("ada@example.org")
    other = make_badge(issuer_actor, badge.issuer, name="Cloud Basics", image="none")
    made = [issue_award(actor=issuer_actor, badge=badge if n % 2 else other, recipient="ada@example.org",
                        recipient_name="Ada Lovelace") for n in range(30)]
    for award in made[:18]:
        wallet_services.accept_award(user=ada, award=award)
    for award in made[:2]:
        revoke_award(actor=issuer_actor, award=award, reason="Issued in error")
    shelf = wallet_services.create_collection(user=ada, name="Shelf")
    for award in made[2:8]:
        wallet_services.add_to_collection(user=ada, collection=shelf, award=award.public_id)
    for n, award in enumerate(made[:10]):
        engagement.record_engagement(award, "view")
        for _ in range(n):
            engagement.record_engagement(award, "share", "linkedin")
    return {"user": ada, "client": client_for(ada), "made": made, "shelf": shelf}


TILE = '<article class="badge-tile wallet-tile'


def test_wallet_queries_do_not_grow_with_the_page_size(wallet_of, monkeypatch) -> None:
    client = wallet_of["client"]
    pages = {
        "first": {}, "second": {"page": "2"}, "last": {"page": "last"}, "pending": {"status": "pending"},
        "pending, second page": {"status": "pending", "page": "2"}, "active": {"status": "active"},
        "revoked": {"status": "revoked"}, "search": {"q": "cloud"}, "collection": {"collection":
                                                                                    wallet_of["shelf"].public_id},
        "origin": {"origin": "insignia"},
    }
    counted: dict[int, dict[str, tuple[int, int]]] = {}
    for size in (SMALL, LARGE):
        monkeypatch.setattr(wallet_queries, "WALLET_PAGE_SIZE", size)
        counted[size] = {}
        for name, params in pages.items():
            def run(params: dict[str, str] = params) -> int:
                response = client.get("/wallet/", params)
                assert response.status_code == 200
                return response.content.decode().count(TILE)
            counted[size][name] = _queries(run)
    for name in pages:
        small, large = counted[SMALL][name], counted[LARGE][name]
        assert small[0] == large[0], f"{name}: {small[0]} queries with {SMALL} a page, {large[0]} with {LARGE}"
    # Unfiltered: half a page of the 12 waiting badges above a page of the 18 others.
    assert (counted[SMALL]["first"][1], counted[LARGE]["first"][1]) == (SMALL // 2 + SMALL, LARGE // 2 + LARGE)
    assert (counted[SMALL]["pending"][1], counted[LARGE]["pending"][1]) == (SMALL, LARGE)
    assert counted[SMALL]["collection"][1] == SMALL
    assert counted[LARGE]["collection"][1] == 6
    assert counted[SMALL]["revoked"][1] == counted[LARGE]["revoked"][1] == 2


def test_wallet_page_entries_carry_the_same_links_and_counts_as_one_by_one(wallet_of) -> None:
    """A page's entries (built together: one reversal per kind of link, counts in one query) equal entries built
    one at a time, and list the same awards as :func:`wallet_awards`."""
    ada = wallet_of["user"]
    page = wallet_queries.wallet_page(ada, per_page=30)
    shown = page.pending + page.entries
    assert len(shown) == 30
    awards = {award.public_id: award for award in wallet_queries.wallet_awards(ada)}
    assert [row.pk for row in wallet_queries.wallet_rows(ada)] == [a.pk for a in wallet_queries.wallet_awards(ada)]
    counts = wallet_queries.engagement_counts(a.pk for a in awards.values())
    for entry in shown:
        alone = wallet_queries.award_entry(awards[entry.key], counts[awards[entry.key].pk])
        assert (entry.url, entry.public_url, entry.image_url, entry.status, entry.counts, entry.name,
                entry.issuer_name, entry.origin_label) == (alone.url, alone.public_url, alone.image_url,
                                                          alone.status, alone.counts, alone.name, alone.issuer_name,
                                                          alone.origin_label)
        assert entry.url == reverse("backpack:award", args=[entry.key])
    with_image = [entry for entry in shown if entry.image_url]
    assert 0 < len(with_image) < len(shown)  # one badge has an image, the other none
    assert sum(entry.shares for entry in shown) == sum(range(10))


def test_wallet_never_lists_an_award_whose_identity_and_hash_disagree(wallet_of, issuer_actor, badge) -> None:
    ada = wallet_of["user"]
    stranger = issue_award(actor=issuer_actor, badge=badge, recipient="ada@example.org")
    Award.objects.filter(pk=stranger.pk).update(recipient_hash="sha256$" + "0" * 64)
    assert stranger.pk not in {row.pk for row in wallet_queries.wallet_rows(ada)}
    page = wallet_queries.wallet_page(ada, status="pending", per_page=50)
    assert stranger.public_id not in {entry.key for entry in page.entries}
    assert len(page.entries) == 12


# -- analytics counts ----------------------------------------------------------------------------------------------


def test_engagement_counts_do_not_grow_with_the_number_of_awards(owner, member, monkeypatch) -> None:
    """Per-award counts for 5 or 40 awards, and an organisation's totals over 5 or 40 awards (all time and recent)."""
    today = timezone.localdate()
    worlds = {}
    for actor, total in ((owner, 5), (member(Role.OWNER), 40)):
        badge = make_badge(actor, make_issuer(actor), image="none")
        made = [issue_award(actor=actor, badge=badge, recipient=f"r{n}@example.org") for n in range(total)]
        for n, award in enumerate(made):
            for age in range(0, 10, 3):
                EngagementCount.objects.create(award=award, kind="view", day=today - timedelta(days=age), count=n)
        worlds[total] = (actor.organisation, [award.pk for award in made])
    rollup.roll_up()
    monkeypatch.setattr(rollup, "OPEN_DAY_REFRESH_SECONDS", 0)  # the open days are re-rolled on every read
    counted = {}
    for total, (organisation, ids) in worlds.items():
        by_award = _queries(lambda ids=ids: engagement.counts_for_awards(ids))
        everything = _queries(lambda o=organisation: engagement.counts_for_organisation(o))
        recent = _queries(lambda o=organisation: engagement.counts_for_organisation(o, since=today - timedelta(days=4)))
        counted[total] = (by_award[0], everything[0], recent[0])
        assert sum(c["view"] for c in by_award[1].values()) == everything[1]["view"] == 4 * sum(range(total))
        assert recent[1]["view"] == 2 * sum(range(total))
    assert counted[5] == counted[40]
