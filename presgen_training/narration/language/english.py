"""English: read numbers, money, dates, times, abbreviations, URLs and e-mail addresses the way a narrator would.

``normalize`` maps each written token to what is spoken for it (one string per token, possibly several words or
none), so word timings and captions keep the written form. Each rule looks at one token and its neighbours;
the first rule that recognises the token's core wins, and anything no rule recognises is spoken as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from num2words import num2words

from presgen_training.narration.language.tokens import Token, split_token

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MONTH_ABBREVIATIONS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# words after which a four-digit number is a year ("in 2024", "since 1999")
YEAR_CUES = frozenset(
    {
        "in",
        "since",
        "by",
        "from",
        "until",
        "till",
        "of",
        "during",
        "before",
        "after",
        "year",
        "circa",
        "through",
        "spring",
        "summer",
        "autumn",
        "fall",
        "winter",
        "early",
        "late",
        "mid",
        "fy",
        "class",
    }
)
DETERMINERS = frozenset({"the", "a", "this", "that", "our", "your", "their", "his", "her", "its", "next", "last"})
YEAR_ERAS = frozenset({"bc", "ad", "bce", "ce"})
# words after which digits are read one by one ("code 4357", "PIN 0042")
CODE_CUES = frozenset(
    {
        "code",
        "pin",
        "room",
        "extension",
        "ext",
        "flight",
        "gate",
        "ticket",
        "order",
        "account",
        "id",
        "serial",
        "zip",
        "postcode",
        "badge",
        "seat",
        "platform",
        "otp",
        "passcode",
    }
)
SCALES = {
    "k": "thousand",
    "K": "thousand",
    "M": "million",
    "mn": "million",
    "bn": "billion",
    "B": "billion",
    "tn": "trillion",
    "T": "trillion",
}
SCALE_WORDS = frozenset({"hundred", "thousand", "million", "billion", "trillion"})
K_RESOLUTION = frozenset(
    {
        "video",
        "videos",
        "display",
        "displays",
        "screen",
        "screens",
        "monitor",
        "monitors",
        "tv",
        "tvs",
        "resolution",
        "camera",
        "cameras",
        "footage",
        "streaming",
    }
)
# symbol: (one, many, hundredth one, hundredth many)
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
}
CURRENCY_CODES = {
    "usd": "US dollars",
    "eur": "euros",
    "gbp": "pounds",
    "jpy": "yen",
    "cad": "Canadian dollars",
    "aud": "Australian dollars",
    "chf": "Swiss francs",
}
# unit after a number: (singular, plural)
UNITS = {
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "kg": ("kilogram", "kilograms"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "ml": ("milliliter", "milliliters"),
    "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kb": ("kilobyte", "kilobytes"),
    "mb": ("megabyte", "megabytes"),
    "gb": ("gigabyte", "gigabytes"),
    "tb": ("terabyte", "terabytes"),
    "hz": ("hertz", "hertz"),
    "khz": ("kilohertz", "kilohertz"),
    "mhz": ("megahertz", "megahertz"),
    "ghz": ("gigahertz", "gigahertz"),
    "ms": ("millisecond", "milliseconds"),
    "sec": ("second", "seconds"),
    "secs": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "°c": ("degree Celsius", "degrees Celsius"),
    "°f": ("degree Fahrenheit", "degrees Fahrenheit"),
    "x": ("times", "times"),
}
# abbreviation (with its period) -> (expansion, may end a sentence)
ABBREVIATIONS = {
    "mr.": ("Mister", False),
    "mrs.": ("Missus", False),
    "ms.": ("Miz", False),
    "prof.": ("Professor", False),
    "e.g.": ("for example", False),
    "i.e.": ("that is", False),
    "vs.": ("versus", False),
    "vs": ("versus", False),
    "etc.": ("et cetera", True),
    "approx.": ("approximately", False),
    "inc.": ("Incorporated", True),
    "ltd.": ("Limited", True),
    "corp.": ("Corporation", True),
    "co.": ("Company", True),
    "jr.": ("Junior", True),
    "sr.": ("Senior", True),
    "dept.": ("Department", True),
    "ave.": ("Avenue", True),
    "blvd.": ("Boulevard", True),
    "mt.": ("Mount", False),
    "fig.": ("figure", False),
    "vol.": ("volume", False),
    "capt.": ("Captain", False),
    "lt.": ("Lieutenant", False),
    "sgt.": ("Sergeant", False),
    "gen.": ("General", False),
    "gov.": ("Governor", False),
    "rev.": ("Reverend", False),
    "est.": ("established", False),
    "w/": ("with", False),
    "w/o": ("without", False),
}
# abbreviations whose reading depends on what follows: (before a name, otherwise)
TITLE_OR_PLACE = {"dr.": ("Doctor", "Drive"), "st.": ("Saint", "Street")}
NUMBER_ABBREVIATIONS = {"no.": "number", "nos.": "numbers", "p.": "page", "pp.": "pages"}
SYMBOLS = {
    "&": "and",
    "+": "plus",
    "=": "equals",
    "->": "to",
    "\u2192": "to",
    "@": "at",
    "%": "percent",
    "~": "about",
    "#": "number",
}
FRACTIONS = {2: ("half", "halves"), 4: ("quarter", "quarters")}
TLDS = frozenset(
    {
        "com",
        "org",
        "net",
        "io",
        "dev",
        "ai",
        "edu",
        "gov",
        "co",
        "uk",
        "de",
        "fr",
        "app",
        "info",
        "biz",
        "us",
        "eu",
        "ca",
        "tv",
        "me",
        "ly",
    }
)
URL_SEPARATORS = {
    ".": "dot",
    "/": "slash",
    "-": "dash",
    "_": "underscore",
    ":": "colon",
    "?": "question mark",
    "=": "equals",
    "&": "and",
    "#": "hash",
    "~": "tilde",
    "+": "plus",
    "@": "at",
}

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_PLAIN = re.compile(rf"^(?P<sign>[-\u2212+]?)(?P<num>{_NUMBER})$")
_CURRENCY = re.compile(
    rf"^(?P<sign>-?)(?P<sym>[$\u20ac\u00a3\u00a5])(?P<num>{_NUMBER})(?P<scale>k|K|M|mn|m|bn|B|tn|T)?"
    r"(?P<plus>\+?)$"
)
_SCALED = re.compile(rf"^(?P<num>{_NUMBER})(?P<scale>k|K|M|mn|bn|B|tn|T)(?P<plus>\+?)$")
_PERCENT = re.compile(rf"^(?P<sign>[-\u2212+]?)(?P<num>{_NUMBER})%$")
_ORDINAL = re.compile(r"^(?P<num>\d{1,3}(?:,\d{3})*|\d+)(?P<end>st|nd|rd|th)$", re.IGNORECASE)
_DECADE = re.compile(r"^(?:'|\u2019)?(?P<num>\d{2}|1\d{3}|20\d{2})s$")
_TIME = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?P<ampm>[ap]\.?m\.?)?$", re.IGNORECASE)
_HOUR_AMPM = re.compile(r"^(?P<h>\d{1,2})(?P<ampm>[ap]\.?m\.?)$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$")
_SLASH_DATE = re.compile(r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4}|\d{2})$")
_RANGE = re.compile(rf"^(?P<a>{_NUMBER})[-\u2013\u2014](?P<b>{_NUMBER})(?P<pct>%?)$")
_FRACTION = re.compile(r"^(?P<a>\d+)/(?P<b>\d+)$")
_PHONE = re.compile(r"^(?:\+?1[-. ]?)?\(?\d{3}\)?[-. ]?\d{3}[-. ]\d{4}$|^\d{3}-\d{4}$")
_UNIT_GLUED = re.compile(rf"^(?P<num>{_NUMBER})(?P<unit>[A-Za-z\u00b0/]+)$")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
_URL = re.compile(
    r"^(?:(?:https?|ftp)://\S+|www\.\S+|[\w-]+(?:\.[\w-]+)*\.(?P<tld>[a-z]{2,4})(?:/\S*)?)$", re.IGNORECASE
)
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.){1,5}[A-Za-z]$")
_AMPERSAND_WORD = re.compile(r"^[A-Za-z]{1,4}&[A-Za-z]{1,4}$")
_MIXED = re.compile(r"^(?=.*[A-Za-z])(?=.*\d)[A-Za-z\d]+(?:-[A-Za-z\d]+)*$")
_DIGITS = {
    str(d): w for d, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"))
}


def _dots(text: str) -> str:
    return text.replace(".", "").lower()


@dataclass
class _Context:
    tokens: Sequence[Token]
    index: int

    def core(self, offset: int) -> str:
        i = self.index + offset
        return self.tokens[i].core if 0 <= i < len(self.tokens) else ""

    def token(self, offset: int) -> Token | None:
        i = self.index + offset
        return self.tokens[i] if 0 <= i < len(self.tokens) else None

    @property
    def is_last(self) -> bool:
        return self.index == len(self.tokens) - 1

    def starts_sentence(self, offset: int) -> bool:
        """True when the token at ``offset`` is the first of the text or follows a full stop."""
        before = self.token(offset - 1)
        return before is None or before.suffix.rstrip("\"')]}\u201d\u2019\u00bb").endswith((".", "!", "?"))

    def next_starts_sentence(self) -> bool:
        following = self.token(1)
        return following is None or following.core[:1].isupper()


@dataclass
class _Reading:
    core: str  # what is said for the token's core
    suffix: str | None = None  # replaces the token's written suffix (an abbreviation's period is no full stop)
    carry: str = ""  # words said after the next token ("$4.5 million" -> "... million dollars")
    prefix: str | None = None  # replaces the token's written prefix ("'80s": the apostrophe is not said)


class EnglishNormalizer:
    """Narrator's English; ``american`` drops the "and" inside numbers ("one hundred five")."""

    def __init__(self, american: bool = True) -> None:
        self.american = american
        self._rules: tuple[Callable[[Token, _Context], _Reading | None], ...] = (
            self._email,
            self._url,
            self._currency,
            self._percent,
            self._time,
            self._date,
            self._phone,
            self._ordinal,
            self._decade,
            self._range,
            self._fraction,
            self._scaled,
            self._unit_glued,
            self._number,
            self._abbreviation,
            self._initialism,
            self._symbol,
            self._mixed,
        )

    # --- numbers ---------------------------------------------------------------------------------------------
    def cardinal(self, n: int) -> str:
        if n >= 10**15:
            return self.digits(str(n))
        words = str(num2words(n, lang="en")).replace(",", "")
        return words.replace(" and ", " ") if self.american else words

    def ordinal(self, n: int) -> str:
        words = str(num2words(n, lang="en", to="ordinal")).replace(",", "")
        return words.replace(" and ", " ") if self.american else words

    def year(self, n: int) -> str:
        if n % 100 == 0 and n % 1000 != 0:
            return f"{self.cardinal(n // 100)} hundred"
        if 2000 <= n <= 2009 or n % 1000 == 0 or n < 1000:
            return self.cardinal(n)
        if n % 100 < 10:
            return f"{self.cardinal(n // 100)} oh {self.cardinal(n % 100)}"
        return f"{self.cardinal(n // 100)} {self.cardinal(n % 100)}"

    @staticmethod
    def digits(text: str, zero: str = "zero") -> str:
        return " ".join(zero if ch == "0" else _DIGITS[ch] for ch in text if ch.isdigit())

    def number(self, text: str) -> str:
        """ "1,234.5" -> "one thousand two hundred thirty-four point five"."""
        text = text.replace(",", "")
        whole, _, fraction = text.partition(".")
        spoken = self.cardinal(int(whole)) if whole else ""
        if fraction:
            spoken = f"{spoken} point {self.digits(fraction)}".strip()
        return spoken

    def amount(self, text: str, sign: str) -> str:
        minus = "minus " if sign in ("-", "\u2212") else ""
        return minus + self.number(text)

    # --- rules -----------------------------------------------------------------------------------------------
    def _email(self, tok: Token, ctx: _Context) -> _Reading | None:
        if _EMAIL.match(tok.core):
            return _Reading(_spell_address(tok.core, self))
        return None

    def _url(self, tok: Token, ctx: _Context) -> _Reading | None:
        m = _URL.match(tok.core)
        if not m or (m["tld"] and m["tld"].lower() not in TLDS) or _INITIALISM.match(tok.core):
            return None
        address = re.sub(r"^(?:(?:https?|ftp)://)?(?:www\.)?", "", tok.core, flags=re.IGNORECASE).rstrip("/")
        return _Reading(_spell_address(address, self))

    def _currency(self, tok: Token, ctx: _Context) -> _Reading | None:
        m = _CURRENCY.match(tok.core)
        if not m:
            return None
        one, many, cent, cents = CURRENCIES[m["sym"]]
        scale = m["scale"]
        if scale == "m":
            scale = "M"
        plus = " plus" if m["plus"] else ""
        number = m["num"].replace(",", "")
        if scale:
            return _Reading(f"{self.amount(number, m['sign'])} {SCALES[scale]}{plus} {many}")
        if ctx.core(1).lower() in SCALE_WORDS:  # "$4.5 million": the currency is said after "million"
            return _Reading(self.amount(number, m["sign"]), carry=many)
        whole, _, fraction = number.partition(".")
        units = int(whole or "0")
        minus = "minus " if m["sign"] else ""
        if fraction and len(fraction) == 2 and cent:
            hundredths = int(fraction)
            parts = []
            if units:
                parts.append(f"{self.cardinal(units)} {one if units == 1 else many}")
            if hundredths or not units:
                parts.append(f"{self.cardinal(hundredths)} {cent if hundredths == 1 else cents}")
            return _Reading(minus + " and ".join(parts) + plus)
        if fraction:
            return _Reading(f"{self.amount(number, m['sign'])}{plus} {many}")
        return _Reading(f"{minus}{self.cardinal(units)}{plus} {one if units == 1 and not plus else many}")

    def _percent(self, tok: Token, ctx: _Context) -> _Reading | None:
        if m := _PERCENT.match(tok.core):
            return _Reading(f"{self.amount(m['num'], m['sign'])} percent")
        return None

    def _time(self, tok: Token, ctx: _Context) -> _Reading | None:
        m = _TIME.match(tok.core)
        if m:
            hour, minute = int(m["h"]), int(m["m"])
            if hour > 24 or minute > 59:
                return None
            ampm = m["ampm"] or (ctx.core(1) if _dots(ctx.core(1)) in ("am", "pm") else "")
            twelve_hour = bool(ampm) or (1 <= hour <= 12 and not m["h"].startswith("0"))
            if minute == 0:
                if ampm:
                    spoken = self.cardinal(hour)
                elif twelve_hour:
                    spoken = f"{self.cardinal(hour)} o'clock"
                else:
                    spoken = f"{self.digits(m['h'], 'oh') if hour < 10 else self.cardinal(hour)} hundred"
            else:
                spoken = self.digits(m["h"], "oh") if m["h"].startswith("0") else self.cardinal(hour)
                spoken += f" oh {self.cardinal(minute)}" if minute < 10 else f" {self.cardinal(minute)}"
            if m["ampm"]:
                spoken += " " + _dots(m["ampm"]).upper()
            return _Reading(spoken)
        m = _HOUR_AMPM.match(tok.core)
        if m and 1 <= int(m["h"]) <= 12:
            return _Reading(f"{self.cardinal(int(m['h']))} {_dots(m['ampm']).upper()}")
        if _dots(tok.core) in ("am", "pm") and (_TIME.match(ctx.core(-1)) or ctx.core(-1).isdigit()):
            # "9 am", "10:30 p.m.": the period of "p.m." is a full stop only where a sentence ends
            ends = ctx.is_last or ctx.next_starts_sentence()
            suffix = tok.suffix[1:] if tok.suffix.startswith(".") and not ends else tok.suffix
            return _Reading(_dots(tok.core).upper(), suffix)
        return None

    def _date(self, tok: Token, ctx: _Context) -> _Reading | None:
        core = tok.core
        if m := _ISO_DATE.match(core):
            month, day = int(m["m"]), int(m["d"])
            if 1 <= month <= 12 and 1 <= day <= 31:
                return _Reading(f"{MONTHS[month - 1].title()} {self.ordinal(day)}, {self.year(int(m['y']))}")
        if m := _SLASH_DATE.match(core):
            a, b = int(m["a"]), int(m["b"])
            year = int(m["y"]) if len(m["y"]) == 4 else 2000 + int(m["y"])
            if 1 <= a <= 12 and 1 <= b <= 31:  # US order: month/day/year
                return _Reading(f"{MONTHS[a - 1].title()} {self.ordinal(b)}, {self.year(year)}")
            if 1 <= b <= 12 and 1 <= a <= 31:
                return _Reading(f"the {self.ordinal(a)} of {MONTHS[b - 1].title()}, {self.year(year)}")
        month_word = _month(core)
        abbreviated = (core.endswith(".") or tok.suffix.startswith(".")) and core.lower() != "may"
        if month_word and abbreviated and (_day(ctx.core(1)) or _day(ctx.core(-1)) or _year(ctx.core(1))):
            # "Jan. 5": the abbreviation's period is no full stop
            return _Reading(month_word, tok.suffix[1:] if tok.suffix.startswith(".") else tok.suffix)
        day_of_month = _day(core)
        if day_of_month and core.isdigit():
            if _month(ctx.core(-1)):  # "March 3" -> "March third"
                return _Reading(self.ordinal(day_of_month))
            if _month(ctx.core(1)):  # "3 March" -> "the third of March"
                return _Reading(f"the {self.ordinal(day_of_month)} of")
        year_number = _year(core)
        if year_number is not None:
            before = ctx.core(-1).lower().rstrip(".")
            after = _dots(ctx.core(1))
            following = ctx.core(1)
            noun_follows = following[:1].islower() and following.isalpha()
            if (
                before in YEAR_CUES
                or _month(ctx.core(-1))
                or after in YEAR_ERAS
                or (_day(ctx.core(-1)) and _month(ctx.core(-2)))
                or (
                    1900 <= year_number <= 2099
                    and (not noun_follows or (before in DETERMINERS and not following.endswith("s")))
                )
            ):
                return _Reading(self.year(year_number))
        return None

    def _phone(self, tok: Token, ctx: _Context) -> _Reading | None:
        if _PHONE.match(tok.core):
            groups = re.findall(r"\d+", tok.core)
            return _Reading(", ".join(self.digits(g, "oh") for g in groups))
        return None

    def _ordinal(self, tok: Token, ctx: _Context) -> _Reading | None:
        if m := _ORDINAL.match(tok.core):
            return _Reading(self.ordinal(int(m["num"].replace(",", ""))))
        return None

    def _decade(self, tok: Token, ctx: _Context) -> _Reading | None:
        m = _DECADE.match(tok.core)
        if not m:
            return None
        number = int(m["num"])
        spoken = self.year(number) if number >= 100 else self.cardinal(number)
        return _Reading(_plural(spoken), prefix=tok.prefix.rstrip("'\u2019"))

    def _range(self, tok: Token, ctx: _Context) -> _Reading | None:
        m = _RANGE.match(tok.core)
        if not m:
            return None
        a, b = m["a"], m["b"]
        if float(a.replace(",", "")) >= float(b.replace(",", "")):
            return None
        years = _year(a) is not None and _year(b) is not None
        say = (lambda t: self.year(int(t))) if years else self.number
        pct = " percent" if m["pct"] else ""
        return _Reading(f"{say(a)} to {say(b)}{pct}")

    def _fraction(self, tok: Token, ctx: _Context) -> _Reading | None:
        m = _FRACTION.match(tok.core)
        if not m:
            return None
        a, b = int(m["a"]), int(m["b"])
        if (a, b) == (24, 7):
            return _Reading("twenty-four seven")
        if 2 <= b <= 10 and 0 < a < b:
            one, many = FRACTIONS.get(b, (self.ordinal(b), _plural(self.ordinal(b))))
            return _Reading(f"{self.cardinal(a)} {one if a == 1 else many}" if a > 1 else f"one {one}")
        return _Reading(f"{self.cardinal(a)} out of {self.cardinal(b)}")

    def _scaled(self, tok: Token, ctx: _Context) -> _Reading | None:
        m = _SCALED.match(tok.core)
        if not m:
            return None
        if m["scale"] in ("k", "K") and (ctx.core(1).lower() in K_RESOLUTION):
            return _Reading(f"{self.number(m['num'])} K")
        plus = " plus" if m["plus"] else ""
        return _Reading(f"{self.number(m['num'])} {SCALES[m['scale']]}{plus}")

    def _unit_glued(self, tok: Token, ctx: _Context) -> _Reading | None:
        m = _UNIT_GLUED.match(tok.core)
        if not m or m["unit"].lower() not in UNITS:
            return None
        return _Reading(f"{self.number(m['num'])} {_unit(m['unit'], m['num'])}")

    def _number(self, tok: Token, ctx: _Context) -> _Reading | None:
        m = _PLAIN.match(tok.core)
        if not m:
            return None
        text = m["num"]
        before = ctx.core(-1).lower().rstrip(".:#")
        if text.isdigit() and (
            before in CODE_CUES or (len(text) > 1 and text[0] == "0") or (len(text) >= 5 and not text.endswith("000"))
        ):
            return _Reading(self.digits(text))
        return _Reading(self.amount(text, m["sign"]))

    def _abbreviation(self, tok: Token, ctx: _Context) -> _Reading | None:
        core, suffix = tok.core, tok.suffix
        key = (core + suffix[:1]).lower() if suffix.startswith(".") else core.lower()
        rest = suffix[1:] if suffix.startswith(".") else suffix
        if key in TITLE_OR_PLACE:
            title, place = TITLE_OR_PLACE[key]
            # "Dr. Smith", "at St. Louis": a title; "Main St.", "Elm Dr.": after a capitalised name, a place
            named_place = ctx.core(-1)[:1].isupper() and not ctx.starts_sentence(-1)
            if ctx.core(1)[:1].isupper() and not ctx.is_last and not named_place:
                return _Reading(title, rest)
            return _Reading(place, suffix if ctx.is_last or ctx.next_starts_sentence() else rest)
        if key in NUMBER_ABBREVIATIONS and _PLAIN.match(ctx.core(1)):
            return _Reading(NUMBER_ABBREVIATIONS[key], rest)
        if key in ABBREVIATIONS:
            expansion, may_end = ABBREVIATIONS[key]
            ends = may_end and (ctx.is_last or ctx.next_starts_sentence())
            return _Reading(expansion, suffix if ends or not suffix.startswith(".") else rest)
        lowered = core.lower()
        if lowered in UNITS and _PLAIN.match(ctx.core(-1)):
            return _Reading(_unit(core, ctx.core(-1)))
        if lowered in CURRENCY_CODES and core.isupper() and _PLAIN.match(ctx.core(-1)):
            return _Reading(CURRENCY_CODES[lowered])
        return None

    def _initialism(self, tok: Token, ctx: _Context) -> _Reading | None:
        if _INITIALISM.match(tok.core):
            suffix = tok.suffix
            if suffix.startswith(".") and not ctx.is_last:
                suffix = suffix[1:]  # "U.S." inside a sentence: its last period is the initialism's
            return _Reading(" ".join(tok.core.replace(".", "").upper()), suffix)
        return None

    def _symbol(self, tok: Token, ctx: _Context) -> _Reading | None:
        if tok.core in SYMBOLS:
            return _Reading(SYMBOLS[tok.core])
        if _AMPERSAND_WORD.match(tok.core):  # R&D, Q&A, AT&T
            a, b = tok.core.split("&")
            return _Reading(f"{_letters(a)} and {_letters(b)}")
        if tok.core.startswith("#") and tok.core[1:].isdigit():
            return _Reading(f"number {self.cardinal(int(tok.core[1:]))}")
        if tok.core.startswith("~") and _PLAIN.match(tok.core[1:]):
            return _Reading(f"about {self.number(tok.core[1:])}")
        if tok.core.endswith("+") and _PLAIN.match(tok.core[:-1]):
            return _Reading(f"{self.number(tok.core[:-1])} plus")
        return None

    def _mixed(self, tok: Token, ctx: _Context) -> _Reading | None:
        """Letters and digits in one word: "COVID-19", "Q3", "MP4", "3D", "v2.0"."""
        core = tok.core
        if re.match(r"^[vV]\d+(?:\.\d+)+$", core):
            return _Reading("version " + " point ".join(self.cardinal(int(p)) for p in core[1:].split(".")))
        if re.match(r"^\d+(?:\.\d+){2,}$", core):
            return _Reading(" point ".join(self.cardinal(int(p)) for p in core.split(".")))
        if not _MIXED.match(core):
            return None
        parts = re.findall(r"[A-Za-z]+|\d+", core)
        spoken = [
            self.cardinal(int(p))
            if p.isdigit() and len(p) <= 4 and p[0] != "0"
            else (self.digits(p) if p.isdigit() else p)
            for p in parts
        ]
        return _Reading(" ".join(spoken))

    # --- the pass over a text ----------------------------------------------------------------------------------
    def normalize(self, written: Sequence[str]) -> list[str]:
        tokens = [split_token(t) for t in written]
        spoken: list[str] = []
        carry = ""
        for index, tok in enumerate(tokens):
            reading = None
            if tok.core:
                ctx = _Context(tokens, index)
                for rule in self._rules:
                    reading = rule(tok, ctx)
                    if reading is not None:
                        break
            core = tok.core if reading is None else reading.core
            suffix = tok.suffix if reading is None or reading.suffix is None else reading.suffix
            prefix = tok.prefix if reading is None or reading.prefix is None else reading.prefix
            if carry:
                core = f"{core} {carry}".strip()
                carry = ""
            if reading is not None and reading.carry:
                carry = reading.carry
            spoken.append((prefix + core + suffix).strip())
        if carry and spoken:
            spoken[-1] = f"{spoken[-1]} {carry}"
        return spoken


def _spell_address(address: str, normalizer: EnglishNormalizer) -> str:
    words: list[str] = []
    for part in re.findall(r"[A-Za-z]+|\d+|.", address):
        if part in URL_SEPARATORS:
            words.append(URL_SEPARATORS[part])
        elif part.isdigit():
            words.append(normalizer.cardinal(int(part)) if len(part) <= 4 else normalizer.digits(part))
        elif part.strip():
            words.append(part)
    return " ".join(words)


def _letters(text: str) -> str:
    return " ".join(text.upper()) if len(text) <= 3 or text.isupper() else text


def _plural(words: str) -> str:
    head, _, last = words.rpartition(" ")
    last_head, dash, last_word = last.rpartition("-")
    last_word = last_word[:-1] + "ies" if last_word.endswith("y") else last_word + "s"
    return f"{head} {last_head}{dash}{last_word}".strip() if head else f"{last_head}{dash}{last_word}"


def _unit(unit: str, number: str) -> str:
    one, many = UNITS[unit.lower()]
    return one if number.replace(",", "") in ("1", "1.0") else many


def _month(core: str) -> str | None:
    word = core.lower().rstrip(".")
    if word in MONTHS:
        return word.title()
    if word in MONTH_ABBREVIATIONS:
        return MONTHS[MONTH_ABBREVIATIONS[word] - 1].title()
    return None


def _day(core: str) -> int | None:
    m = re.match(r"^(\d{1,2})(?:st|nd|rd|th)?$", core, re.IGNORECASE)
    return int(m[1]) if m and 1 <= int(m[1]) <= 31 else None


def _year(core: str) -> int | None:
    return int(core) if re.match(r"^(1[1-9]|20)\d{2}$", core) else None
