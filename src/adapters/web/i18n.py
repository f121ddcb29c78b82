"""The pages' languages: Finnish by default, English when the browser prefers it; every text from a catalogue.

The catalogues are JSON files under `locales/`, one key per text, `{name}` placeholders filled by `str.format`.
Times are shown in Helsinki time, whatever the server's own zone. The reasons an item waits come from the domain as
English sentences made of facts; `reasons.LANGUAGE.json` holds each sentence in that language with the same `{name}`
placeholders (some may be left out), and, per reason, the domain's own English words that a fact can hold (a task's
status, what kind of thing it is about) said in that language.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from spotilla_procountor.domain.reasons import Reason, ReasonCode

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = ("fi", "en")
DEFAULT_LANGUAGE = "fi"
HELSINKI = ZoneInfo("Europe/Helsinki")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """The texts of one language, read once."""
    return json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))


@functools.cache
def reason_catalogue(language: str) -> dict[str, dict]:
    """The reasons' sentences (`sentences`: code → template) and fact words (`words`: code → fact → English → said)
    of one language; empty for English, which the domain speaks."""
    path = LOCALES / f"reasons.{language}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"sentences": {}, "words": {}}


def reason_sentence(language: str, code: str, facts: dict[str, str]) -> str | None:
    """A reason's sentence in `language` made of its facts; None when there is none, or it needs a fact not given."""
    known = reason_catalogue(language)
    template = known["sentences"].get(code)
    if template is None:
        return None
    words = known["words"].get(code, {})
    said = {name: _said(value, words.get(name, {})) for name, value in facts.items()}
    try:
        return template.format(**said)
    except (LookupError, ValueError, AttributeError, TypeError):  # a fact missing, or a placeholder it cannot fill
        return None


def _said(value: str, words: dict[str, str]) -> str:
    """A fact in the language of `words`: a word of the domain's as a whole, or leading the fact ("product Ruuvi");
    anything else (names, numbers, Procountor's own messages) as it is."""
    if value in words:
        return words[value]
    for english in sorted(words, key=len, reverse=True):
        if value.startswith(f"{english} "):
            return words[english] + value[len(english) :]
    return value


@functools.cache
def reason_sentences(language: str) -> dict[str, tuple[str, str]]:
    """Reason code → (the domain's English sentence, the same in `language`) for the reasons whose sentence has no
    facts: what a reason that carries only its sentence (a run's event, a preview row) can be matched against."""
    pairs = {}
    for code in reason_catalogue(language)["sentences"]:
        english = Reason.of(ReasonCode(code)).message
        translated = reason_sentence(language, code, {})
        if translated is not None and english != f"{code}: ":  # "CODE: " is the domain lacking facts it needs
            pairs[code] = (english, translated)
    return pairs


def negotiate(accept_language: str | None) -> str:
    """The language of the browser's Accept-Language that the pages speak, by its weight; Finnish otherwise.

    `en-GB,en;q=0.9,fi;q=0.5` and `de,en;q=0.5` are English; `fi-FI,en;q=0.8` and `sv,de` are Finnish (the
    default); a weight that is not a number counts as 0 (not acceptable) rather than failing the page."""
    best, best_weight = DEFAULT_LANGUAGE, 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        weight = _weight(params)
        if language in LANGUAGES and weight > best_weight:  # a tie goes to the one the browser named first
            best, best_weight = language, weight
    return best


def _weight(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


class Texts:
    """One language's texts for the templates: `t("key", name=value)`, and times and dates in Helsinki time.

    A key missing from the catalogue raises KeyError: a page with a missing text fails its test, not its reader."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._texts = catalogue(language)

    def __call__(self, key: str, **params: object) -> str:
        text = self._texts[key]
        return text.format(**params) if params else text

    def choice(self, prefix: str, value: object) -> str:
        """The text of an enumerated value (a run status, an outcome, a kind): `prefix.VALUE`, else the value."""
        return self._texts.get(f"{prefix}.{value}", str(value))

    def when(self, value: datetime | None) -> str:
        """A moment in Helsinki time, as people there write it; a dash when there is none."""
        if value is None:
            return "–"
        local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(HELSINKI)
        if self.language == "fi":
            return f"{local.day}.{local.month}.{local.year} klo {local:%H.%M}"
        return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M}"

    def day(self, value: date | None) -> str:
        if value is None:
            return "–"
        if self.language == "fi":
            return f"{value.day}.{value.month}.{value.year}"
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"

    def reason(self, code: str, message: str, params: dict[str, str] | None = None) -> str:
        """A reason's sentence in the page's language, else as the domain wrote it (`message`, English).

        With its facts (`params`, an item's reasons) the sentence is made of them; without (a run's events, a stored
        sentence), only a sentence that has no facts is recognised, by being the domain's sentence word for word."""
        if params:
            return reason_sentence(self.language, code, params) or message
        english, translated = reason_sentences(self.language).get(code, (None, None))
        return translated if translated is not None and message == english else message

    def subset(self, prefix: str) -> dict[str, str]:
        """The texts whose keys start with `prefix` (those the page's script needs), keyed as in the catalogue."""
        return {key: text for key, text in self._texts.items() if key.startswith(prefix)}
