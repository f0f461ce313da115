"""The dashboard: figures over the cases a user may see, drawn as SVG charts with table versions,
and businesses whose complaints suddenly rise."""
import html
import itertools
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, insert

from investigations.businesses.naming import normalize_business_name, slugify
from investigations.charts import bar_chart, hbar_chart
from investigations.dashboard import stats
from investigations.extensions import db
from investigations.models import Business, Case
from tests.conftest import file_case

TODAY = date.today()
# A fixed Wednesday for the stats functions, so week boundaries are known.
WEDNESDAY = date(2026, 11, 18)
_numbers = itertools.count(1)


# --- Helpers ---------------------------------------------------------------------------


def add_business(name: str, **fields) -> Business:
    business = Business(name=name, normalized_name=normalize_business_name(name), slug=slugify(name), **fields)
    db.session.add(business)
    db.session.flush()
    return business


def add_case(business: Business, by, received: date, status: str = "new", category: str = "refund",
             assigned_to=None, **fields) -> Case:
    """A case row made directly (for volume and chosen dates), as filing would leave it."""
    number = next(_numbers)
    case = Case(reference=f"C-2099-{number:05d}", title=f"Complaint {number}", narrative="What happened.",
                category=category, status=status, business=business, complainant_name="Carla Complainant",
                date_received=received, created_by=by, assigned_to=assigned_to, **fields)
    db.session.add(case)
    return case


def add_cases(count: int, business: Business, by, received: date, **fields) -> list[Case]:
    return [add_case(business, by, received, **fields) for _ in range(count)]


def dashboard_page(client) -> str:
    response = client.get("/dashboard/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def figure_html(page: str, key: str) -> str:
    match = re.search(rf'<article class="dash-figure[^"]*" id="figure-{key}".*?</article>', page, re.S)
    assert match, f"no figure {key!r} on the page"
    return match.group(0)


def table(page: str, key: str) -> dict[str, int]:
    """{row label: number} from the table version of a figure (links and badges stripped)."""
    rows = re.findall(r'<tr>\s*<th scope="row">(.*?)</th>\s*<td class="num">([\d,]+)</td>', figure_html(page, key), re.S)
    return {html.unescape(re.sub(r"<span class=\"badge[^>]*>.*?</span>|<[^>]+>", "", label)).strip():
            int(n.replace(",", "")) for label, n in rows}


def bar_tooltips(page: str, key: str) -> dict[str, int]:
    """{label: value} from the chart's bars (each bar's <title>)."""
    svg = re.search(r"<svg.*?</svg>", figure_html(page, key), re.S).group(0)
    return {html.unescape(label): int(n) for label, n in re.findall(r"<rect [^>]*><title>(.*?): (\d+)</title>", svg)}


def rising_section(page: str) -> str:
    return re.search(r'<section class="dash-rising".*?</section>', page, re.S).group(0)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@pytest.fixture
def newsroom(users):
    """An archive with a known shape, dated relative to today.

    Acme: 5 complaints this week (3 refunds, 2 warranty), one of them investigating and assigned to Rita.
    Globex: 2 complaints 3 weeks ago, one published; 1 complaint 200 days ago.
    Initech: 1 complaint 2 years ago, awaiting a response that is overdue.
    A duplicate merged into an Acme case, and a business merged into Acme, are left out.
    """
    rita, rob, eve = users["rita"], users["rob"], users["eve"]
    acme = add_business("Acme Appliances")
    globex = add_business("Globex Corporation")
    initech = add_business("Initech")
    this_week = monday(TODAY)
    acme_cases = add_cases(3, acme, rita, this_week) + add_cases(2, acme, rob, this_week, category="warranty")
    acme_cases[0].status, acme_cases[0].assigned_to = "investigating", rita
    add_case(globex, rob, this_week - timedelta(weeks=3), category="billing")
    add_case(globex, eve, this_week - timedelta(weeks=3), category="billing", status="published")
    add_case(globex, eve, TODAY - timedelta(days=200), category="billing", status="closed")
    add_case(initech, eve, TODAY - timedelta(days=730), category="contract", status="awaiting_response",
             response_requested_on=TODAY - timedelta(days=60), response_due_on=TODAY - timedelta(days=30))
    db.session.flush()
    add_case(acme, rob, this_week, category="scam", merged_into_id=acme_cases[1].id)
    merged_away = add_business("Acme Appliance Store", merged_into_id=acme.id)
    add_case(merged_away, eve, this_week - timedelta(weeks=1), status="closed")  # not moved: still left out of lists
    db.session.commit()
    return {"acme": acme, "globex": globex, "initech": initech}


# --- The page ----------------------------------------------------------------------------


def test_the_dashboard_needs_a_signed_in_user(app):
    response = app.test_client().get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_editor_sees_the_newsroom_as_charts_and_tables(login, newsroom):
    page = dashboard_page(login("eve"))
    with open("/tmp/dashboard-editor.html", "w") as out:  # to read the page as a user would
        out.write(page)

    assert "Figures for the whole newsroom" in page
    assert re.search(r"<strong>10</strong> cases", page)  # every row but the merged duplicate
    assert re.search(r"<strong>7</strong> open", page)

    businesses = table(page, "businesses")
    assert list(businesses.items())[:2] == [("Acme Appliances", 5), ("Globex Corporation", 2)]
    assert "Initech" not in businesses  # nothing in the last 90 days
    assert "Acme Appliance Store" not in businesses  # merged into Acme
    assert bar_tooltips(page, "businesses")["Acme Appliances"] == 5
    assert 'href="/businesses/acme-appliances"' in figure_html(page, "businesses")

    categories = table(page, "category")
    assert categories["Refunds and returns"] == 4  # 3 Acme + the case of the merged business
    assert categories["Warranty and repairs"] == 2
    assert categories["Billing, fees and overcharging"] == 3
    assert "Scams and fraud" not in categories  # only the merged duplicate was a scam
    assert bar_tooltips(page, "category")["Billing, fees and overcharging"] == 3

    statuses = table(page, "status")
    assert statuses == {"New": 5, "Investigating": 1, "Awaiting business response": 1, "Resolved": 0,
                        "Published": 1, "Closed": 2, "Total": 10}

    weeks = table(page, "weekly")
    assert len(weeks) == 26 + 1  # every week, empty ones included, and the total
    this_week, three_weeks_ago = monday(TODAY), monday(TODAY) - timedelta(weeks=3)
    assert weeks[stats.week_label(this_week, with_year=True)] == 5
    assert weeks[stats.week_label(three_weeks_ago, with_year=True)] == 2
    assert weeks[stats.week_label(this_week - timedelta(weeks=1), with_year=True)] == 1  # the merged business's case
    assert weeks[stats.week_label(this_week - timedelta(weeks=2), with_year=True)] == 0
    assert bar_tooltips(page, "weekly")[stats.week_label(this_week)] == 5
    assert f">{stats.week_label(this_week)}</text>" in figure_html(page, "weekly")  # the latest week is labelled

    assert table(page, "reporters") == {"Unassigned": 6, "Rita Reporter": 1, "Total": 7}
    waiting = table(page, "waiting")
    assert waiting["Over a year"] == 1 and sum(v for k, v in waiting.items() if k != "Total") == 7
    assert "1 case is</a> past the business’s right-of-reply deadline" in figure_html(page, "waiting")


def test_a_reporter_sees_only_their_own_cases(login, users):
    rita, rob = login("rita"), login("rob")
    file_case(rita, business_name="Rita's Garage", category="auto")
    file_case(rob, business_name="Rob Secret Business", category="scam", title="Rob's confidential story")
    shared = add_business("Shared Plumbing")
    add_case(shared, users["rob"], TODAY, assigned_to=users["rita"], category="home_improvement")
    add_case(shared, users["rob"], TODAY, category="home_improvement")  # Rob's alone
    db.session.commit()

    page = dashboard_page(rita)
    with open("/tmp/dashboard-reporter.html", "w") as out:
        out.write(page)
    assert "Figures for your cases only" in page
    assert "Rob Secret Business" not in page and "Scams and fraud" not in page
    assert re.search(r"<strong>2</strong> cases", page)
    assert table(page, "businesses") == {"Rita's Garage": 1, "Shared Plumbing": 1, "Total": 2}
    assert table(page, "reporters") == {"Rita Reporter": 2, "Total": 2}  # filing assigns a reporter their case

    assert "Rob Secret Business" in dashboard_page(login("eve"))
    assert table(dashboard_page(rob), "businesses") == {"Rob Secret Business": 1, "Shared Plumbing": 2, "Total": 3}


def test_an_empty_archive_shows_a_friendly_empty_state(login):
    page = dashboard_page(login("eve"))
    assert "No complaints yet" in page
    assert "<svg" not in page and "dash-figure" not in page
    assert "File a case" in page

    reporter_page = dashboard_page(login("rita"))
    assert "You have not filed a case" in reporter_page and "<svg" not in reporter_page


def test_a_figure_with_nothing_to_count_says_so_instead_of_drawing(login, users):
    old = add_business("Old Complaints Ltd")
    add_case(old, users["eve"], TODAY - timedelta(days=400), status="closed")
    db.session.commit()

    page = dashboard_page(login("eve"))
    assert "No complaints received in the last 90 days." in figure_html(page, "businesses")
    assert "<svg" not in figure_html(page, "businesses")
    assert "No open cases." in figure_html(page, "reporters")
    assert "<svg" in figure_html(page, "status")


def test_rising_businesses_are_flagged_on_the_page(login, users):
    eve = users["eve"]
    surge, steady = add_business("Surge Ltd"), add_business("Steady Co")
    add_cases(4, surge, eve, TODAY - timedelta(days=3))  # nothing before: rising
    add_cases(4, steady, eve, TODAY - timedelta(days=3))
    add_cases(24, steady, eve, TODAY - timedelta(days=100))  # 4 per 30 days before: steady
    db.session.commit()

    page = dashboard_page(login("eve"))
    rising = rising_section(page)
    assert '<a href="/businesses/surge-ltd">Surge Ltd</a> <span class="badge rising">Rising</span>' in rising
    assert "<strong>4</strong> in the last 30 days" in rising and "none in the previous 180 days" in rising
    assert "Steady Co" not in rising
    top = figure_html(page, "businesses")
    assert re.search(r'Surge Ltd</a> <span class="badge rising">Rising</span>', top)
    assert not re.search(r'Steady Co</a> <span class="badge rising">', top)


def test_no_rising_business_is_said_plainly(login, users):
    add_cases(2, add_business("Quiet Ltd"), users["eve"], TODAY)
    db.session.commit()
    assert "No business’s complaints are rising sharply right now." in rising_section(dashboard_page(login("eve")))


def test_labels_are_escaped_in_charts_and_tables(login, users):
    add_cases(2, add_business('<img src=x onerror="alert(1)"> & Sons'), users["eve"], TODAY)
    db.session.commit()
    page = dashboard_page(login("eve"))
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=" in figure_html(page, "businesses")
    assert "Sons" in bar_tooltips(page, "businesses").popitem()[0]


def test_the_saved_searches_panel_counts_new_matches(login):
    eve = login("eve")
    file_case(eve, title="Warranty refused on a fridge", business_name="Frosty Fridges")
    eve.post("/search/saved", data={"q": "fridge", "name": "Fridges"})
    file_case(eve, title="Another fridge warranty refused", business_name="Frosty Fridges")

    panel = re.search(r'<aside class="dash-saved".*?</aside>', dashboard_page(eve), re.S).group(0)
    assert ">Fridges</a>" in panel and "1 new" in panel


def test_the_page_has_no_inline_scripts_or_styles(login, newsroom):
    page = dashboard_page(login("eve"))
    assert "<script>" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "style=" not in page and "<style" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace("http://localhost", "")


# --- The stats functions, directly ---------------------------------------------------------


def test_weekly_counts_cover_26_iso_weeks_including_empty_ones(users):
    acme = add_business("Acme")
    add_cases(2, acme, users["eve"], WEDNESDAY)  # this week
    add_case(acme, users["eve"], date(2026, 11, 16))  # this week's Monday
    add_case(acme, users["eve"], date(2026, 11, 15))  # last week's Sunday
    add_case(acme, users["eve"], date(2026, 5, 25))  # the Monday 25 weeks ago: the first week shown
    add_case(acme, users["eve"], date(2026, 5, 24))  # the day before: too old
    add_case(acme, users["eve"], date(2026, 11, 19))  # tomorrow: not counted yet
    db.session.commit()

    weeks = stats.weekly_counts(users["eve"], WEDNESDAY)
    assert len(weeks) == 26
    assert all(day.weekday() == 0 for day, _ in weeks)
    assert weeks[0] == (date(2026, 5, 25), 1)
    assert weeks[-1] == (date(2026, 11, 16), 3)
    assert weeks[-2] == (date(2026, 11, 9), 1)
    assert sum(n for _, n in weeks) == 5
    assert stats.week_label(date(2026, 11, 16)) == "16 Nov"


def test_top_businesses_count_the_last_90_days(users):
    eve = users["eve"]
    acme, globex, tiny = add_business("Acme"), add_business("Globex"), add_business("Tiny")
    add_cases(3, acme, eve, WEDNESDAY - timedelta(days=89))  # the oldest day of the 90
    add_cases(5, acme, eve, WEDNESDAY - timedelta(days=90))  # one day too old
    add_cases(2, globex, eve, WEDNESDAY)
    add_case(tiny, eve, WEDNESDAY)
    db.session.commit()

    top = stats.top_businesses(eve, WEDNESDAY)
    assert [(b.name, b.count) for b in top] == [("Acme", 3), ("Globex", 2), ("Tiny", 1)]
    assert top[0].slug == "acme"
    assert [b.name for b in stats.top_businesses(eve, WEDNESDAY, limit=2)] == ["Acme", "Globex"]


def test_categories_statuses_and_open_cases_per_reporter(users):
    rita, rob, eve = users["rita"], users["rob"], users["eve"]
    acme = add_business("Acme")
    add_cases(2, acme, rita, WEDNESDAY, category="warranty", assigned_to=rita)
    add_case(acme, rita, WEDNESDAY, category="warranty", status="awaiting_response", assigned_to=rob)
    add_case(acme, eve, WEDNESDAY, category="refund", status="investigating")
    add_case(acme, eve, WEDNESDAY, category="refund", status="resolved", assigned_to=rob)
    add_case(acme, eve, WEDNESDAY, category="unknown-kind", status="closed")
    db.session.commit()

    assert stats.by_category(eve) == [("warranty", "Warranty and repairs", 3), ("refund", "Refunds and returns", 2),
                                      ("unknown-kind", "unknown-kind", 1)]
    assert [(label, n) for _, label, n in stats.by_status(eve)] == [
        ("New", 2), ("Investigating", 1), ("Awaiting business response", 1), ("Resolved", 1), ("Published", 0),
        ("Closed", 1)]
    assert stats.open_per_reporter(eve) == [(rita.id, "Rita Reporter", 2), (rob.id, "Rob Reporter", 1),
                                            (None, "Unassigned", 1)]  # on a tie, Unassigned comes last
    # Rob sees the cases assigned to him, of which one is open.
    assert stats.open_per_reporter(rob) == [(rob.id, "Rob Reporter", 1)]
    assert sum(n for *_, n in stats.by_status(rob)) == 2


def test_waiting_buckets_open_cases_by_age_and_counts_overdue_replies(users):
    eve = users["eve"]
    acme = add_business("Acme")
    for age in (0, 6, 7, 27, 28, 90, 91, 364, 365, 2000):
        add_case(acme, eve, WEDNESDAY - timedelta(days=age), status="investigating")
    add_case(acme, eve, WEDNESDAY - timedelta(days=2000), status="resolved")  # not open
    add_case(acme, eve, WEDNESDAY - timedelta(days=40), status="awaiting_response",
             response_requested_on=WEDNESDAY - timedelta(days=31), response_due_on=WEDNESDAY - timedelta(days=1))
    add_case(acme, eve, WEDNESDAY - timedelta(days=40), status="awaiting_response",
             response_requested_on=WEDNESDAY - timedelta(days=30), response_due_on=WEDNESDAY)  # due today: not yet
    db.session.commit()

    assert stats.waiting(eve, WEDNESDAY) == [("Under a week", 2), ("1–4 weeks", 2), ("1–3 months", 4),
                                             ("3–12 months", 2), ("Over a year", 2)]
    assert stats.overdue_count(eve, WEDNESDAY) == 1
    summary = stats.summary(eve, WEDNESDAY)
    assert (summary.total, summary.open, summary.last_7_days, summary.overdue) == (13, 12, 2, 1)


@pytest.mark.parametrize("now, before, rising", [
    (3, 0, True),  # no previous complaints and at least N now
    (2, 0, False),  # fewer than N
    (6, 18, True),  # previous rate 3 per 30 days: exactly twice
    (5, 18, False),  # less than twice
    (4, 24, False),  # steady: 4 per 30 days before and now
    (13, 36, True),
])
def test_rising_is_n_complaints_and_k_times_the_previous_rate(users, now, before, rising):
    eve = users["eve"]
    business = add_business("Acme")
    add_cases(now, business, eve, WEDNESDAY - timedelta(days=10))
    add_cases(before, business, eve, WEDNESDAY - timedelta(days=120))
    db.session.commit()

    found = stats.rising_businesses(eve, WEDNESDAY)
    assert [r.name for r in found] == (["Acme"] if rising else [])
    if found:
        assert (found[0].now, found[0].before, found[0].previous_rate) == (now, before, before * 30 / 180)


def test_rising_windows_and_settings(users):
    eve = users["eve"]
    edge = add_business("Edge")
    add_cases(3, edge, eve, WEDNESDAY - timedelta(days=29))  # the window's oldest day
    add_cases(3, edge, eve, WEDNESDAY - timedelta(days=30))  # the baseline's newest day
    add_cases(50, edge, eve, WEDNESDAY - timedelta(days=210))  # before the baseline: ignored
    db.session.commit()

    [found] = stats.rising_businesses(eve, WEDNESDAY)
    assert (found.now, found.before, found.previous_rate, found.ratio) == (3, 3, 0.5, 6.0)
    assert stats.rising_businesses(eve, WEDNESDAY, factor=7) == []
    assert stats.rising_businesses(eve, WEDNESDAY, min_complaints=4) == []
    [wider] = stats.rising_businesses(eve, WEDNESDAY, window_days=31, baseline_days=179, min_complaints=6)
    assert (wider.now, wider.before) == (6, 0)


def test_the_settings_come_from_the_configuration(app, login, users):
    business = add_business("Acme")
    add_cases(2, business, users["eve"], TODAY)
    db.session.commit()
    assert "Acme" not in rising_section(dashboard_page(login("eve")))
    app.config["RISING_MIN_COMPLAINTS"] = 2
    page = dashboard_page(login("eve"))
    assert "Acme" in rising_section(page) and "at least 2 complaints" in page


def test_merged_duplicates_and_merged_businesses_are_left_out(users):
    eve = users["eve"]
    acme = add_business("Acme")
    kept = add_case(acme, eve, WEDNESDAY)
    db.session.flush()
    add_cases(3, acme, eve, WEDNESDAY, merged_into_id=kept.id)
    old_name = add_business("Acme Old Name", merged_into_id=acme.id)
    add_cases(4, old_name, eve, WEDNESDAY)
    db.session.commit()

    assert [(b.name, b.count) for b in stats.top_businesses(eve, WEDNESDAY)] == [("Acme", 1)]
    assert stats.rising_businesses(eve, WEDNESDAY) == []  # Acme has 1 case; the merged business is not listed
    assert stats.summary(eve, WEDNESDAY).total == 5


def test_the_figures_cost_the_same_number_of_queries_however_many_cases(app, users):
    """Aggregated by the database: no query per case, business or week."""
    eve = users["eve"]

    def queries_for_dashboard() -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            dashboard = stats.build_dashboard(eve, app.config, WEDNESDAY)
            for figure in dashboard.figures:
                figure.svg()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    add_cases(3, add_business("Acme"), eve, WEDNESDAY)
    db.session.commit()
    few = queries_for_dashboard()

    rows = []
    for b in range(40):
        business = add_business(f"Business {b}")
        for n in range(25):
            number = next(_numbers)
            rows.append({"reference": f"C-2098-{number:05d}", "title": "t", "narrative": "n",
                         "category": ["refund", "billing", "scam"][n % 3], "status": ["new", "closed"][n % 2],
                         "business_id": business.id, "complainant_name": "c", "currency": "USD",
                         "date_received": WEDNESDAY - timedelta(days=(b * 25 + n) % 400), "received_via": "web",
                         "created_by_id": eve.id, "consent_to_publish": False})
    db.session.execute(insert(Case.__table__), rows)
    db.session.commit()
    assert queries_for_dashboard() == few <= 10


# --- Charts -------------------------------------------------------------------------------


def test_horizontal_bars_shorten_long_labels_and_keep_them_in_the_tooltip():
    long_name = "The Extraordinarily Long-Named Home Improvement Contractors of Springfield"
    svg = str(hbar_chart([long_name, "Short & <b>"], [7, 0], "Top <businesses>", highlight={0}))
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-label="Top &lt;businesses&gt;"' in svg
    assert f"<title>{long_name}: 7</title>" in svg
    shown = re.search(r">(The Extraordinarily[^<]*)</text>", svg).group(1)
    assert shown.endswith("…") and len(shown) <= 30 and long_name.startswith(shown[:-1])
    assert "Short &amp; &lt;b&gt;: 0" in svg and "<b>" not in svg
    assert 'fill="#c62828"' in svg  # the highlighted row


def test_bar_chart_keeps_its_signature():
    svg = str(bar_chart(["Jan 2026", "Feb 2026"], [1, 3], "Per month"))
    assert "<title>Feb 2026: 3</title>" in svg and 'viewBox="0 0 640 240"' in svg
    assert str(bar_chart([], [], "Nothing")).endswith("</svg>")
