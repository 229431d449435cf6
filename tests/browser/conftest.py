"""Browser tests: a live server (pytest-django) driven by Playwright in Debian's Chromium.

Screenshots go to ``$INSIGNIA_SCREENSHOT_DIR`` (default ``/tmp/insignia-screens``), never into the repository.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an event loop in this thread; Django's ORM refuses to run beside one unless told.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("INSIGNIA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREEN_DIR = Path(os.environ.get("INSIGNIA_SCREENSHOT_DIR", "/tmp/insignia-screens"))
DESKTOP = {"width": 1280, "height": 800}

#: Run in the page: problems a keyboard or screen-reader user would hit first.
A11Y_SCRIPT = """
() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const h1s = document.querySelectorAll('h1');
  if (h1s.length !== 1) problems.push(`expected one h1, found ${h1s.length}`);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby');
    if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name || '?'}`);
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`image without alt: ${img.src}`);
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (!visible(el) && !el.classList.contains('skip-link')) continue;
    const name = (el.textContent || '').trim() || el.getAttribute('aria-label') || el.getAttribute('title');
    if (!name) problems.push(`${el.tagName.toLowerCase()} without an accessible name`);
  }
  if (!document.documentElement.lang) problems.push('html has no lang');
  if (!document.querySelector('a.skip-link[href="#main"]')) problems.push('no skip link');
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .filter((el) => {
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
          if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) return false;
        }
        return true;
      })
      .slice(0, 3).map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    problems.push(`horizontal scroll: page is ${document.documentElement.scrollWidth}px wide in ` +
                  `${window.innerWidth}px (${wide.join(', ')})`);
  }
  return problems;
}
"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and not getattr(
        page, "expect_http_errors", False) else None)
    page.console_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def screenshot(page: Any) -> Callable[..., list[Path]]:
    """screenshot(name, widths=(1280, 375)) -> the PNG paths, full-page, saved outside the repository."""

    def shoot(name: str, widths: tuple[int, ...] = (1280, 375)) -> list[Path]:
        SCREEN_DIR.mkdir(parents=True, exist_ok=True)
        paths = []
        for width in widths:
            page.set_viewport_size({"width": width, "height": 800})
            path = SCREEN_DIR / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        page.set_viewport_size(DESKTOP)
        return paths

    return shoot


#: axe-core from the npm registry (installed by `npm ci` in tests/interop/js, like the interop tooling).
AXE_JS = Path(__file__).resolve().parent.parent / "interop" / "js" / "node_modules" / "axe-core" / "axe.min.js"

#: Run axe-core in the page (WCAG 2.x A/AA rules) and keep the violations a user would be blocked by.
AXE_RUN = """
async () => {
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}
"""


def axe_violations(page: Any) -> list[str]:
    """Serious and critical axe-core violations on the current page."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `npm ci` in tests/interop/js")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: our CSP (rightly) refuses injected inline scripts.
        page.evaluate("(source) => { (0, eval)(source); }", AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(AXE_RUN)


@pytest.fixture
def a11y(page: Any) -> Callable[..., None]:
    """Assert the page has one h1, labelled controls, alt text, named buttons/links, no sideways scroll and no
    serious or critical axe-core violation, at each width."""

    def check(widths: tuple[int, ...] = (1280, 375)) -> None:
        for width in widths:
            page.set_viewport_size({"width": width, "height": 800})
            problems = page.evaluate(A11Y_SCRIPT)
            assert problems == [], f"{page.url} at {width}px: {problems}"
            violations = axe_violations(page)
            assert violations == [], f"{page.url} at {width}px, axe-core: {violations}"
        page.set_viewport_size(DESKTOP)

    return check
