"""Bulk issuance, end to end: ``python -m benchmarks.bulk [--rows N] [--backend sqlite|postgres|both]``.

Generates a CSV of N rows (varied recipients, names, evidence URLs and narratives, award dates), previews it
(the dry run), starts the job and runs it to the end through ``insignia.bulk.services.run_bulk_issue``: every
row becomes a stored award with its signed OB 3.0 credential, revocation and suspension entries and a
queued award email. Prints rows/s, seconds per phase, where the issuing time went (checks, building and
signing the credentials, the database) and the process's peak RSS.

Each backend runs in its own process with its own Django set-up: SQLite in a fresh temporary data
directory, PostgreSQL in a fresh database created on the server named by ``--database-url`` (default
``DATABASE_URL``, else ``postgres://postgres@127.0.0.1:5432/postgres``) and dropped afterwards.
Emails are only queued, as in production; their sending (a background job) is measured separately on a
sample with Django's in-memory mail backend (``--email-sample``).

``--stub-signing`` is a diagnostic: credentials get a fixed fake proof instead of an eddsa-rdfc-2022 one,
to measure everything but the kernel's signing at full scale. Its figures are labelled and never the result.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
#: The targets of issue 6, figure 3.
TARGET_SECONDS = 60.0
TARGET_RSS_MB = 500.0
#: Rows issued one by one after the job, for the baseline (per-row path) figure.
BASELINE_SAMPLE = 200

FIRST = ["Ada", "Grace", "Alan", "Katherine", "Edsger", "Zoë", "Łukasz", "Ngozi", "Hiroshi", "Søren", "Amélie",
         "José", "Åsa", "Chidi", "Priya", "Mateus", "Olúwaseun", "Dmitri", "Fatima", "Niamh"]
LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Müller", "Nowak", "Okafor", "Tanaka", "Kierkegaard",
        "Dubois", "García", "Lindqvist", "Eze", "Sharma", "Silva", "Adeyemi", "Ivanov", "Haddad", "O'Brien"]
DOMAINS = ["example.org", "example.com", "uni.example.edu", "school.example.net", "mail.example.co.uk"]


def make_csv(rows: int, *, seed: int = 6) -> bytes:
    """A bulk CSV of ``rows`` distinct recipients; about half with evidence, some with narratives and dates."""
    rng = random.Random(seed)
    lines = ["recipient,name,evidence_url,evidence_narrative,award_date"]
    for n in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first}.{last}".lower().encode("ascii", "ignore").decode().replace("'", "")
        email = f"{local}.{n}@{rng.choice(DOMAINS)}"
        evidence = f"https://portfolio.example.org/{n}/project-{rng.randrange(10_000)}" if n % 2 else ""
        narrative = f"Completed module {rng.randrange(1, 12)} with distinction" if n % 5 == 0 else ""
        date = f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}" if n % 3 == 0 else ""
        name = f'"{first} {last}"' if "'" in last else f"{first} {last}"
        lines.append(f"{email},{name},{evidence},{narrative},{date}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def peak_rss_mb() -> float:
    """The process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- one backend, in this process --------------------------------------------------------------


def _admin_url(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))


def _postgres(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
                         password=parts.password, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql)


def _setup_django(backend: str, data_dir: str, database_url: str) -> None:
    os.environ["INSIGNIA_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "insignia.site.settings"
    os.environ.setdefault("INSIGNIA_LOG_LEVEL", "WARNING")
    os.environ.pop("INSIGNIA_BROKER_URL", None)
    if backend == "postgres":
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _fixture() -> tuple[Any, Any]:
    """An organisation with an owner, an issuer and a published badge, made through the services."""
    from insignia.accounts.models import User
    from insignia.badges.services import create_badge, publish_badge
    from insignia.core.models import Membership, Organisation, Role
    from insignia.core.tenancy import Actor
    from insignia.issuers.services import create_issuer

    organisation = Organisation.objects.create(name="Northwind Institute", slug=f"northwind-{os.getpid()}")
    user = User.objects.create_user(email=f"owner-{os.getpid()}@example.org", password="correct horse battery")
    Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
    actor = Actor(organisation=organisation, role=Role.OWNER, user=user)
    issuer = create_issuer(actor=actor, name="Northwind Institute of Technology", url="https://northwind.example.edu",
                           email="badges@northwind.example.edu")
    badge = create_badge(actor=actor, issuer=issuer, name="Data Stewardship Foundations",
                         description="Awarded for sound practice in curating, documenting and protecting research "
                                     "data across its life cycle.",
                         criteria_narrative="Pass the final assessment with at least 80%.")
    return actor, publish_badge(actor=actor, badge=badge)


def _stub_signing() -> None:
    """Diagnostic only: a fixed fake proof instead of signing (see the module docstring)."""
    from insignia.awards import services as award_services
    from insignia.awards import signing
    from insignia.credentials import parallel

    def fake_sign(credential: dict[str, Any], signer: Any, **_options: Any) -> dict[str, Any]:
        return {**credential, "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                                        "proofValue": "z" + "1" * 87}}

    award_services.sign_credential = fake_sign  # type: ignore[assignment]
    parallel.sign_credential = fake_sign  # type: ignore[assignment]
    signing._pool = parallel.SigningPool(0)  # no workers: they would sign for real


def run_one(backend: str, rows: int, chunk: int, email_sample: int, database_url: str,
            stub_signing: bool = False) -> dict[str, Any]:
    """Set Django up for ``backend`` and measure one bulk job of ``rows`` rows; returns the figures."""
    data_dir = tempfile.mkdtemp(prefix=f"insignia-bulk-{backend}-")
    dbname = f"insignia_bulk_bench_{os.getpid()}"
    if backend == "postgres":
        _postgres(database_url, f'CREATE DATABASE "{dbname}"')
    try:
        _setup_django(backend, data_dir, _admin_url(database_url, dbname))
        if stub_signing:
            _stub_signing()
        result = _measure(backend, rows, chunk, email_sample)
        result["signing"] = "STUBBED (diagnostic, credentials not signed)" if stub_signing else "kernel"
        return result
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(data_dir, ignore_errors=True)
        if backend == "postgres":
            _postgres(database_url, f'DROP DATABASE IF EXISTS "{dbname}"')


def _measure(backend: str, rows: int, chunk: int, email_sample: int) -> dict[str, Any]:
    from insignia.awards.batch import Timings
    from insignia.awards.models import Award
    from insignia.bulk import services
    from insignia.bulk.models import JobStatus
    from insignia.notifications.models import EmailOptOut, Notification, NotificationStatus
    from insignia.site import jobs

    jobs._started.set()  # no in-process job thread: the emails job is measured on its own below
    services.CHUNK_SIZE = chunk
    actor, badge = _fixture()
    data = make_csv(rows)
    # 1% of recipients opted out of this organisation's emails: their notifications are recorded as skipped.
    opted = [line.split(",", 1)[0] for line in data.decode().splitlines()[1::100]]
    EmailOptOut.objects.bulk_create([EmailOptOut(organisation=actor.organisation, email=e) for e in opted])
    rss_start = peak_rss_mb()

    started = time.perf_counter()
    job = services.preview_bulk_issue(actor=actor, badge=badge, csv_bytes=data, filename="learners.csv")
    preview_s = time.perf_counter() - started
    del data
    if job.problem_count:
        raise SystemExit(f"the generated CSV has {job.problem_count} problem rows")
    services.start_bulk_issue(actor=actor, job=job, enqueue=False)
    rss_preview = peak_rss_mb()

    updates: list[tuple[float, int]] = []
    timings = Timings()
    server = _server_cpu_reader()
    server_start, cpu_start = server(), time.process_time()
    workers_start = _workers_cpu()
    started = time.perf_counter()
    done = services.run_bulk_issue(job.public_id, timings=timings,
                                   progress=lambda j: updates.append((time.perf_counter() - started, j.processed)))
    run_s = time.perf_counter() - started
    cpu_s, server_end = time.process_time() - cpu_start, server()
    workers_s = _workers_cpu() - workers_start
    assert done is not None, job.public_id
    assert done.status == JobStatus.DONE, done.error
    issued = Award.objects.filter(badge=badge).count()
    queued = Notification.objects.filter(award__badge=badge, status=NotificationStatus.QUEUED).count()
    skipped_emails = Notification.objects.filter(award__badge=badge,
                                                 status=NotificationStatus.SKIPPED_OPTED_OUT).count()
    rss_run = peak_rss_mb()

    email_rate = _email_rate(badge, email_sample)
    baseline_per_row = _per_row_seconds(actor, badge, BASELINE_SAMPLE)
    accounted = timings.check + timings.sign + timings.database
    return {
        "backend": backend, "rows": rows, "chunk": chunk, "issued": issued, "failed": done.failed,
        "emails_queued": queued, "emails_skipped_opted_out": skipped_emails,
        "preview_s": round(preview_s, 2), "run_s": round(run_s, 2), "total_s": round(preview_s + run_s, 2),
        "rows_per_s": round(rows / run_s, 1),
        "check_s": round(timings.check, 2), "sign_s": round(timings.sign, 2), "database_s": round(timings.database, 2),
        "other_s": round(run_s - accounted, 2),
        "process_cpu_s": round(cpu_s, 2),
        "signing_workers_cpu_s": round(workers_s, 2),
        "server_cpu_s": round(server_end - server_start, 2) if server_start is not None and server_end is not None
        else None,
        "progress_updates": len(updates), "peak_rss_mb_before": round(rss_start, 1),
        "peak_rss_mb_after_preview": round(rss_preview, 1), "peak_rss_mb": round(rss_run, 1),
        "emails_per_s": email_rate,
        "baseline": f"issue_award row by row, {BASELINE_SAMPLE} rows timed, scaled to {rows:,}",
        "baseline_per_row_ms": round(baseline_per_row * 1000, 2),
        "baseline_total_s": round(preview_s + baseline_per_row * rows, 1),
        "breakdown_s": {name: round(seconds, 2) for name, seconds in sorted(timings.extra.items(),
                                                                            key=lambda item: -item[1])},
    }


def _per_row_seconds(actor: Any, badge: Any, sample: int) -> float:
    """The baseline: seconds per award through ``issue_award``, one transaction per row (the single-award path
    a job would take without the batch path), timed on ``sample`` rows after the job. Its award emails go to
    Django's in-memory backend."""
    from django.conf import settings
    from django.db import transaction

    from insignia.awards.services import issue_award

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    started = time.perf_counter()
    for n in range(sample):
        with transaction.atomic():
            issue_award(actor=actor, badge=badge, recipient=f"baseline{n}@example.org", recipient_name=f"Baseline {n}",
                        evidence=[{"url": f"https://work.example.org/baseline/{n}"}])
    return (time.perf_counter() - started) / sample


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (0 when it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)


def _workers_cpu() -> float:
    """CPU seconds used so far by the signing pool's worker processes (they live as long as this process)."""
    from insignia.awards import signing

    pool = signing.pool()
    return sum(_cpu_of(pid) for pid in pool.worker_pids()) if pool is not None else 0.0


def _server_cpu_reader() -> Any:
    """A function giving the CPU seconds used so far by this connection's PostgreSQL backend (None elsewhere).

    Read from ``/proc/<backend pid>/stat`` when the server runs on this machine: with the process's own CPU
    time it tells whether the job waits on Python or on the database server.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def read() -> float | None:
        return _cpu_of(pid) if Path(f"/proc/{pid}").exists() else None

    return read


def _email_rate(badge: Any, sample: int) -> float | None:
    """Send ``sample`` of the queued emails as the email job does (in-memory mail backend); emails/s."""
    if sample <= 0:
        return None
    from django.conf import settings
    from django.core import mail

    from insignia.notifications.models import Notification, NotificationStatus
    from insignia.notifications.services import send_queued_award_email

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    batch = list(Notification.objects.filter(award__badge=badge, status=NotificationStatus.QUEUED)
                 .select_related("award__badge", "award__issuer", "award__organisation").order_by("pk")[:sample])
    started = time.perf_counter()
    for notification in batch:
        send_queued_award_email(notification)
    elapsed = time.perf_counter() - started
    assert len(mail.outbox) == len(batch)
    return round(len(batch) / elapsed, 1) if batch else None


# -- driver --------------------------------------------------------------------------------------


def _child(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bulk", "--backend", backend, "--rows", str(args.rows),
               "--chunk", str(args.chunk), "--email-sample", str(args.email_sample),
               "--database-url", args.database_url, "--json-line", *(["--stub-signing"] if args.stub_signing else [])]
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"Bulk issuance: {results[0]['rows']:,} rows, chunks of {results[0]['chunk']:,}, "
          f"signing: {results[0].get('signing', 'kernel')}")
    header = ("backend", "preview s", "issue s", "total s", "rows/s", "checks s", "build+sign s", "database s",
              "other s", "peak RSS MB", "target (CSV to issued)")
    print(" | ".join(header))
    for r in results:
        ok = r["total_s"] <= TARGET_SECONDS and r["peak_rss_mb"] <= TARGET_RSS_MB and r.get("signing") == "kernel"
        print(" | ".join(str(v) for v in (
            r["backend"], r["preview_s"], r["run_s"], r["total_s"], r["rows_per_s"], r["check_s"], r["sign_s"],
            r["database_s"], r["other_s"], r["peak_rss_mb"],
            "n/a (signing stubbed)" if r.get("signing") != "kernel" else
            f"{'met' if ok else 'MISSED'} (≤ {TARGET_SECONDS:.0f} s, ≤ {TARGET_RSS_MB:.0f} MB)")))
    for r in results:
        if r.get("baseline_total_s") is not None:
            print(f"{r['backend']} baseline ({r['baseline']}): {r['baseline_per_row_ms']} ms per award, "
                  f"{r['baseline_total_s']} s for the job; the batch path is "
                  f"{r['baseline_total_s'] / r['total_s']:.1f}x faster")
        print(f"{r['backend']}: issued {r['issued']:,}, failed {r['failed']}, emails queued {r['emails_queued']:,} "
              f"(+{r['emails_skipped_opted_out']:,} opted out), {r['progress_updates']} progress updates, "
              f"email job {r['emails_per_s']} emails/s (in-memory backend)")
        if r.get("process_cpu_s") is not None:
            server = r.get("server_cpu_s")
            print(f"  {r['backend']} CPU while issuing: this process {r['process_cpu_s']} s, "
                  f"the signing workers {r.get('signing_workers_cpu_s')} s"
                  + (f", the PostgreSQL backend {server} s" if server is not None else "")
                  + f" (wall {r['run_s']} s)")
        print(f"  {r['backend']} issuing time by step (s; steps on the writer thread overlap the others): "
              + ", ".join(f"{name} {seconds}" for name, seconds in r.get("breakdown_s", {}).items() if seconds))


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=1_000, help="rows per transaction")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL")
                        or "postgres://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server (a fresh database is created on it and dropped)")
    parser.add_argument("--email-sample", type=int, default=200, help="queued emails to send afterwards (0: none)")
    parser.add_argument("--stub-signing", action="store_true",
                        help="diagnostic: a fake proof instead of signing, to measure everything else")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--json-line", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.backend == "both":
        results = [_child("sqlite", args), _child("postgres", args)]
    elif args.json_line:
        result = run_one(args.backend, args.rows, args.chunk, args.email_sample, args.database_url,
                         stub_signing=args.stub_signing)
        print(json.dumps(result))
        return [result]
    else:
        results = [_child(args.backend, args)]
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
