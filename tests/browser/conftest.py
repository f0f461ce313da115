"""A live server on a fresh database, Chromium through Playwright, and the reporting around them.

See tests/browser/__init__.py for what these tests do and how to run them.
"""
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from investigations.auth.accounts import create_user
from investigations.extensions import db
from tests.conftest import PASSWORD, make_app

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ACCOUNTS = {
    "rita": ("rita@example.org", "Rita Reporter", "reporter"),
    "rob": ("rob@example.org", "Rob Reporter", "reporter"),
    "eve": ("eve@example.org", "Eve Editor", "editor"),
}


# --- Can the browser tests run here? -----------------------------------------------------------

def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}


def _find_chromium() -> tuple[str | None, str | None]:
    """(path, None), or (None, why not). BROWSER_TESTS_CHROMIUM names the binary to use instead."""
    override = os.environ.get("BROWSER_TESTS_CHROMIUM", "").strip()
    candidates = [override] if override else [DEFAULT_CHROMIUM, shutil.which("chromium")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate, None
    return None, f"Chromium not found at {override or DEFAULT_CHROMIUM} — install the chromium package"


def _find_problem() -> tuple[str | None, str | None]:
    chromium, problem = _find_chromium()
    if problem:
        return None, problem
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return None, (f"the playwright Python package is not installed ({error}) — "
                      f".venv/bin/pip install -r requirements-dev.txt")
    return chromium, None


CHROMIUM, PROBLEM = _find_problem()
IN_CI = _in_ci()
SKIP_REASON = f"Browser tests skipped: {PROBLEM}"
FAIL_REASON = f"Browser tests cannot run, and CI (CI={os.environ.get('CI')}) must run them: {PROBLEM}"

_outcomes: set[str] = set()  # what happened to the browser tests of this run, for the summary
_screenshots: list[Path] = []
_browser_version: list[str] = []


def pytest_collection_modifyitems(config, items):
    if PROBLEM and not IN_CI:
        for item in items:
            if _is_browser_test(item):
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(scope="session", autouse=True)
def _browser_available():
    """Runs before every other fixture of these tests: fail in CI when the browser is missing."""
    if PROBLEM:
        if IN_CI:
            pytest.fail(FAIL_REASON, pytrace=False)
        pytest.skip(SKIP_REASON)


def _is_browser_test(item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


# --- Reporting: screenshots of failed tests, and one clear line at the end ---------------------

def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "test"


def save_screenshots(pages, name: str) -> list[Path]:
    """Save a PNG of each open page as artifacts/<name>.png, <name>-2.png, …; return the paths."""
    ARTIFACTS.mkdir(exist_ok=True)
    saved = []
    for number, page in enumerate([p for p in pages if not p.is_closed()], start=1):
        path = ARTIFACTS / f"{_safe_name(name)}{'' if number == 1 else f'-{number}'}.png"
        try:
            page.screenshot(path=str(path), full_page=True, timeout=10_000)
        except Exception as error:  # a crashed page: say so, and keep the test's own failure
            print(f"Could not save a screenshot of {page.url}: {error}")
            continue
        saved.append(path)
        _screenshots.append(path)
        print(f"Screenshot of {page.url} saved to {path}")
    return saved


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if _is_browser_test(item):
        _outcomes.add(report.outcome)
        pages = item.stash.get(OPEN_PAGES, [])
        if report.failed and report.when in ("setup", "call") and pages:
            for path in save_screenshots(pages, item.name):
                report.sections.append(("browser screenshot", str(path)))
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _outcomes:
        return  # no browser test was selected in this run
    if PROBLEM:
        if IN_CI:
            terminalreporter.write_sep("=", FAIL_REASON, red=True, bold=True)
        else:
            terminalreporter.write_sep("=", SKIP_REASON, yellow=True, bold=True)
        return
    version = f" {_browser_version[0]}" if _browser_version else ""
    terminalreporter.write_line(f"Browser tests ran in Chromium{version} ({CHROMIUM}).")
    for path in _screenshots:
        terminalreporter.write_line(f"Screenshot of a failed browser test: {path}", red=True)


# --- The live server ---------------------------------------------------------------------------

@dataclass
class LiveServer:
    url: str
    app: object
    server_errors: list[str] = field(default_factory=list)  # "POST /path -> 500", as they happen

    def __call__(self, path: str) -> str:
        return self.url + path


class _RecordServerErrors:
    """WSGI middleware noting every 5xx answer, so a journey that hid one still fails."""

    def __init__(self, wsgi_app, server):
        self.wsgi_app, self.server = wsgi_app, server

    def __call__(self, environ, start_response):
        def recording_start_response(status, headers, exc_info=None):
            if status[:1] == "5":
                self.server.server_errors.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} -> {status}")
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, recording_start_response)


@pytest.fixture(scope="package")
def live_server(tmp_path_factory):
    """The app on its own migrated SQLite database, served on 127.0.0.1:<free port> in a thread.

    Package-scoped: the server and the browser stop once the browser tests are done, before the
    rest of the suite runs."""
    root = tmp_path_factory.mktemp("browser")
    app = make_app(
        f"sqlite:///{root / 'browser.db'}", root,
        TESTING=False,  # served as a real server serves it
        SERVER_NAME=None,
        WTF_CSRF_ENABLED=True,  # real forms in a real browser carry their tokens
        RATELIMIT_ENABLED=False,
        EVIDENCE_EXTRACTION="inline",  # evidence text is searchable as soon as the upload returns
        DOSSIER_RENDERING="inline",
        DOSSIER_DIR=str(root / "dossiers"),
        NEWSROOM_NAME="The Consumer Desk",  # named, as after the first admin's first visit
    )
    with app.app_context():
        upgrade()
        for email, name, role in ACCOUNTS.values():
            create_user(email, name, role, password=PASSWORD)
        db.session.commit()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    app.wsgi_app = _RecordServerErrors(app.wsgi_app, live)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    yield live
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- Chromium ----------------------------------------------------------------------------------

@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        _browser_version.append(chromium.version)
        yield chromium
        chromium.close()


OPEN_PAGES = pytest.StashKey[list]()


class PageWatch:
    """What a page said that a person would not see: console errors (CSP violations among them),
    uncaught script errors, dialogs, and 5xx answers from the server while it was open."""

    def __init__(self, page, live: LiveServer):
        self.page, self.live = page, live
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []
        self.expected_failures: set[str] = set()  # URLs the test expects to answer 4xx
        self._server_errors_seen = len(live.server_errors)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught script error: {error}"))
        page.on("dialog", self._on_dialog)

    def _on_console(self, message):
        if message.type != "error":
            return
        url = (message.location or {}).get("url") or self.page.url
        if url in self.expected_failures and "status of" in message.text:
            return  # a page the test opened expecting an error status (it checks the status itself)
        self.console_errors.append(f"{message.text} (at {url})")

    def _on_dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.accept()

    def goto_expecting_error(self, path: str):
        """Open a page that should answer an error status; return the response to check it."""
        self.expected_failures.add(self.live(path))
        return self.page.goto(path)

    def problems(self) -> list[str]:
        new_server_errors = self.live.server_errors[self._server_errors_seen:]
        return [f"console: {e}" for e in self.console_errors] + [f"server: {e}" for e in new_server_errors]

    def assert_clean(self):
        problems = self.problems()
        assert not problems, "The browser or the server reported errors:\n" + "\n".join(problems)


def open_page(browser, live: LiveServer):
    """A page in a fresh context (its own cookies), watched for errors."""
    context = browser.new_context(base_url=live.url, accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.watch = PageWatch(page, live)
    return page


@pytest.fixture
def new_page(request, browser, live_server):
    """new_page() -> a page of its own browser context; screenshotted if the test fails."""
    pages = request.node.stash.setdefault(OPEN_PAGES, [])

    def factory():
        page = open_page(browser, live_server)
        pages.append(page)
        return page

    yield factory
    for page in pages:
        page.context.close()


@pytest.fixture
def page(new_page):
    return new_page()



# --- Shared steps: signing in, page width, accessibility ---------------------------------------

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}


def open_sized_page(browser, live: LiveServer, viewport: dict, phone: bool = False):
    """A page of its own context at `viewport`; a phone's context also reports touch, as phones do."""
    context = browser.new_context(base_url=live.url, viewport=viewport, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.watch = PageWatch(page, live)
    return page


def sign_in_as(page, email: str) -> None:
    """Through the login form; the person lands on their start page (My work or the dashboard)."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/(work|dashboard)/$"))


def page_overflow(page) -> dict:
    """The document's width against the screen's, and the elements sticking out past the screen.
    (A phone zooms out to show a page wider than itself, so the window's own width is not the
    measure: the screen's is.)"""
    return page.evaluate("""(screenWidth) => {
        const width = screenWidth;
        const wide = [];
        for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 1) {
                wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''} right=${Math.round(box.right)}`);
            }
        }
        return {viewport: screenWidth, window: window.innerWidth, document: document.documentElement.scrollWidth,
                body: document.body.scrollWidth, wide: wide.slice(0, 8)};
    }""", page.viewport_size["width"])


def assert_fits(page) -> None:
    """No sideways scrolling: the document is no wider than the window."""
    sizes = page_overflow(page)
    assert max(sizes["document"], sizes["body"], sizes["window"]) <= sizes["viewport"], \
        f"{page.url} is {sizes['document']} px wide in a {sizes['viewport']} px window; sticking out: {sizes['wide']}"


def axe_violations(page, context: str | None = None) -> list[str]:
    """WCAG 2.1 A and AA violations axe-core finds on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;window.axe = axe; true;")
    result = page.evaluate("""async (context) => {
        const results = await axe.run(context || document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        });
        return results.violations.map(v => `${v.id} (${v.impact}): ${v.help} — ` +
            v.nodes.slice(0, 4).map(n => n.target.join(' ') + (n.failureSummary ? ' [' + n.failureSummary.replace(/\\s+/g, ' ') + ']' : '')).join('; '));
    }""", context)
    return result


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(violations)


@pytest.fixture
def sized_page(request, browser, live_server):
    """sized_page(PHONE, phone=True) or sized_page(DESK) -> a page of its own context at that size;
    screenshotted if the test fails."""
    pages = request.node.stash.setdefault(OPEN_PAGES, [])

    def factory(viewport=DESK, phone=False):
        page = open_sized_page(browser, live_server, viewport, phone=phone)
        pages.append(page)
        return page

    yield factory
    for page in pages:
        page.context.close()
