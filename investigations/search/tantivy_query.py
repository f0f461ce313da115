"""The search box's query language, parsed and compiled into tantivy queries over the index's fields.

The user's query is parsed here, into tantivy queries built term by term (tantivy's own parser
knows neither wildcards, `word~` nor a lenient reading of a lone operator), with the same
analyzers the index uses, so that stemming, phrases and fields behave as on the other engines.
"""
import re

from tantivy import Occur, Query

from .query import FACETS
from .tantivy_schema import ANALYZERS, FIELD_ANALYZER, SCHEMA

MAX_FUZZY_DISTANCE = 2
# Searched when a word names no field, with the boosts the Whoosh engine gives them.
DEFAULT_FIELDS = {"title": 2.0, "narrative": 1.0, "notes": 1.0, "evidence": 1.0, "business": 1.5,
                  "complainant": 1.0, "reference": 1.0, "source_id": 1.0}
KEYWORD_FIELDS = ("tag", *FACETS)  # raw: one term per value
FIELD_ALIASES = {"ref": "reference", "tags": "tag"}
QUERYABLE_FIELDS = set(DEFAULT_FIELDS) | set(KEYWORD_FIELDS)

TOKEN = re.compile(r'''
    (?P<space>\s+)
  | (?P<open>\()
  | (?P<close>\))
  | (?:(?P<pfield>[A-Za-z_]+):)?"(?P<phrase>[^"]*)"?(?:~\d*)?(?:\^[\d.]*)?
  | (?:(?P<field>[A-Za-z_]+):(?=[^\s()]))?(?P<word>[^\s()"]+)
''', re.VERBOSE)
OPERATORS = ("AND", "OR", "NOT")


def _tokens(text: str) -> list[tuple]:
    """(kind, field, text) tuples: op, open, close, phrase or word. Unknown fields stay part of the word."""
    tokens = []
    for match in TOKEN.finditer(text):
        if match.group("space"):
            continue
        if match.group("open") or match.group("close"):
            tokens.append(("open" if match.group("open") else "close", None, None))
        elif match.group("phrase") is not None:
            field = match.group("pfield")
            name = FIELD_ALIASES.get((field or "").lower(), (field or "").lower())
            if field and name not in QUERYABLE_FIELDS:
                tokens.append(("word", None, field))
                name = None
            tokens.append(("phrase", name or None, match.group("phrase")))
        else:
            field, word = match.group("field"), match.group("word")
            if word in OPERATORS and not field:
                tokens.append(("op", None, word))
                continue
            name = FIELD_ALIASES.get((field or "").lower(), (field or "").lower())
            if field and name not in QUERYABLE_FIELDS:
                name, word = None, f"{field}:{word}"
            tokens.append(("word", name or None, word))
    return tokens


class _Parser:
    """or := and (OR and)* ; and := unary ((AND)? unary)* ; unary := NOT unary | atom ;
    atom := ( or ) | word | phrase. Stray operators and parentheses are skipped, never an error.
    Produces nested tuples: ("or", [...]), ("and", [...]), ("not", x), ("word"/"phrase", field, text)."""

    def __init__(self, tokens):
        self.tokens, self.at = tokens, 0

    def peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def parse(self):
        parts = []
        while self.peek() is not None:
            node = self.or_expr()
            if node is not None:
                parts.append(node)
            elif self.peek() is not None:
                self.at += 1  # a token no rule takes (a stray ")" or operator)
        return ("and", parts) if len(parts) > 1 else (parts[0] if parts else None)

    def or_expr(self):
        parts = [self.and_expr()]
        while (token := self.peek()) and token[0] == "op" and token[2] == "OR":
            self.at += 1
            parts.append(self.and_expr())
        parts = [part for part in parts if part is not None]
        return ("or", parts) if len(parts) > 1 else (parts[0] if parts else None)

    def and_expr(self):
        parts = []
        while (token := self.peek()) is not None:
            if token[0] == "close" or (token[0] == "op" and token[2] == "OR"):
                break
            if token[0] == "op" and token[2] == "AND":
                self.at += 1
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
        return ("and", parts) if len(parts) > 1 else (parts[0] if parts else None)

    def unary(self):
        token = self.peek()
        if token[0] == "op" and token[2] == "NOT":
            self.at += 1
            if self.peek() is None or self.peek()[0] == "close":
                return None
            inner = self.unary()
            return ("not", inner) if inner is not None else None
        self.at += 1
        if token[0] == "open":
            inner = self.or_expr()
            if (close := self.peek()) is not None and close[0] == "close":
                self.at += 1
            return inner
        if token[0] in ("word", "phrase"):
            return token
        return None  # an operator where a word belongs


class _Compiler:
    """Turns the parsed query into a tantivy Query over the schema's fields."""

    def __init__(self, schema):
        self.schema = schema

    def compile(self, node) -> Query | None:
        kind = node[0]
        if kind == "not":  # a NOT alone: everything but it
            inner = self.compile(node[1])
            return None if inner is None else Query.boolean_query(
                [(Occur.Must, Query.all_query()), (Occur.MustNot, inner)])
        if kind in ("and", "or"):
            clauses = []
            for part in node[1]:
                if kind == "and" and part[0] == "not":
                    inner = self.compile(part[1])
                    if inner is not None:
                        clauses.append((Occur.MustNot, inner))
                else:
                    query = self.compile(part)
                    if query is not None:
                        clauses.append((Occur.Must if kind == "and" else Occur.Should, query))
            if not clauses:
                return None
            if all(occur == Occur.MustNot for occur, _ in clauses):
                clauses.append((Occur.Must, Query.all_query()))
            if len(clauses) == 1 and clauses[0][0] != Occur.MustNot:
                return clauses[0][1]
            return Query.boolean_query(clauses)
        return self.leaf(kind, node[1], node[2])

    def leaf(self, kind: str, field: str | None, text: str) -> Query | None:
        fuzzy = None
        if kind == "word":
            text = re.sub(r"\^[\d.]*$", "", text)  # boosts are ignored
            if (match := re.fullmatch(r"(.+?)~(\d*)", text)) and re.search(r"\w", match.group(1)):
                text = match.group(1)
                fuzzy = min(int(match.group(2) or 1), MAX_FUZZY_DISTANCE)
            text = text.rstrip("~")
            if not field and text.strip("*?") == "" and "*" in text:
                return Query.all_query()  # "*": every case, as on Whoosh
        fields = {field: 1.0} if field else DEFAULT_FIELDS
        queries = []
        for name, boost in fields.items():
            query = self.field_query(name, kind, text, fuzzy)
            if query is not None:
                queries.append(query if boost == 1.0 else Query.boost_query(query, boost))
        if not queries:
            return None
        return queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Should, q) for q in queries])

    def field_query(self, name: str, kind: str, text: str, fuzzy: int | None) -> Query | None:
        analyzer = FIELD_ANALYZER.get(name)
        if kind == "word" and ("*" in text or "?" in text):
            pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text.lower())
            literal = re.sub(r"[*?]", "", text)
            if analyzer and not re.fullmatch(r"\w*", literal):
                return None  # wildcards apply to single words of text fields
            return Query.regex_query(self.schema, name, pattern)
        if analyzer is None:  # one term per value: a reference, a tag, a facet value
            values = sorted({text.strip(), text.strip().lower()} - {""})
            if not values:
                return None
            if len(values) == 1:
                return Query.term_query(self.schema, name, values[0])
            return Query.term_set_query(self.schema, name, values)
        words = ANALYZERS[analyzer].analyze(text)
        if not words:
            return None
        if len(words) == 1:
            if fuzzy:
                return Query.fuzzy_term_query(self.schema, name, words[0], distance=fuzzy)
            return Query.term_query(self.schema, name, words[0])
        return Query.phrase_query(self.schema, name, words)


def parse(text: str, schema=SCHEMA) -> Query:
    """The query for a user's text; an empty text finds every case, text without any word none."""
    if not text.strip():
        return Query.all_query()
    tree = _Parser(_tokens(text)).parse()
    query = _Compiler(schema).compile(tree) if tree is not None else None
    if query is None:
        raise ValueError("no searchable word")
    return query


def plain_words(text: str, schema=SCHEMA) -> Query:
    """The fallback for a query that cannot be read: every word of it, as plain words."""
    words = re.findall(r"\w+", text)
    if not words:
        return Query.empty_query()
    return _Compiler(schema).compile(("and", [("word", None, word) for word in words])) or Query.empty_query()
