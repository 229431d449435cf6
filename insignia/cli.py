"""The ``insignia`` command line.

``insignia verify PATH_OR_URL [--recipient EMAIL] [--json]`` prints a verification report and
exits 0 (valid), 1 (invalid) or 2 (could not decide). It needs no database and never loads Django,
unless ``--instance`` asks it to verify exactly as this instance's /verify page and API do.

The platform commands (``serve``, ``migrate``, ``issuer``, ``badge``, ``award``, ``revoke``, ``suspend``,
``unsuspend``, ``sweep-expired``, ``export``) load Django inside their handlers and call the same services as the web
pages, acting as the system actor ``cli`` of the object's organisation. With ``--json`` each prints one
JSON object on standard output; on failure they exit 1 with the reason on standard error (and
``{"error": …, "code": …}`` on standard output with ``--json``).

``insignia issuer create`` without ``--org`` uses the organisation "Default" (slug ``default``), creating
it on first use, owned by the system account ``system@insignia.local`` (which cannot sign in). Give
``--org SLUG_OR_ID`` to create the issuer in another organisation.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any

from insignia import __version__

EXIT_CODES = {"valid": 0, "invalid": 1, "indeterminate": 2}
#: The command itself could not run (bad arguments, missing file): distinct from every verdict.
EXIT_USAGE = 3


class UsageError(Exception):
    """Bad command-line input; printed without a traceback, exit status 3."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")
SYMBOLS = {"passed": "✓", "failed": "✗", "not_checked": "?"}
HEADLINES = {
    "valid": "VALID — this credential is authentic, unaltered and current.",
    "invalid": "INVALID — do not trust this credential.",
    "indeterminate": "COULD NOT FULLY CHECK — some checks could not be made.",
}


def _read_input(target: str) -> bytes | str:
    if target == "-":
        return sys.stdin.buffer.read()
    if target.lower().startswith(("http://", "https://")):
        return target
    path = Path(target)
    if not path.is_file():
        raise UsageError(f"insignia verify: {target} is neither a file nor an http(s) URL")
    return path.read_bytes()


def _verify_on_instance(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """``--instance``: the platform's verifier (this instance's own documents read in-process, trust signals)."""
    if args.offline or args.allow_http_loopback:
        raise UsageError("insignia verify: --instance cannot be combined with --offline or --allow-http-loopback")
    setup_django()
    from insignia.verification.services import SubmissionError, verify_submission

    data = _read_input(args.target)
    try:
        if isinstance(data, str):
            result = verify_submission(url=data, recipient=args.recipient)
        else:
            result = verify_submission(file_bytes=data, recipient=args.recipient)
    except SubmissionError as exc:
        raise UsageError(f"insignia verify: {exc.message}") from exc
    return result.report, result.to_json()


def _verify(args: argparse.Namespace) -> int:
    from insignia.credentials.verify.pipeline import Verifier
    from insignia.net.fetch import HttpFetcher

    trust: dict[str, Any] | None = None
    if args.instance:
        report, answer = _verify_on_instance(args)
        trust = answer["trust"]
    else:
        fetch = None if args.offline else HttpFetcher(allow_loopback=args.allow_http_loopback)
        verifier = Verifier(fetch=fetch, allow_http_loopback=args.allow_http_loopback)
        report = verifier.verify(_read_input(args.target), recipient=args.recipient)
        answer = report.to_json()
    verdict = str(report.verdict)
    if args.json:
        print(json.dumps(answer, ensure_ascii=False))
        return EXIT_CODES[verdict]
    summary = report.summary
    print(HEADLINES[verdict])
    if summary.name:
        print(f"  Badge:   {summary.name}")
    if summary.issuer_name or summary.issuer_id:
        print(f"  Issuer:  {summary.issuer_name or ''} {('<' + summary.issuer_id + '>') if summary.issuer_id else ''}")
    if summary.valid_from:
        print(f"  Issued:  {summary.valid_from}" + (f", expires {summary.valid_until}" if summary.valid_until else ""))
    if trust is not None:
        print(f"  Trust:   {trust['message']} [{trust['level']}]")
    print()
    for check in report.checks:
        print(f"  {SYMBOLS[str(check.status)]} {check.title}: {check.message} [{check.code}]")
    return EXIT_CODES[verdict]


def setup_django() -> None:
    """Load the platform (only the commands that need it do: ``verify`` stays framework-free)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insignia.site.settings")
    import django

    django.setup()


def _migrate(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if not args.quiet else 0)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from insignia.site import server

    chosen = server.chosen_server()  # an unknown INSIGNIA_SERVER stops here, before anything is changed
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if args.demo:
        from insignia.core.demo import seed_demo

        seed_demo()
    print(f"Insignia is running at {settings.BASE_URL} (data in {settings.DATA_DIR}); press Ctrl+C to stop.",
          flush=True)
    # The server (INSIGNIA_SERVER: granian by default, or gunicorn) and its worker model (processes, threads,
    # keep-alive, access log) live in insignia.site.server and gunicorn_config and their INSIGNIA_* variables;
    # only an explicit --workers overrides them here. Both are started afresh (exec), without this process's
    # Django and database connections.
    if chosen == "granian":
        argv = [sys.executable, "-m", "insignia.site.server", "--host", args.host, "--port", str(args.port)]
        if args.workers:
            argv += ["--workers", str(args.workers)]
        os.execv(sys.executable, argv)  # noqa: S606 (replaces this process with the server)
    argv = [
        sys.executable, "-m", "gunicorn", "insignia.site.wsgi:application",
        "--bind", f"{args.host}:{args.port}", "--graceful-timeout", "20", "--timeout", "120",
        "--config", "python:insignia.site.gunicorn_config",
    ]
    if args.workers:
        argv += ["--workers", str(args.workers)]
    os.execv(sys.executable, argv)  # noqa: S606 (replaces this process with the server)
    return 0


# == platform commands ==========================================================================================

SYSTEM_ACCOUNT_EMAIL = "system@insignia.local"
DEFAULT_ORGANISATION_SLUG = "default"
EXPORT_FORMATS = ("ob3", "jwt", "ob2", "ob2-signed", "png", "svg", "pdf")


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _emit(args: argparse.Namespace, data: dict[str, Any], human: str) -> None:
    """One JSON object with ``--json``, otherwise the human-readable lines."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(human)


def _platform(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Load Django, run the handler, and turn refusals into exit status 1 with a clear message."""

    @wraps(handler)
    def run(args: argparse.Namespace) -> int:
        setup_django()
        from django.db import DatabaseError

        from insignia.bulk.csvparse import CSVFileError
        from insignia.core.errors import ServiceError

        try:
            return handler(args)
        except (ServiceError, CommandError, CSVFileError) as exc:
            message, code = exc.message, exc.code
        except DatabaseError as exc:
            message, code = f"The database is not ready ({exc}); run `insignia migrate` first.", "database"
        except OSError as exc:
            message, code = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), "io"
        if getattr(args, "json", False):
            print(json.dumps({"error": message, "code": code}, ensure_ascii=False))
        print(f"insignia {args.command}: {message}", file=sys.stderr)
        return 1

    return run


def _lookup(model: Any, public_id: str, what: str) -> Any:
    found = model.objects.filter(public_id=public_id).first()
    if found is None:
        raise CommandError(f"No {what} with id {public_id!r}.", "not_found")
    return found


def _cli_actor(organisation: Any) -> Any:
    from insignia.core.tenancy import system_actor

    return system_actor(organisation, "cli")


def _system_user() -> Any:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(email=SYSTEM_ACCOUNT_EMAIL).first()
    if user is None:
        user = user_model.objects.create_user(email=SYSTEM_ACCOUNT_EMAIL, password=None,
                                              display_name="Insignia system")
    return user


def _organisation(ref: str | None) -> Any:
    """The organisation named by slug or id, or the "Default" one (created on first use)."""
    from django.db import transaction
    from django.db.models import Q

    from insignia.core.models import Organisation
    from insignia.core.services import create_organisation

    if ref:
        found = Organisation.objects.filter(Q(slug=ref) | Q(public_id=ref)).first()
        if found is None:
            raise CommandError(f"No organisation with slug or id {ref!r}.", "not_found")
        return found
    with transaction.atomic():
        found = Organisation.objects.filter(slug=DEFAULT_ORGANISATION_SLUG).first()
        if found is None:
            found = create_organisation(user=_system_user(), name="Default").organisation
    return found


def _issuer_create(args: argparse.Namespace) -> int:
    from insignia.issuers.identity import issuer_did, issuer_url
    from insignia.issuers.services import create_issuer

    organisation = _organisation(args.org)
    issuer = create_issuer(actor=_cli_actor(organisation), name=args.name, url=args.url, email=args.email,
                           description=args.description or "", did_method=args.did_method)
    data = {"id": issuer.public_id, "did": issuer_did(issuer), "profile_url": issuer_url(issuer),
            "organisation": organisation.slug}
    _emit(args, data, f"Created issuer {issuer.name} ({issuer.public_id}) in {organisation.name}\n"
                      f"  DID:     {data['did']}\n  Profile: {data['profile_url']}")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from insignia.integrations.services import create_api_token

    organisation = _organisation(args.org)
    scopes = [scope.strip() for scope in args.scopes.split(",") if scope.strip()]
    token, secret = create_api_token(actor=_cli_actor(organisation), name=args.name, scopes=scopes)
    data = {"id": token.public_id, "token": secret,
            "scopes": scopes, "organisation": organisation.slug}
    _emit(args, data, f"API token {args.name!r} for {organisation.name} (scopes: {', '.join(scopes)}).\n"
                      f"  {secret}\n  Keep it now: it is never shown again.")
    return 0


def _badge_create(args: argparse.Namespace) -> int:
    from insignia.badges.documents import achievement_url
    from insignia.badges.images import ImageUpload
    from insignia.badges.services import create_badge, publish_badge
    from insignia.issuers.models import Issuer

    issuer = _lookup(Issuer, args.issuer, "issuer")
    actor = _cli_actor(issuer.organisation)
    image = None
    if args.image:
        path = Path(args.image)
        image = ImageUpload(content=path.read_bytes(), filename=path.name)
    criteria = args.criteria.strip()
    is_url = criteria.lower().startswith(("https://", "http://")) and " " not in criteria
    badge = create_badge(actor=actor, issuer=issuer, name=args.name, description=args.description,
                         criteria_narrative="" if is_url else criteria, criteria_url=criteria if is_url else "",
                         evidence_required=args.evidence_required, image_upload=image)
    badge = publish_badge(actor=actor, badge=badge)
    data = {"id": badge.public_id, "url": achievement_url(badge)}
    _emit(args, data, f"Published badge {badge.name} ({badge.public_id})\n  URL: {data['url']}")
    return 0


def _award_urls(award: Any) -> dict[str, str]:
    from django.conf import settings
    from django.urls import reverse

    def url(name: str) -> str:
        return settings.BASE_URL + reverse(f"awards:{name}", args=[award.public_id])

    return {"id": award.public_id, "credential_url": url("credential_json"), "jwt_url": url("credential_jwt"),
            "assertion_url": url("assertion"), "public_url": url("public"), "baked_png_url": url("baked_png")}


def _award(args: argparse.Namespace) -> int:
    if args.csv:
        return _award_csv(args)
    if args.dry_run:
        raise CommandError("--dry-run goes with --csv.", "usage")
    if not args.recipient:
        raise CommandError("Give --recipient EMAIL (one award) or --csv FILE (one award per row).", "usage")
    from insignia.awards.services import issue_award
    from insignia.badges.models import BadgeClass

    badge = _lookup(BadgeClass, args.badge, "badge")
    evidence = [{"url": args.evidence or "", "narrative": args.narrative or ""}]
    award = issue_award(actor=_cli_actor(badge.organisation), badge=badge, recipient=args.recipient,
                        recipient_name=args.name or "", evidence=evidence,
                        evidence_files=_evidence_files(args.evidence_file or []))
    data = _award_urls(award)
    _emit(args, data, f"Awarded {badge.name} to {award.recipient_identity} ({award.public_id})\n"
                      f"  Public page: {data['public_url']}\n  Credential:  {data['credential_url']}")
    return 0


def _evidence_files(paths: list[str]) -> list[Any]:
    """``--evidence-file`` paths as uploads; a file over the limit is refused before it is read."""
    from insignia.awards.evidence import EvidenceUpload, check_evidence_size

    uploads = []
    for name in paths:
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"{name} is not a file.", "io")
        check_evidence_size(path.stat().st_size)
        uploads.append(EvidenceUpload(content=path.read_bytes(), filename=path.name))
    return uploads


def _progress_printer() -> Callable[[Any], None]:
    """Progress on standard error: one updating line on a terminal, a line per 10% otherwise."""
    tty = sys.stderr.isatty()
    last = {"step": -1}

    def show(job: Any) -> None:
        percent = round(100 * job.processed / job.total) if job.total else 100
        line = (f"Issued {job.issued} of {job.total} ({percent}%), skipped {job.skipped}, failed {job.failed}")
        if tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif percent // 10 != last["step"]:
            last["step"] = percent // 10
            print(line, file=sys.stderr, flush=True)

    return show


def _award_csv(args: argparse.Namespace) -> int:
    from insignia.badges.models import BadgeClass
    from insignia.bulk import services
    from insignia.bulk.csvparse import MAX_BULK_BYTES

    if args.recipient:
        raise CommandError("Give either --recipient or --csv, not both.", "usage")
    if args.evidence_file:
        raise CommandError("--evidence-file goes with --recipient (one award); a CSV row links its evidence "
                           "with evidence_url.", "usage")
    badge = _lookup(BadgeClass, args.badge, "badge")
    path = Path(args.csv)
    if path.stat().st_size > MAX_BULK_BYTES:
        raise CommandError(f"{path} is larger than {MAX_BULK_BYTES // 1_048_576} MB; split it.", "csv_file_too_large")
    actor = _cli_actor(badge.organisation)
    job = services.preview_bulk_issue(actor=actor, badge=badge, csv_bytes=path.read_bytes(), filename=path.name)
    problems = [{"row": row.row_number, **problem}
                for row in job.rows.filter(has_problems=True).order_by("row_number") for problem in row.problems]
    to_issue = job.total - job.skipped
    if args.dry_run or problems:
        data = {"job": None if args.dry_run else job.public_id, "dry_run": bool(args.dry_run), "ok": not problems,
                "rows": job.total, "to_issue": 0 if problems else to_issue, "skipped": job.skipped,
                "problems": problems}
        lines = [f"{path.name}: {job.total} row{'s' if job.total != 1 else ''}, "
                 f"{len(problems)} problem{'s' if len(problems) != 1 else ''}."]
        lines += [f"  row {p['row']}{', ' + p['column'] if p['column'] else ''}"
                  f"{': ' + repr(p['value']) if p['value'] else ''} — {p['reason']}" for p in problems]
        if not problems:
            lines.append(f"Ready: {to_issue} badge{'s' if to_issue != 1 else ''} would be issued"
                         + (f", {job.skipped} recipient(s) skipped (already hold the badge)." if job.skipped else "."))
        else:
            lines.append("Nothing was issued: fix the rows above and run the command again.")
        if args.dry_run:
            job.source_file.delete(save=False)
            job.delete()
        _emit(args, data, "\n".join(lines))
        if problems and not args.json:
            print(f"insignia award: {len(problems)} problem(s) in {path.name}; nothing was issued.", file=sys.stderr)
        return 1 if problems else 0
    job = services.start_bulk_issue(actor=actor, job=job, enqueue=False)
    show = None if args.quiet else _progress_printer()
    job = services.run_bulk_issue(job.public_id, progress=show)
    if show is not None and sys.stderr.isatty():
        print(file=sys.stderr)
    if args.result:
        Path(args.result).write_text(services.result_csv(job), encoding="utf-8-sig")
    data = {"job": job.public_id, "status": job.status, "total": job.total, "issued": job.issued,
            "skipped": job.skipped, "failed": job.failed, "result": args.result or None}
    human = (f"Issued {job.issued} of {job.total} ({job.skipped} skipped, {job.failed} failed); job {job.public_id}"
             + (f"\n  Results: {args.result}" if args.result else ""))
    _emit(args, data, human)
    if job.failed or job.status != "done":
        print(f"insignia award: {job.failed} row(s) failed" + (f": {job.error}" if job.error else "")
              + "; see the result CSV (--result FILE).", file=sys.stderr)
        return 1
    return 0


def _status_change(args: argparse.Namespace) -> int:
    from insignia.awards import services
    from insignia.awards.models import Award

    award = _lookup(Award, args.award_id, "award")
    actor = _cli_actor(award.organisation)
    if args.command == "revoke":
        award = services.revoke_award(actor=actor, award=award, reason=args.reason)
    elif args.command == "suspend":
        award = services.suspend_award(actor=actor, award=award,
                                       reason=args.reason or "Suspended by an administrator.")
    else:
        award = services.unsuspend_award(actor=actor, award=award)
    data = {"id": award.public_id, "status": award.status, "reason": award.status_reason}
    _emit(args, data, f"Award {award.public_id} is now {award.status}"
                      + (f" ({award.status_reason})" if award.status_reason else "") + ".")
    return 0


def _sweep_expired(args: argparse.Namespace) -> int:
    from insignia.awards.expiry import sweep_expired_awards

    announced = sweep_expired_awards()
    _emit(args, {"announced": announced},
          f"Announced {announced} expired award(s) (award.expired webhooks)." if announced
          else "No newly expired awards.")
    return 0


def _export(args: argparse.Namespace) -> int:
    import base64

    from insignia.awards import credentials as documents
    from insignia.awards.models import Award

    award = _lookup(Award, args.award_id, "award")
    fmt = args.format
    content: bytes
    if fmt == "ob3":
        content = json.dumps(award.credential, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    elif fmt == "jwt":
        content = documents.jwt_for(award).encode("ascii") + b"\n"
    elif fmt == "ob2":
        content = json.dumps(documents.hosted_assertion(award), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    elif fmt == "ob2-signed":
        content = documents.signed_assertion(award).encode("ascii") + b"\n"
    elif fmt == "pdf":  # the operator holds the issuer's records: the certificate carries the recipient's name
        from insignia.awards.certificate import render_certificate

        content = render_certificate(award, size=args.size, include_name=True).content
    else:
        try:
            content = documents.baked(award, fmt, "ob3")
        except documents.ImageMissing as exc:
            other = "png" if fmt == "svg" else "svg"
            raise CommandError(f"{exc} Export it as --format {other} instead.", "image_missing") from None
    if args.output:
        Path(args.output).write_bytes(content)
        _emit(args, {"id": award.public_id, "format": fmt, "path": args.output, "bytes": len(content)},
              f"Wrote {fmt} of award {award.public_id} to {args.output} ({len(content):,} bytes).")
    elif args.json:
        binary = fmt in ("png", "pdf")
        data = {"id": award.public_id, "format": fmt, "bytes": len(content)}
        data["content_base64" if binary else "content"] = (
            base64.b64encode(content).decode("ascii") if binary else content.decode("utf-8").rstrip("\n"))
        print(json.dumps(data, ensure_ascii=False))
    else:
        if fmt in ("png", "pdf") and sys.stdout.isatty():
            raise CommandError(f"A {fmt.upper()} would garble the terminal: give -o FILE (or redirect the output).",
                               "usage")
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    return 0


def _add_platform_commands(commands: Any) -> None:
    issuer = commands.add_parser("issuer", help="manage issuers")
    issuer_commands = issuer.add_subparsers(dest="action", required=True)
    issuer_create = issuer_commands.add_parser(
        "create", help="create an issuer with fresh signing keys",
        description="Create an issuer profile with an Ed25519 (did:web) and an RSA key. Without --org it goes "
                    "into the organisation 'Default', created on first use.")
    issuer_create.add_argument("--name", required=True)
    issuer_create.add_argument("--url", required=True, help="the issuer's website (http/https)")
    issuer_create.add_argument("--email", required=True, help="a contact address")
    issuer_create.add_argument("--description", default="")
    issuer_create.add_argument("--org", metavar="SLUG_OR_ID", help="the organisation (default: 'Default')")
    issuer_create.add_argument("--did-method", choices=("web", "key"), default="web",
                               help="did:web (default: tied to this domain, keys rotate) or did:key (portable, "
                                    "cannot rotate)")
    issuer_create.add_argument("--json", action="store_true", help='print {"id", "did", "profile_url"}')
    issuer_create.set_defaults(handler=_platform(_issuer_create))

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="action", required=True)
    token_create = token_commands.add_parser(
        "create", help="create an API token for the REST API (shown once)",
        description="Create a bearer token for /api/v1/. Scopes: read, issue, design, manage (comma-separated).")
    token_create.add_argument("--name", required=True)
    token_create.add_argument("--scopes", default="read,issue,design", help="comma-separated (default: %(default)s)")
    token_create.add_argument("--org", metavar="SLUG_OR_ID", help="the organisation (default: 'Default')")
    token_create.add_argument("--json", action="store_true", help='print {"id", "token", "scopes", "organisation"}')
    token_create.set_defaults(handler=_platform(_token_create))

    badge = commands.add_parser("badge", help="manage badges")
    badge_commands = badge.add_subparsers(dest="action", required=True)
    badge_create = badge_commands.add_parser(
        "create", help="create and publish a badge",
        description="Create a badge and publish it at once. Without --image it gets a designed image.")
    badge_create.add_argument("--issuer", required=True, metavar="ID", help="the issuer's id")
    badge_create.add_argument("--name", required=True)
    badge_create.add_argument("--description", required=True)
    badge_create.add_argument("--criteria", required=True, help="what earns it (Markdown), or a URL describing it")
    badge_create.add_argument("--image", metavar="FILE", help="a PNG or SVG image")
    badge_create.add_argument("--evidence-required", action="store_true", help="every award must carry evidence")
    badge_create.add_argument("--json", action="store_true", help='print {"id", "url"}')
    badge_create.set_defaults(handler=_platform(_badge_create))

    award = commands.add_parser(
        "award", help="award a badge to one recipient, or to everyone in a CSV file",
        description="Award a badge to one recipient (--recipient) or to every row of a CSV file (--csv: columns "
                    "recipient, name, evidence_url, evidence_narrative, award_date; UTF-8).")
    award.add_argument("--badge", required=True, metavar="ID", help="the badge's id")
    award.add_argument("--recipient", metavar="EMAIL")
    award.add_argument("--name", help="the recipient's name")
    award.add_argument("--evidence", metavar="URL", help="a link to the evidence")
    award.add_argument("--narrative", help="a few words about the evidence")
    award.add_argument("--evidence-file", metavar="PATH", action="append",
                       help="a PDF, PNG, JPEG or text file to attach as evidence (repeatable)")
    award.add_argument("--csv", metavar="FILE", help="issue to every row of this CSV file (runs in the foreground)")
    award.add_argument("--dry-run", action="store_true", help="with --csv: check the file, issue nothing")
    award.add_argument("--result", metavar="FILE", help="with --csv: write the result CSV here")
    award.add_argument("--quiet", action="store_true", help="with --csv: no progress line")
    award.add_argument("--json", action="store_true", help="print one JSON object")
    award.set_defaults(handler=_platform(_award))

    for name, text in (("revoke", "revoke an award for good"), ("suspend", "suspend an award (reversible)"),
                       ("unsuspend", "lift a suspension")):
        change = commands.add_parser(name, help=text)
        change.add_argument("award_id", metavar="AWARD_ID")
        if name == "revoke":
            change.add_argument("--reason", required=True, help="recorded and shown with the status")
        elif name == "suspend":
            change.add_argument("--reason", default="", help="recorded and shown with the status")
        change.add_argument("--json", action="store_true", help='print {"id", "status", "reason"}')
        change.set_defaults(handler=_platform(_status_change))

    sweep = commands.add_parser(
        "sweep-expired", help="announce awards that have expired (award.expired webhooks), once each",
        description="Find awards whose expiry date has passed and that were not announced yet; emit the "
                    "award.expired webhook event for each, once. The server also runs this every "
                    "INSIGNIA_EXPIRY_SWEEP_MINUTES (default 15).")
    sweep.add_argument("--json", action="store_true", help='print {"announced": N}')
    sweep.set_defaults(handler=_platform(_sweep_expired))

    export = commands.add_parser("export", help="write an award as OB 3.0, VC-JWT, OB 2.0, a baked image or a "
                                                "PDF certificate")
    export.add_argument("award_id", metavar="AWARD_ID")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("--size", choices=("a4", "letter"), default="a4",
                        help="page size of --format pdf (landscape; default a4)")
    export.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    export.add_argument("--json", action="store_true", help="print one JSON object (the content, or where it went)")
    export.set_defaults(handler=_platform(_export))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="insignia", description="Insignia: Open Badges 2.0 and 3.0 credentials.")
    parser.add_argument("--version", action="version", version=f"insignia {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser(
        "verify",
        help="verify a credential file, baked image, JWT or URL",
        description="Verify a credential (JSON, JWT, baked PNG/SVG, or a URL). "
        "Exit status: 0 valid, 1 invalid, 2 could not decide, 3 the command could not run.",
    )
    verify.add_argument("target", metavar="PATH_OR_URL", help="a file, '-' for standard input, or an https URL")
    verify.add_argument("--recipient", help="the email address or URL the badge should have been awarded to")
    verify.add_argument("--json", action="store_true", help="print the report as one JSON object")
    verify.add_argument("--offline", action="store_true", help="never use the network")
    verify.add_argument(
        "--allow-http-loopback", action="store_true", help="development: allow http:// URLs on this machine"
    )
    verify.add_argument(
        "--instance", action="store_true",
        help="verify as this Insignia instance does (its own badges checked against its database, with trust "
             "signals; the same answer as /verify and POST /api/v1/verify)",
    )
    verify.set_defaults(handler=_verify)

    serve = commands.add_parser("serve", help="run Insignia (migrates the database first)")
    serve.add_argument("--host", default=os.environ.get("INSIGNIA_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("INSIGNIA_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=None,
                       help="web worker processes (default: INSIGNIA_WORKERS or one per core)")
    serve.add_argument("--demo", action="store_true", help="seed a demo organisation with badges and awards")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="create or upgrade the database")
    migrate.add_argument("--quiet", action="store_true")
    migrate.set_defaults(handler=_migrate)

    _add_platform_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
