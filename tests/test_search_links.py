"""The results page builds its links without url_for() per link (search/links.py): they must be
exactly the links url_for() makes, whatever an editor types or a facet value holds."""
import pytest
from flask import url_for

from investigations.search.links import QueryStrings, with_query

TRICKY = ["refund & “fee” 100% /a?b=c+d é", "Acme, Inc.", "O'Neil's (UK) Ltd; #1", "a=b&c", " spaced  out ", "日本"]


@pytest.mark.parametrize("value", TRICKY)
def test_a_built_link_is_the_link_url_for_makes(app, value):
    args = {"q": [value], "business": [value, "Globex"], "sort": "date", "page": 2}
    with app.test_request_context():
        assert with_query(url_for("search.index"), QueryStrings()(args)) == url_for("search.index", **args)

