"""Scale benchmark: the issuer's award list, the earner's wallet and the analytics counts over a million awards.

``python -m benchmarks.scale [--postgres URL] [--awards N] [--runs 50] [--reseed] [--seed-only] [--json PATH]``

Seeds a PostgreSQL database (default ``postgres://postgres@127.0.0.1:5432/hscale``; it is created when missing)
with one large organisation and a few small ones, their issuers and badges, ``N`` awards, two engagement rows
per award on average over 90 days, and one earner holding about 200 awards across organisations (some claimed,
some waiting under their verified email addresses and web address). The awards are written with ``COPY``: one
really signed credential is the template, with its id and recipient substituted per row (this measures
queries, not signing). Secondary indexes are dropped for the load and rebuilt from their own definitions.
A database already seeded is reused (whatever its ``N``) unless ``--reseed``.

Then each measured operation runs ``--runs`` times (after two warm-up runs) at two levels: the query layer
(``insignia.awards.queries``, ``insignia.backpack.queries``, ``insignia.awards.engagement``) and the whole view
through Django's test ``Client``, signed in, with templates rendered. The table gives p50 and p95 in
milliseconds against the target of issue 6 (p95 ≤ 100 ms) and the number of SQL queries of one run.

Deep pages are measured as people and integrations reach them: by the list's Next link and the API's ``next``
(keyset cursors). The rows marked "typed" jump to offset 500,000 by number, the worst case (an index-only scan
over half a million entries); they are shown for information and have no target. The exit status is 1 when a
targeted figure misses.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hscale"
TARGET_MS = 100.0
SEED_MARK = "insignia-scale-benchmark"
#: Share of the awards that the large organisation holds; the rest go to the small ones.
MAIN_SHARE = 0.85
SMALL_ORGS = 4
EARNER_AWARDS = 200
ENGAGEMENT_DAYS = 90
ENGAGEMENT_KINDS = (("view", ""), ("share", "linkedin"), ("verify", "api"), ("download", ""), ("embed", ""))
NOW = datetime.now(UTC)


def _ensure_database(url: str, *, fresh: bool) -> None:
    """Create the database when missing (or drop and create it for ``fresh``)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insignia.site.settings")
    import django

    django.setup()


# -- seeding -----------------------------------------------------------------------------------------------------


@dataclass
class World:
    """What the measurements need from the seeded database."""

    owner: Any
    organisation: Any
    earner: Any
    search_term: str
    award_count: int


def _seeded_count() -> int | None:
    from django.db import connection

    from insignia.core.models import Organisation

    if "core_organisation" not in connection.introspection.table_names():
        return None

    org = Organisation.objects.filter(slug=SEED_MARK).first()
    if org is None:
        return None
    from insignia.awards.models import Award

    return Award.objects.count()


def _copy_rows(table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    """Write rows with PostgreSQL ``COPY … FROM STDIN`` through Django's own connection."""
    from django.db import connection

    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor
        sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        with raw.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
    return written


def _run_sql(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _drop_secondary_indexes(table: str) -> list[str]:
    """Drop the indexes that back no constraint (a bulk load then builds each once); returns how to rebuild them.

    The migrations made them; the statements returned are PostgreSQL's own definitions, so the rebuilt
    indexes are exactly the migrated ones.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", [table])
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in found]


def _new_org_world(name: str, slug: str, email: str, badges: int) -> tuple[Any, list[Any], list[Any]]:
    """An organisation with an owner, two issuers and some published badges."""
    from django.contrib.auth import get_user_model

    from insignia.badges.models import BadgeClass, BadgeStatus
    from insignia.core.services import create_organisation
    from insignia.issuers.services import create_issuer

    user = get_user_model().objects.create_user(email, password="scale benchmark password")
    actor = create_organisation(user=user, name=name)
    actor.organisation.slug = slug
    actor.organisation.save(update_fields=["slug"])
    issuers = [create_issuer(actor=actor, name=f"{name} {part}", url=f"https://{slug}.example/{n}",
                             email=f"badges{n}@{slug}.example") for n, part in enumerate(("Faculty", "Extension"))]
    made = [BadgeClass.objects.create(organisation=actor.organisation, issuer=issuers[n % len(issuers)],
                                      name=f"{name} badge {n + 1}", description="A benchmark badge.",
                                      criteria_narrative="Pass the assessment.", status=BadgeStatus.PUBLISHED)
            for n in range(badges)]
    return actor, issuers, made


def _status_lists(issuer: Any, purpose: str, entries: int) -> list[Any]:
    from insignia.awards.models import StatusList

    size = 131_072
    return [StatusList.objects.create(issuer=issuer, purpose=purpose, size=size, bits=bytes(size // 8),
                                      allocated=size) for _ in range(max(1, math.ceil(entries / size)))]


def seed(total: int) -> None:
    """Fill the database: see the module docstring. Prints how long each part took."""
    from allauth.account.models import EmailAddress
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from insignia.awards.models import Award
    from insignia.awards.rollup import roll_up
    from insignia.awards.services import issue_award
    from insignia.backpack.models import EarnerIdentity
    from insignia.credentials.model.identity import hash_identity

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"  migrate: {time.perf_counter() - started:.1f} s", flush=True)
    mark = time.perf_counter()
    rng = random.Random(6)
    main_actor, _, main_badges = _new_org_world("Scale University", SEED_MARK, "owner@scale.example", 20)
    worlds = [(main_actor, main_badges)]
    for n in range(SMALL_ORGS):
        actor, _, badges = _new_org_world(f"Small College {n + 1}", f"small-college-{n + 1}",
                                          f"owner{n + 1}@small{n + 1}.example", 3)
        worlds.append((actor, badges))
    template_award = issue_award(actor=main_actor, badge=main_badges[0], recipient="template@scale.example",
                                 recipient_name="Template Recipient")
    template = json.dumps(template_award.credential)
    template_id = template_award.public_id
    template_hash = template_award.recipient_hash
    Award.objects.filter(pk=template_award.pk).delete()

    from django.contrib.auth import get_user_model

    earner = get_user_model().objects.create_user("earner@person.example",
                                                  password="scale benchmark password")
    earner_emails = ["earner@person.example", "e.arner@work.example"]
    for n, email in enumerate(earner_emails):
        EmailAddress.objects.create(user=earner, email=email, verified=True, primary=n == 0)
    EarnerIdentity.objects.create(user=earner, kind="url", value="https://earner.example/", verified_at=NOW)
    print(f"  organisations, issuers, badges, template credential: {time.perf_counter() - mark:.1f} s", flush=True)

    # Which rows belong to the earner: 200 spread over the whole range, about 60% already claimed.
    earner_rows = set(rng.sample(range(total), min(EARNER_AWARDS, total)))
    main_count = int(total * MAIN_SHARE)
    lists: dict[int, tuple[list[Any], list[Any]]] = {}
    issuers_of = {}
    for _, badges in worlds:
        for badge in badges:
            issuers_of[badge.pk] = badge.issuer
    per_issuer: dict[int, int] = {}
    plan: list[tuple[Any, Any]] = []  # (organisation, badge) per row, decided up front
    for row in range(total):
        if row in earner_rows:  # the earner's awards come from every organisation
            actor, badges = worlds[row % len(worlds)]
        else:
            actor, badges = worlds[0] if row < main_count else worlds[1 + row % SMALL_ORGS]
        badge = badges[rng.randrange(len(badges))]
        plan.append((actor.organisation, badge))
        issuer = issuers_of[badge.pk]
        per_issuer[issuer.pk] = per_issuer.get(issuer.pk, 0) + 1
    issuer_rows = {}
    for _, badge in plan:
        issuer_rows.setdefault(issuers_of[badge.pk].pk, issuers_of[badge.pk])
    for pk, issuer in issuer_rows.items():
        lists[pk] = (_status_lists(issuer, "revocation", per_issuer[pk]),
                     _status_lists(issuer, "suspension", per_issuer[pk]))
    used = dict.fromkeys(issuer_rows, 0)

    span = timedelta(days=3 * 365).total_seconds()
    columns = ["organisation_id", "badge_id", "issuer_id", "public_id", "recipient_kind", "recipient_identity",
               "recipient_salt", "recipient_hash", "recipient_name", "narrative", "evidence", "issued_on",
               "expires_on", "credential", "credential_id", "status", "status_reason", "status_changed_at",
               "revocation_list_id", "revocation_index", "suspension_list_id", "suspension_index", "acceptance",
               "accepted_at", "earner_id", "visibility", "show_recipient_name", "idempotency_key",
               "request_fingerprint", "created_at", "jwt", "ob2_signed"]
    size = 131_072

    def rows() -> Iterator[tuple[Any, ...]]:
        for row, (organisation, badge) in enumerate(plan):
            issuer = issuers_of[badge.pk]
            public_id = hashlib.blake2b(f"scale-{row}".encode(), digest_size=12).hexdigest()
            issued = NOW - timedelta(seconds=rng.random() * span)
            salt = hashlib.blake2b(f"salt-{row}".encode(), digest_size=16).hexdigest()
            name = "" if row % 3 == 0 else f"Learner {row} Example"
            kind, identity, earner_id, acceptance, accepted = "email", f"learner{row}@school{row % 97}.example", \
                None, "pending", None
            if row in earner_rows:
                claimed = row % 5 < 3
                kind, identity = (("url", "https://earner.example/") if row % 7 == 0
                                  else ("email", earner_emails[row % 2]))
                if claimed:
                    earner_id, acceptance, accepted = earner.pk, "accepted", issued + timedelta(days=1)
            elif row % 4 == 0:
                acceptance, accepted = "accepted", issued + timedelta(days=2)
            roll = rng.random()
            status, reason, changed = "active", "", None
            if roll < 0.015:
                status, reason, changed = "revoked", "Issued in error.", issued + timedelta(days=30)
            elif roll < 0.02:
                status, reason, changed = "suspended", "Under review.", issued + timedelta(days=10)
            expires = issued + timedelta(days=730) if row % 5 == 0 else None
            n = used[issuer.pk]
            used[issuer.pk] += 1
            revocation, suspension = lists[issuer.pk]
            credential_id = f"{template_award.credential_id.rsplit('/c/', 1)[0]}/c/{public_id}"
            hashed = hash_identity(identity, salt)
            document = template.replace(template_id, public_id).replace(template_hash, hashed)
            yield (organisation.pk, badge.pk, issuer.pk, public_id, kind, identity, salt, hashed, name, "", "[]",
                   issued, expires, document, credential_id, status,
                   reason, changed, revocation[n // size].pk, n % size, suspension[n // size].pk, n % size,
                   acceptance, accepted, earner_id, "unlisted", False, "", "", issued, "", "")

    mark = time.perf_counter()
    rebuild = _drop_secondary_indexes("awards_award")
    written = _copy_rows("awards_award", columns, rows())
    seconds = time.perf_counter() - mark
    print(f"  {written:,} awards with COPY: {seconds:.1f} s ({written / seconds:,.0f} rows/s)", flush=True)
    mark = time.perf_counter()
    _run_sql(["SET maintenance_work_mem = '256MB'", *rebuild])
    print(f"  {len(rebuild)} award indexes built after the load: {time.perf_counter() - mark:.1f} s", flush=True)

    mark = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM awards_award")
        low, high = cursor.fetchone()
    today = timezone.localdate()

    def engagement() -> Iterator[tuple[Any, ...]]:
        # Two rows per award on average: a random half of the awards get four rows each.
        for award_id in range(low, high + 1):
            if rng.random() >= 0.5:
                continue
            for k in rng.sample(range(len(ENGAGEMENT_KINDS)), 4):
                kind, channel = ENGAGEMENT_KINDS[k]
                day = today - timedelta(days=rng.randrange(ENGAGEMENT_DAYS))
                yield award_id, kind, channel, day, rng.randint(1, 40)

    engaged = _copy_rows("awards_engagementcount", ["award_id", "kind", "channel", "day", "count"], engagement())
    print(f"  {engaged:,} engagement rows with COPY: {time.perf_counter() - mark:.1f} s", flush=True)

    mark = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE awards_award")
        cursor.execute("VACUUM ANALYZE awards_engagementcount")
    print(f"  VACUUM ANALYZE: {time.perf_counter() - mark:.1f} s", flush=True)
    mark = time.perf_counter()
    days = roll_up()
    print(f"  first engagement roll-up ({days} closed days, once): {time.perf_counter() - mark:.1f} s", flush=True)
    print(f"  seeding took {time.perf_counter() - started:.1f} s in all", flush=True)


def world() -> World:
    from django.contrib.auth import get_user_model

    from insignia.awards.models import Award
    from insignia.core.models import Membership, Organisation

    organisation = Organisation.objects.get(slug=SEED_MARK)
    owner = Membership.objects.filter(organisation=organisation).select_related("user").first().user
    earner = get_user_model().objects.get(email="earner@person.example")
    return World(owner=owner, organisation=organisation, earner=earner, search_term="learner4242",
                 award_count=Award.objects.count())


# -- measuring ---------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    level: str
    p50: float
    p95: float
    queries: int

    @property
    def targeted(self) -> bool:
        return "typed" not in self.name

    @property
    def ok(self) -> bool:
        return self.p95 <= TARGET_MS or not self.targeted


def _measure(name: str, level: str, operation: Callable[[], Any], runs: int) -> Result:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        operation()
    with CaptureQueriesContext(connection) as captured:
        operation()
    queries = len(captured.captured_queries)
    reset_queries()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        operation()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
    return Result(name, level, statistics.median(times), p95, queries)


def measurements(w: World) -> list[tuple[str, str, Callable[[], Any]]]:
    """(name, level, operation) for every figure."""
    from django.test import Client
    from django.utils import timezone

    from insignia.awards import engagement, queries
    from insignia.backpack import queries as wallet_queries
    from insignia.core.tenancy import actor_for
    from insignia.core.views import dashboard_stats

    actor = actor_for(w.owner, w.organisation.public_id)
    org = w.organisation.public_id
    issuer_client = Client()
    issuer_client.force_login(w.owner)
    earner_client = Client()
    earner_client.force_login(w.earner)
    api_headers = {"HTTP_AUTHORIZATION": f"Bearer {_api_token(actor)}"}
    per_page = 25
    deep = 20_000  # offset 500,000 in the large organisation
    first_ids = [a.pk for a in queries.page_of(queries.awards_for(actor), 1, per_page).object_list]
    one_award = queries.page_of(queries.awards_for(actor), 1, 1).object_list[0]
    since = timezone.localdate() - timedelta(days=30)
    # Where the Next link of page 19,999 (and the API's `next` at offset 500,000) points: measured as a user and
    # an integration reach them; the by-number rows are the worst case (a typed URL).
    before_deep = queries.page_of(queries.awards_for(actor), deep - 1, per_page, keyset="issued_on")
    after_deep = before_deep.next_cursor
    api_after = queries.page_of(queries.awards_for(actor), 10_000, 50, keyset="issued_on").next_cursor

    def listing(page: Any, after: str = "", **filters: str) -> Callable[[], Any]:
        def run() -> Any:
            found = queries.page_of(queries.for_listing(queries.awards_for(actor, **filters)), page, per_page,
                                    keyset="issued_on", after=after,
                                    count_limit=queries.SEARCH_COUNT_LIMIT if filters.get("search") else None)
            return [(award.badge.name, queries.display_state(award)) for award in found.object_list]
        return run

    def view(client: Any, path: str, **extra: Any) -> Callable[[], Any]:
        def run() -> Any:
            response = client.get(path, **extra)
            assert response.status_code == 200, (path, response.status_code)
            return response
        return run

    base = f"/orgs/{org}/awards/"
    return [
        ("award list, page 1", "query", listing(1)),
        ("award list, page 1", "view", view(issuer_client, base)),
        (f"award list, page {deep:,} via Next", "query", listing(deep, after=after_deep)),
        (f"award list, page {deep:,} via Next", "view", view(issuer_client, f"{base}?page={deep}&after={after_deep}")),
        (f"award list, page {deep:,} typed", "query", listing(deep)),
        (f"award list, page {deep:,} typed", "view", view(issuer_client, f"{base}?page={deep}")),
        ("award list, last page", "query", listing("last")),
        ("award list, last page", "view", view(issuer_client, f"{base}?page=last")),
        ("award list, status revoked", "query", listing(1, status="revoked")),
        ("award list, status revoked", "view", view(issuer_client, f"{base}?status=revoked")),
        ("award list, status active", "view", view(issuer_client, f"{base}?status=active")),
        ("award list, search (rare)", "query", listing(1, search=w.search_term)),
        ("award list, search (rare)", "view", view(issuer_client, f"{base}?q={w.search_term}")),
        ("award list, search (common)", "view", view(issuer_client, f"{base}?q=school4")),
        ("API list, first 50", "view", view(issuer_client, "/api/v1/awards", **api_headers)),
        ("API list, next at 500,000", "view",
         view(issuer_client, f"/api/v1/awards?offset=500000&after={api_after}", **api_headers)),
        ("API list, offset 500,000 typed", "view",
         view(issuer_client, "/api/v1/awards?offset=500000", **api_headers)),
        ("API list, status revoked", "view", view(issuer_client, "/api/v1/awards?status=revoked", **api_headers)),
        ("earner's wallet, page 1", "query", lambda: wallet_queries.wallet_page(w.earner, page=1)),
        ("earner's wallet, page 1", "view", view(earner_client, "/wallet/")),
        ("earner's wallet, page 3", "view", view(earner_client, "/wallet/?page=3")),
        ("earner's wallet, search", "view", view(earner_client, "/wallet/?q=college")),
        ("dashboard stats", "query", lambda: dashboard_stats(w.organisation, timezone.now())),
        ("dashboard", "view", view(issuer_client, f"/orgs/{org}/")),
        ("counts for a page of awards", "query", lambda: engagement.counts_for_awards(first_ids)),
        ("org totals, last 30 days", "query",
         lambda: engagement.counts_for_organisation(w.organisation, since=since)),
        ("org totals, all time", "query", lambda: engagement.counts_for_organisation(w.organisation)),
        ("award detail (with counts)", "view", view(issuer_client, f"{base}{one_award.public_id}/")),
    ]


def _api_token(actor: Any) -> str:
    """A read token for the API figures (made once per run)."""
    from insignia.integrations import services as integrations

    _, secret = integrations.create_api_token(actor=actor, name="scale benchmark", scopes=["read"])
    return secret


def print_table(results: list[Result], w: World) -> None:
    print()
    print(f"Scale: {w.award_count:,} awards in PostgreSQL; p50/p95 over the runs, target p95 ≤ {TARGET_MS:.0f} ms")
    head = f"{'figure':<36} {'level':<6} {'target':>8} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}  ok"
    print(head)
    print("-" * len(head))
    for r in results:
        verdict = ("yes" if r.p95 <= TARGET_MS else "NO") if r.targeted else "(worst case, no target)"
        print(f"{r.name:<36} {r.level:<6} {'≤ 100' if r.targeted else '—':>8} {r.p50:>8.1f} {r.p95:>8.1f} "
              f"{r.queries:>8}  {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_URL, help=f"database URL (default {DEFAULT_URL})")
    parser.add_argument("--awards", type=int, default=1_000_000, help="how many awards (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per figure (default 50)")
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
    parser.add_argument("--seed-only", action="store_true", help="seed (when needed) and stop")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    _ensure_database(args.postgres, fresh=args.reseed)
    _setup_django(args.postgres)
    seeded = _seeded_count()
    if seeded is None:
        print(f"Seeding {args.awards:,} awards into {urlsplit(args.postgres).path.lstrip('/')}…", flush=True)
        seed(args.awards)
    else:
        print(f"Reusing the seeded database ({seeded:,} awards; --reseed to start again).", flush=True)
        if seeded < args.awards * 0.99 or seeded > args.awards * 1.01:
            print(f"  (asked for {args.awards:,}: pass --reseed to seed that many)", flush=True)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    if args.seed_only:
        return 0
    w = world()
    results = [_measure(name, level, operation, args.runs) for name, level, operation in measurements(w)]
    print_table(results, w)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([{**r.__dict__, "targeted": r.targeted, "ok": r.ok} for r in results], handle, indent=2)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
