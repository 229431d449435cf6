"""The ``insignia`` command line.

``insignia verify PATH_OR_URL [--recipient EMAIL] [--json]`` prints a verification report and
exits 0 (valid), 1 (invalid) or 2 (could not decide).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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


def _verify(args: argparse.Namespace) -> int:
    from insignia.credentials.verify.pipeline import Verifier
    from insignia.net.fetch import HttpFetcher

    fetch = None if args.offline else HttpFetcher(allow_loopback=args.allow_http_loopback)
    verifier = Verifier(fetch=fetch, allow_http_loopback=args.allow_http_loopback)
    report = verifier.verify(_read_input(args.target), recipient=args.recipient)
    verdict = str(report.verdict)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return EXIT_CODES[verdict]
    summary = report.summary
    print(HEADLINES[verdict])
    if summary.name:
        print(f"  Badge:   {summary.name}")
    if summary.issuer_name or summary.issuer_id:
        print(f"  Issuer:  {summary.issuer_name or ''} {('<' + summary.issuer_id + '>') if summary.issuer_id else ''}")
    if summary.valid_from:
        print(f"  Issued:  {summary.valid_from}" + (f", expires {summary.valid_until}" if summary.valid_until else ""))
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
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if args.demo:
        from insignia.core.demo import seed_demo

        seed_demo()
    workers = args.workers or max(2, min(4, (os.cpu_count() or 1)))
    print(f"Insignia is running at {settings.BASE_URL} (data in {settings.DATA_DIR}); press Ctrl+C to stop.",
          flush=True)
    argv = [
        sys.executable, "-m", "gunicorn", "insignia.site.wsgi:application",
        "--bind", f"{args.host}:{args.port}",
        "--workers", str(workers), "--threads", "4", "--worker-class", "gthread",
        "--access-logfile", "-", "--graceful-timeout", "20", "--timeout", "120",
        "--config", "python:insignia.site.gunicorn_config",
    ]
    os.execv(sys.executable, argv)  # noqa: S606 (replaces this process with the server)
    return 0


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
    verify.set_defaults(handler=_verify)

    serve = commands.add_parser("serve", help="run Insignia (migrates the database first)")
    serve.add_argument("--host", default=os.environ.get("INSIGNIA_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("INSIGNIA_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=None, help="web worker processes (default: 2-4)")
    serve.add_argument("--demo", action="store_true", help="seed a demo organisation with badges and awards")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="create or upgrade the database")
    migrate.add_argument("--quiet", action="store_true")
    migrate.set_defaults(handler=_migrate)
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
