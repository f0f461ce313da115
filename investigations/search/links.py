"""The results page's links, built from one base address each instead of a url_for() per link.

A page of results has some 60 links (a facet value's, a hit's, the pager's), and url_for() looks
up the endpoint's rule and runs its builder every time. The links here are the ones url_for()
made, byte for byte: the same arguments in the same order, quoted as werkzeug quotes a query.
"""
from dataclasses import dataclass
from urllib.parse import quote_plus

# What werkzeug's url_for() leaves unquoted in a query string (werkzeug.urls._urlencode).
QUERY_SAFE = "!$'()*,/:;?@"


class QueryStrings:
    """Query strings as url_for() writes them (urllib's urlencode with werkzeug's safe characters),
    each name and value quoted once: a page's links differ from each other by one argument or two."""

    def __init__(self):
        self._quoted: dict[str, str] = {}

    def quote(self, value) -> str:
        text = str(value)
        quoted = self._quoted.get(text)
        if quoted is None:
            quoted = self._quoted[text] = quote_plus(text, safe=QUERY_SAFE)
        return quoted

    def __call__(self, args: dict) -> str:
        """`args` (name -> a value, or a list of values) after the "?"."""
        return "&".join(f"{self.quote(name)}={self.quote(value)}" for name, values in args.items()
                        for value in (values if isinstance(values, list | tuple | set) else [values])
                        if value is not None)


def with_query(address: str, query: str) -> str:
    """`address` (a url_for() without query arguments) with `query` as its query string."""
    return f"{address}?{query}" if query else address


@dataclass
class FacetValue:
    """One value of a facet as the page lists it."""
    label: str
    count: int
    chosen: bool
    link: str  # the results with this value added, or taken away if it is chosen


@dataclass
class FacetList:
    title: str
    name: str
    values: list[FacetValue]
    left_out: int  # values not listed (a common word can match cases of thousands of businesses)
    narrowed: bool  # some of its values are chosen: a link adds one more ("any of them")
