"""Lists that must stay fast over a million awards: the number of queries never grows with the page size, the
pages are right (first, next, deep, last, past the end; filters kept; counts bounded), and organisation totals
from the daily roll-up equal the sums of the per-award rows. No timings here: ``benchmarks/scale.py`` measures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from insignia.awards import queries, rollup
from insignia.awards import views as award_views
from insignia.awards.engagement import counts_for_organisation
from insignia.awards.models import Award, AwardStatus, EngagementCount, EngagementDaily, EngagementRolledDay
from insignia.awards.services import issue_award, revoke_award
from insignia.backpack import queries as wallet_queries
from insignia.backpack import services as wallet_services
from insignia.core.models import Role
from tests.platform.api_support import client_for as api_client_for
from tests.platform.backpack_support import client_for
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.platform.backpack_support"]


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def badge(owner):
    return make_badge(owner, make_issuer(owner))


def _issue(actor: Any, badge: Any, count: int, prefix: str = "learner", **fields: Any) -> list[Award]:
    return [issue_award(actor=actor, badge=badge, recipient=f"{prefix}{n}@example.org",
                        recipient_name=f"Learner {n}", **fields) for n in range(count)]


def _queries(run: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def _same_count_for_5_and_50(django_assert_max_num_queries: Any, grow: Any, run: Any) -> int:
    """Queries of ``run`` with 5 items on the page, then with 50: the same number, whatever it is."""
    grow(5)
    run()  # once first: once-a-minute writes (a token's last use) and caches are not what is counted
    small = _queries(run)
    grow(50)
    run()
    large = _queries(run)
    assert small == large, f"{small} queries for 5 items, {large} for 50"
    with django_assert_max_num_queries(small):
        run()
    return small


# -- the number of queries does not grow with the page size ------------------------------------------------------


def test_award_list_page_queries_do_not_grow_with_page_size(owner, badge, monkeypatch,
                                                            django_assert_max_num_queries) -> None:
    monkeypatch.setattr(award_views, "AWARDS_PER_PAGE", 50)
    client = Client()
    client.force_login(owner.user)
    url = f"/orgs/{owner.organisation.public_id}/awards/"
    made: list[Award] = []

    def grow(total: int) -> None:
        made.extend(_issue(owner, badge, total - len(made), prefix=f"g{len(made)}-"))
        revoke_award(actor=owner, award=made[-1], reason="Issued in error")

    def run() -> None:
        response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count("status-pill") == len(made)

    _same_count_for_5_and_50(django_assert_max_num_queries, grow, run)
    for params in ({"status": "revoked"}, {"q": "learner"}, {"badge": badge.public_id}, {"page": "last"}):
        assert client.get(url, params).status_code == 200


def test_api_award_list_queries_do_not_grow_with_limit(owner, badge, django_assert_max_num_queries) -> None:
    _issue(owner, badge, 50)
    api = api_client_for(owner, ["read"])
    limit = {"value": 5}

    def grow(total: int) -> None:
        limit["value"] = total

    def run() -> None:
        body = api.get("/awards", {"limit": limit["value"]}).json()
        assert len(body["items"]) == limit["value"]
        assert (body["count"], body["count_exact"]) == (50, True)

    _same_count_for_5_and_50(django_assert_max_num_queries, grow, run)


def test_wallet_queries_do_not_grow_with_page_size(owner, badge, earner, monkeypatch,
                                                   django_assert_max_num_queries) -> None:
    monkeypatch.setattr(wallet_queries, "WALLET_PAGE_SIZE", 50)
    ada = earner("ada@example.org")
    client = client_for(ada)
    made: list[Award] = []

    def grow(total: int) -> None:
        for award in _issue(owner, badge, total - len(made), prefix=f"w{len(made)}-"):
            made.append(award)
        # Half of them claimed (by ``earner``), half waiting under her verified address (hash-checked).
        for award in made:
            Award.objects.filter(pk=award.pk).update(recipient_identity="ada@example.org",
                                                     recipient_hash=_hash("ada@example.org", award))
        for award in made[: len(made) // 2]:
            if award.earner_id is None:
                wallet_services.accept_award(user=ada, award=Award.objects.get(pk=award.pk))

    def run() -> None:
        response = client.get("/wallet/")
        assert response.status_code == 200
        assert response.content.decode().count("<article class=\"badge-tile wallet-tile") == len(made)

    _same_count_for_5_and_50(django_assert_max_num_queries, grow, run)


def _hash(identity: str, award: Award) -> str:
    from insignia.credentials.model.identity import hash_identity

    return hash_identity(identity, award.recipient_salt)


def test_dashboard_queries_do_not_grow_with_awards(owner, badge, django_assert_max_num_queries) -> None:
    client = Client()
    client.force_login(owner.user)
    made: list[Award] = []

    def grow(total: int) -> None:
        made.extend(_issue(owner, badge, total - len(made), prefix=f"d{len(made)}-"))

    def run() -> None:
        assert client.get(f"/orgs/{owner.organisation.public_id}/").status_code == 200

    _same_count_for_5_and_50(django_assert_max_num_queries, grow, run)


# -- the pages are right -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count_limit", "ids_at_once"), [(1000, 0), (7, 0), (1000, 2000), (7, 2000)])
def test_every_page_holds_the_right_rows_counted_or_not(owner, badge, monkeypatch, count_limit, ids_at_once) -> None:
    """Page by page, forwards from the start and backwards from the end, equal to slicing the whole list (with
    the ids read page by page, or all at once for small limits)."""
    monkeypatch.setattr(queries, "IDS_AT_ONCE", ids_at_once)
    _issue(owner, badge, 23)
    everything = list(queries.awards_for(owner))
    for number in range(1, 6):
        page = queries.page_of(queries.awards_for(owner), number, 5, count_limit=count_limit)
        assert page.object_list == everything[(number - 1) * 5: number * 5]
        assert page.has_next == (number < 5)
        assert page.has_previous == (number > 1)
        assert page.count == (23 if count_limit > 23 else None)
    last = queries.page_of(queries.awards_for(owner), "last", 5, count_limit=count_limit)
    past = queries.page_of(queries.awards_for(owner), 99, 5, count_limit=count_limit)
    if count_limit > 23:  # counted: the last page is numbered and holds what is left
        assert (last.number, last.object_list, last.has_next, last.count) == (5, everything[20:], False, 23)
        assert (past.number, past.object_list) == (5, everything[20:])
    else:  # uncounted: the last page is the oldest five, numbered from the end, and nothing is counted
        assert (last.number, last.from_end, last.object_list, last.has_next, last.count) == (
            None, 1, everything[18:], False, None)
        assert last.has_previous
        assert (past.number, past.from_end, past.object_list) == (None, 1, everything[18:])
        # Typed pages counted from the end: four full pages before the oldest, then the start of the list.
        for back in range(1, 4):
            before = queries.page_of(queries.awards_for(owner), f"last-{back}", 5, count_limit=count_limit)
            assert (before.number, before.from_end) == (None, back + 1)
            assert before.object_list == everything[18 - 5 * back: 23 - 5 * back]
            assert before.has_next
            assert before.has_previous
        start = queries.page_of(queries.awards_for(owner), "last-4", 5, count_limit=count_limit)
        assert (start.number, start.object_list, start.has_previous, start.has_next) == (1, everything[:3], False,
                                                                                       True)
        beyond = queries.page_of(queries.awards_for(owner), "last-40", 5, count_limit=count_limit)
        assert (beyond.number, beyond.object_list) == (1, everything[:5])
    junk = queries.page_of(queries.awards_for(owner), "x", 5, count_limit=count_limit)
    assert (junk.number, junk.object_list) == (1, everything[:5])
    for typed in ("last-", "last-x", "lastly", "last-99999999"):
        assert queries.page_of(queries.awards_for(owner), typed, 5, count_limit=count_limit).number == 1


def test_list_rows_leave_the_signed_credential_unloaded(owner, badge) -> None:
    _issue(owner, badge, 2)
    rows = queries.page_of(queries.awards_for(owner), 1, 25).object_list
    assert {"credential", "jwt", "ob2_signed"} <= rows[0].get_deferred_fields()
    assert rows[0].badge.name == badge.name  # related rows come with the page, not one query per row


def test_award_list_pages_keep_filters_and_say_more_than_when_uncounted(owner, badge, monkeypatch) -> None:
    other = make_badge(owner, badge.issuer, name="Second badge")
    _issue(owner, other, 12)
    _issue(owner, badge, 2, prefix="ada")
    monkeypatch.setattr(award_views, "AWARDS_PER_PAGE", 5)
    client = Client()
    client.force_login(owner.user)
    url = f"/orgs/{owner.organisation.public_id}/awards/"
    first = client.get(url, {"badge": other.public_id}).content.decode()
    assert "Page 1 of 3" in first
    assert "(12 in all)" in first
    assert f"badge={other.public_id}&amp;page=2" in first  # next keeps the filter
    assert f"badge={other.public_id}&amp;page=3" in first  # so does the last page
    last = client.get(url, {"badge": other.public_id, "page": "last"}).content.decode()
    assert "Page 3 of 3" in last
    assert f"badge={other.public_id}&amp;page=2" in last
    assert last.count("status-pill") == 2
    monkeypatch.setattr(queries, "COUNT_LIMIT", 10)
    uncounted = client.get(url, {"page": 2}).content.decode()
    assert "Page 2 <span" in uncounted
    assert "more than 10 in all" in uncounted
    assert "page=last" in uncounted
    assert "page=3" in uncounted
    assert "page=1" in uncounted
    # "last" is not counted either: the oldest five awards, labelled without a page number or total.
    end = client.get(url, {"page": "last"}).content.decode()
    assert "Oldest awards" in end
    assert "more than 10 in all" in end
    assert " of " not in _status(end)
    assert end.count("status-pill") == 5
    assert _links(end, "next") is None
    assert "page=1" in end  # Newest
    assert "page=last-1&before=" in _links(end, "prev")
    before_end = client.get(f"{url}?{_links(end, 'prev')}").content.decode()
    assert "Page 2 from the end" in _status(before_end)
    assert before_end.count("status-pill") == 5


def _status(html: str) -> str:
    import re

    found = re.search(r'<span class="pagination-status">(.*?)</span></span>', html, re.S)
    assert found, "no pagination status"
    return found.group(1)


def _shown(html: str, url: str) -> list[str]:
    import re

    return re.findall(rf'href="{url}([0-9a-f]+)/"', html)


@pytest.mark.parametrize("count_limit", [1000, 4])
def test_previous_from_the_oldest_page_walks_back_to_the_start(owner, badge, monkeypatch, count_limit) -> None:
    """From the last page, Previous to the start, then Next back to the last page: every award once, in order,
    whether the list is counted (numbered pages) or not (pages numbered from its end, the first one short)."""
    made = _issue(owner, badge, 11)
    Award.objects.filter(pk__in=[a.pk for a in made[2:6]]).update(issued_on=made[0].issued_on)  # ties: by id
    monkeypatch.setattr(award_views, "AWARDS_PER_PAGE", 3)
    monkeypatch.setattr(queries, "COUNT_LIMIT", count_limit)
    client = Client()
    client.force_login(owner.user)
    url = f"/orgs/{owner.organisation.public_id}/awards/"
    expected = [a.public_id for a in queries.awards_for(owner)]
    html = client.get(url, {"page": "last", "status": "active"}).content.decode()
    statuses, backwards = [], []
    while True:
        backwards.append(_shown(html, url))
        statuses.append(_status(html).split(" <span")[0])
        previous = _links(html, "prev")
        if previous is None:
            break
        assert "status=active" in previous  # the filter stays
        html = client.get(f"{url}?{previous}").content.decode()
    assert [key for page in reversed(backwards) for key in page] == expected
    if count_limit == 4:
        assert statuses == ["Oldest awards", "Page 2 from the end", "Page 3 from the end", "Page 1"]
        assert [len(p) for p in backwards] == [3, 3, 3, 2]  # aligned on the oldest award
    else:
        assert statuses == ["Page 4 of 4", "Page 3 of 4", "Page 2 of 4", "Page 1 of 4"]
        assert [len(p) for p in backwards] == [2, 3, 3, 3]  # aligned on the newest award
    forwards = []
    while True:
        forwards.append(_shown(html, url))
        following = _links(html, "next")
        if following is None:
            break
        html = client.get(f"{url}?{following}").content.decode()
    assert forwards == list(reversed(backwards))
    assert _status(html).startswith("Page 4 <span" if count_limit == 4 else "Page 4 of 4")  # numbered from page 1


def test_api_list_bounds_its_count_and_follows_next_to_the_end(owner, badge, monkeypatch) -> None:
    _issue(owner, badge, 7)
    monkeypatch.setattr(queries, "COUNT_LIMIT", 5)
    api = api_client_for(owner, ["read"])
    seen: list[str] = []
    body = api.get("/awards", {"limit": 3}).json()
    assert (body["count"], body["count_exact"]) == (5, False)
    while True:
        seen += [item["id"] for item in body["items"]]
        if body["next"] is None:
            break
        body = api.get(body["next"].split("/api/v1", 1)[1]).json()
    assert seen == [a.public_id for a in queries.awards_for(owner)]
    counted = api.get("/awards", {"status": "revoked"}).json()
    assert (counted["count"], counted["count_exact"], counted["items"]) == (0, True, [])


def test_wallet_pages_keep_pending_apart_and_filters_in_links(owner, badge, earner, monkeypatch) -> None:
    monkeypatch.setattr(wallet_queries, "WALLET_PAGE_SIZE", 3)
    ada = earner("ada@example.org")
    made = [issue_award(actor=owner, badge=badge, recipient="ada@example.org") for _ in range(8)]
    for award in made[:6]:
        wallet_services.accept_award(user=ada, award=award)
    stranger = issue_award(actor=owner, badge=badge, recipient="ada@example.org")
    Award.objects.filter(pk=stranger.pk).update(recipient_hash="sha256$" + "0" * 64)  # identity and hash disagree
    first = wallet_queries.wallet_page(ada)
    assert (first.waiting, first.total, first.page.count, first.page.num_pages) == (2, 8, 6, 2)
    assert len(first.pending) == 1  # half a page of them at most, with a link to see all of them
    assert first.pending[0].key in {made[6].public_id, made[7].public_id}
    assert {e.key for e in wallet_queries.wallet_page(ada, status="pending").entries} == {made[6].public_id,
                                                                                         made[7].public_id}
    second = wallet_queries.wallet_page(ada, page=2)
    shown = [e.key for e in first.entries + second.entries]
    assert sorted(shown) == sorted(a.public_id for a in made[:6])
    assert stranger.public_id not in shown
    assert [e.key for e in wallet_queries.wallet_page(ada, page="last").entries] == [e.key for e in second.entries]
    html = client_for(ada).get("/wallet/", {"status": "active"}).content.decode()
    assert "Page 1 of 2" in html
    assert "status=active&amp;page=2" in html
    assert wallet_queries.wallet(ada)[0].key == first.pending[0].key
    assert "See all 2 badges waiting for you" in client_for(ada).get("/wallet/").content.decode()


# -- organisation totals from the daily roll-up -------------------------------------------------------------------


def test_organisation_totals_equal_the_per_award_sums(owner, badge, member, monkeypatch) -> None:
    other = member(Role.OWNER)
    mine = _issue(owner, badge, 3)
    theirs = _issue(other, make_badge(other, make_issuer(other)), 1, prefix="other")
    today = timezone.localdate()
    for age in range(0, 40):
        for n, award in enumerate(mine):
            EngagementCount.objects.create(award=award, kind="view", day=today - timedelta(days=age), count=n + age)
        EngagementCount.objects.create(award=theirs[0], kind="share", channel="x", day=today - timedelta(days=age),
                                       count=1000)

    def direct(organisation: Any, since: Any = None) -> int:
        rows = EngagementCount.objects.filter(award__organisation=organisation, kind="view")
        return sum(r.count for r in (rows.filter(day__gte=since) if since else rows))

    since = today - timedelta(days=30)
    assert counts_for_organisation(owner.organisation)["view"] == direct(owner.organisation)
    assert counts_for_organisation(owner.organisation, since=since)["view"] == direct(owner.organisation, since)
    assert counts_for_organisation(owner.organisation)["share"] == 0  # never another organisation's counts
    assert counts_for_organisation(other.organisation) == {"view": 0, "share": 40_000, "verify": 0,
                                                           "download": 0, "embed": 0}
    # Closed days were rolled for good; the open days (today, yesterday) are rolled too, and again when stale.
    assert EngagementRolledDay.objects.filter(closed=True).count() == 40 - rollup.LIVE_DAYS
    assert EngagementRolledDay.objects.filter(closed=False).count() == rollup.LIVE_DAYS
    assert rollup.roll_up() == 0  # nothing final to do, nothing stale
    EngagementCount.objects.filter(award=mine[0], kind="view", day=today).update(count=500)
    assert counts_for_organisation(owner.organisation)["view"] < direct(owner.organisation)  # within the minute
    monkeypatch.setattr(rollup, "OPEN_DAY_REFRESH_SECONDS", 0)
    assert counts_for_organisation(owner.organisation)["view"] == direct(owner.organisation)  # refreshed
    late_day = today - timedelta(days=10)
    EngagementCount.objects.filter(award=mine[0], kind="view", day=late_day).update(count=10_000)
    assert counts_for_organisation(owner.organisation)["view"] < direct(owner.organisation)  # a late write…
    rollup.reroll_day(late_day)
    assert counts_for_organisation(owner.organisation)["view"] == direct(owner.organisation)  # …re-rolled
    # Once today closes, its final roll-up replaces the open one.
    later = today + timedelta(days=rollup.LIVE_DAYS)
    assert rollup.roll_up(later) >= 1
    assert EngagementRolledDay.objects.get(day=today).closed
    assert EngagementDaily.objects.filter(organisation=owner.organisation, day=today, kind="view").get().count == (
        sum(r.count for r in EngagementCount.objects.filter(award__organisation=owner.organisation, day=today)))


def test_dashboard_stats_count_the_organisations_awards(owner, badge, member) -> None:
    from insignia.core.views import dashboard_stats

    made = _issue(owner, badge, 3)
    revoke_award(actor=owner, award=made[0], reason="Issued in error")
    other = member(Role.OWNER)
    _issue(other, make_badge(other, make_issuer(other)), 2, prefix="other")
    stats = dashboard_stats(owner.organisation, timezone.now())
    assert stats == {"badges": 1, "awards_this_month": 3, "revoked": 1}
    assert Award.objects.filter(status=AwardStatus.REVOKED).count() == 1


def _links(html: str, rel: str) -> str | None:
    import re
    from html import unescape

    found = re.search(rf'href="\?([^"]*)" rel="{rel}"', html)
    return unescape(found.group(1)) if found else None


@pytest.mark.parametrize("count_limit", [1000, 4])
def test_next_and_previous_links_walk_the_whole_list_by_cursor(owner, badge, monkeypatch, count_limit) -> None:
    """Following Next to the end, then Previous back to the start, shows every award once, in order."""
    made = _issue(owner, badge, 11)
    same_moment = made[0].issued_on  # ties on issued_on are broken by id, never skipped or repeated
    Award.objects.filter(pk__in=[a.pk for a in made[3:7]]).update(issued_on=same_moment)
    monkeypatch.setattr(award_views, "AWARDS_PER_PAGE", 3)
    monkeypatch.setattr(queries, "COUNT_LIMIT", count_limit)
    client = Client()
    client.force_login(owner.user)
    url = f"/orgs/{owner.organisation.public_id}/awards/"
    expected = [a.public_id for a in queries.awards_for(owner)]

    def shown(html: str) -> list[str]:
        import re

        return re.findall(rf'href="{url}([0-9a-f]+)/"', html)

    pages, html = [], client.get(url, {"q": "learner"}).content.decode()
    while True:
        pages.append(shown(html))
        following = _links(html, "next")
        if following is None:
            break
        assert "q=learner" in following  # the filter stays
        assert "after=" in following
        html = client.get(f"{url}?{following}").content.decode()
    assert [key for page in pages for key in page] == expected
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    backwards = []
    while True:
        backwards.append(shown(html))
        previous = _links(html, "prev")
        if previous is None:
            break
        html = client.get(f"{url}?{previous}").content.decode()
    assert backwards == list(reversed(pages))
    assert "Page 1" in html
    assert client.get(url, {"after": "not-a-cursor"}).status_code == 200  # ignored: the first page


def test_api_next_links_carry_a_cursor(owner, badge) -> None:
    _issue(owner, badge, 5)
    api = api_client_for(owner, ["read"])
    body = api.get("/awards", {"limit": 2}).json()
    assert "after=" in body["next"]
    seen = []
    while True:
        seen += [item["id"] for item in body["items"]]
        if body["next"] is None:
            break
        body = api.get(body["next"].split("/api/v1", 1)[1]).json()
    assert seen == [a.public_id for a in queries.awards_for(owner)]


def test_a_recipient_search_counts_less_far(owner, badge, monkeypatch) -> None:
    _issue(owner, badge, 8)
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", 5)
    monkeypatch.setattr(award_views, "AWARDS_PER_PAGE", 3)
    client = Client()
    client.force_login(owner.user)
    url = f"/orgs/{owner.organisation.public_id}/awards/"
    assert "more than 5 in all" in client.get(url, {"q": "learner"}).content.decode()
    assert "(8 in all)" in client.get(url).content.decode()  # the unsearched list counts as far as ever
