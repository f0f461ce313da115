"""Browser tests: real journeys through the app in Chromium, driven by Playwright.

What they do
    `conftest.py` migrates a fresh SQLite database in a temporary folder, creates three accounts
    (reporters rita and rob, editor eve), and serves the app with Werkzeug on 127.0.0.1 and a free
    port, in a background thread, for the whole run. CSRF protection is on, as in production, so
    every form the browser sends carries its token; evidence text is read and dossiers rendered
    inside the request, so what the next page shows is already there. `test_journeys.py` then
    signs in through the login form and clicks through the app as a person would:

    - a reporter files a case against a new business, uploads three files at once (with the
      upload progress bar) and adds a timeline note;
    - an editor finds the case by a word that only appears inside an uploaded PDF, assigns it and
      starts the investigation;
    - an editor exports the BBB dossier and the PDF downloads;
    - another reporter cannot reach the case: its page is the 404 page, and neither the case list
      nor the search shows it.

    `test_daily_work.py` follows a reporter's day: a call logged with a follow-up date shows on My
    work until marked done; an editor bulk-assigns three cases and the assignee sees them marked
    new; a case opened from search leads to the next and previous result and back to the results.
    `test_phone.py` visits the case list, a case page, the new-case form, search and My work at
    390×844 (a phone, with touch) and 1366×900: no page is wider than the screen, the header folds
    into a menu that opens on the phone and stays on one line at the desk, and axe-core
    (static/vendor/axe-core, injected into the page by the test) finds no WCAG 2.1 A/AA violation.
    Their accounts and cases are their own, so the journeys above see the same server as before.

    Every page visited must log no console error (a Content-Security-Policy violation is one) and
    no uncaught script error, and the server must answer no request with a 5xx.

Running them
    .venv/bin/python -m pytest tests/browser        (also part of `make test`)

    They use Debian's Chromium at /usr/bin/chromium (`apt-get install chromium`), or `chromium` on
    PATH; BROWSER_TESTS_CHROMIUM=/path/to/chromium picks another binary. Playwright never
    downloads a browser here. Where Chromium or the playwright package is missing, the tests are
    skipped and the end of the run says so in one line; with CI set (CI=true) they fail instead,
    so CI can never pass without them.

When one fails
    A screenshot of every page the test had open is saved as tests/browser/artifacts/<test>.png
    (not committed) and its path printed with the failure and at the end of the run.
"""
