"""Withholding a complainant's identity from text that leaves the newsroom.

Reporters write "Ms Lopez called on 555-0199" into narratives, notes and captions. For an outside
dossier every printed text goes through a Redactor built from the identities of the complainants
who did not consent (the case's own and those of cases merged into it) and the words the editor
asked to withhold. A match prints as "[complainant]" (or "[withheld]" for the editor's words).

Matching ignores case and accents: "LÓPEZ", "lopez" and "López" are the same name. Names match
whole and by each part of three letters or more; phone numbers match by their digits, so
555-0142, (555) 0142 and 5550142 are one number; e-mail addresses and addresses match whole, and
an address also by each of its lines.
"""
import re
import unicodedata
from dataclasses import dataclass, field

from markupsafe import Markup, escape

COMPLAINANT = "[complainant]"
WITHHELD = "[withheld]"
MIN_NAME_PART = 3
MIN_PHONE_DIGITS = 7
MIN_ADDRESS_PART = 5
# Runs of digits with the separators people type between them: +1 (555) 010-0142, 555.0142 …
NOT_AFTER_ALNUM, NOT_BEFORE_ALNUM = r"(?<![^\W_])", r"(?![^\W_])"
PHONE_LIKE = re.compile(r"\+?\(?\d[\d\s().\-/]*\d")


def fold(text: str) -> tuple[str, list[int]]:
    """`text` lower-cased without accents, and for each character of it the index in `text` it came from."""
    folded, origin = [], []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for lower in part.lower():
                folded.append(lower)
                origin.append(index)
    return "".join(folded), origin


def _folded(text: str) -> str:
    return fold(text)[0]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass(frozen=True)
class Identity:
    """What identifies one complainant in free text."""

    name: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""

    @classmethod
    def of_case(cls, case) -> "Identity":
        return cls(case.complainant_name or "", case.complainant_email or "", case.complainant_phone or "",
                   case.complainant_address or "")

    def words(self) -> list[str]:
        """The texts to find, folded, longest first (so a whole name goes before its parts)."""
        found = set()
        for value in (self.name, self.email, self.address):
            if value.strip():
                found.add(_folded(" ".join(value.split())))
        name = _folded(self.name)
        # Each part of the name: "maria-jose o'neil" is "maria-jose", "o'neil", "maria", "jose", "neil".
        found |= {part for part in [*name.split(), *re.findall(r"\w+", name)] if len(part) >= MIN_NAME_PART}
        if self.email:
            local = _folded(self.email).split("@", 1)[0]
            found |= {part for part in re.split(r"[._+\-]", local) if len(part) >= MIN_NAME_PART}
        for line in re.split(r"[\n,;]", self.address):
            line = _folded(" ".join(line.split()))
            if len(line) >= MIN_ADDRESS_PART:
                found.add(line)
        return sorted(found, key=len, reverse=True)


@dataclass
class Redactor:
    identities: list[Identity] = field(default_factory=list)
    extra_words: list[str] = field(default_factory=list)

    def __post_init__(self):
        complainant = {word for identity in self.identities for word in identity.words()}
        extra = {_folded(" ".join(word.split())) for word in self.extra_words if word.strip()} - complainant
        self._phones = {digits for identity in self.identities
                        if len(digits := _digits(identity.phone)) >= MIN_PHONE_DIGITS}
        self._replacement = {word: COMPLAINANT for word in complainant} | {word: WITHHELD for word in extra}
        words = sorted(self._replacement, key=len, reverse=True)
        # Whole words only, where the word starts or ends with a letter or digit ("o'neil", "@example");
        # an underscore separates words too, as in file names (lucia_lopez_receipt.pdf).
        self._pattern = re.compile("|".join(
            (NOT_AFTER_ALNUM if word[0].isalnum() else "") + re.escape(word) +
            (NOT_BEFORE_ALNUM if word[-1].isalnum() else "") for word in words)) if words else None

    @property
    def is_empty(self) -> bool:
        return self._pattern is None and not self._phones

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, replacement) of every match in `text`, in order, not overlapping."""
        if not text or self.is_empty:
            return []
        folded, origin = fold(text)
        found = []
        if self._pattern is not None:
            for match in self._pattern.finditer(folded):
                found.append((origin[match.start()], origin[match.end() - 1] + 1,
                              self._replacement[match.group(0)]))
        for match in PHONE_LIKE.finditer(text):
            digits = _digits(match.group(0))
            if len(digits) >= MIN_PHONE_DIGITS and any(
                    phone.endswith(digits) or digits.endswith(phone) for phone in self._phones):
                found.append((match.start(), match.end(), COMPLAINANT))
        spans, end = [], -1
        for start, stop, replacement in sorted(found, key=lambda span: (span[0], -span[1])):
            if start >= end:
                spans.append((start, stop, replacement))
                end = stop
            elif stop > end:  # overlapping matches: one replacement covers both
                spans[-1] = (spans[-1][0], stop, spans[-1][2])
                end = stop
        return spans

    def redact(self, text: str | None) -> str:
        if not text:
            return text or ""
        out, last = [], 0
        for start, stop, replacement in self.spans(text):
            out.append(text[last:start])
            out.append(replacement)
            last = stop
        out.append(text[last:])
        return "".join(out)

    def would_change(self, text: str | None) -> bool:
        return bool(text) and bool(self.spans(text))


NO_REDACTION = Redactor()


def highlighted(redacted: str) -> Markup:
    """Redacted text for a page, each withheld place marked."""
    text = str(escape(redacted))
    for marker in (COMPLAINANT, WITHHELD):
        text = text.replace(marker, f'<mark class="withheld">{marker}</mark>')
    return Markup(text)
