"""The pages' texts: two catalogues with the same keys and placeholders, every key a page or the script uses present,
no text nobody uses; the language chosen from Accept-Language; times in Helsinki time."""

from __future__ import annotations

import re
import string
import typing
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from spotilla_procountor.adapters.web import pages
from spotilla_procountor.adapters.web.i18n import LANGUAGES, Texts, catalogue, negotiate
from spotilla_procountor.app.admin import Environment, ItemKind, RunRequestOutcome
from spotilla_procountor.domain.model import TransferPolicy
from spotilla_procountor.domain.state import Flow, Outcome, RunStatus

WEB = Path(pages.__file__).parent
TEMPLATES = sorted((WEB / "templates").glob("*.html"))
SCRIPT = (WEB / "static" / "app.js").read_text(encoding="utf-8")

# Keys made from a value at run time: the prefix, where it is made, and every value it can be made from.
FAMILIES: dict[str, tuple[str, list[str]]] = {
    "status.": ('t.choice("status"', [str(s) for s in RunStatus]),
    "outcome.": ('t.choice("outcome"', [str(o) for o in Outcome]),
    "flow.": ('t.choice("flow"', [str(f) for f in Flow]),
    "kind.": ('t.choice("kind"', [str(k) for k in ItemKind]),
    "environment.": ('t.choice("environment"', list(typing.get_args(Environment))),
    "policy.": ('t.choice("policy"', [str(p) for p in TransferPolicy]),
    "js.run.": ("t(`js.run.${", [str(o) for o in RunRequestOutcome] + ["finished"]),
    "js.preview.": ("t(`js.preview.${", ["create", "update", "held_back", "kind", "spotilla_id", "name", "reasons"]),
    "js.field.": ("texts[`js.field.${", []),  # a sentence per problem type where one is better than the API's
}


def _sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in TEMPLATES) + SCRIPT + Path(pages.__file__).read_text()


def _keys_used_literally() -> set[str]:
    templates = "\n".join(p.read_text(encoding="utf-8") for p in TEMPLATES)
    used = set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", templates))
    used |= set(re.findall(r"""(?<![\w-])(?:heading|empty)=["']([\w.]+)["']""", templates))
    used |= set(re.findall(r"""['"](js\.[\w.]+)['"]""", templates))  # the forms' data-done
    used |= set(re.findall(r"""\bt\(\s*"(js\.[\w.]+)"\s*[,)]""", SCRIPT))
    used |= {f"{key}.{part}" for key in pages.ERROR_PAGES.values() for part in ("title", "text")}
    return used


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    finnish, english = catalogue("fi"), catalogue("en")
    assert sorted(finnish.keys() - english.keys()) == []
    assert sorted(english.keys() - finnish.keys()) == []
    differing = [key for key in finnish if _placeholders(finnish[key]) != _placeholders(english[key])]
    assert differing == []
    assert all(text.strip() for language in LANGUAGES for text in catalogue(language).values())


def test_every_key_the_pages_and_the_script_use_is_in_the_catalogues() -> None:
    used = _keys_used_literally()
    assert len(used) > 100
    assert sorted(used - catalogue("fi").keys()) == []


@pytest.mark.parametrize("prefix", FAMILIES)
def test_every_value_a_key_is_made_from_has_a_text(prefix: str) -> None:
    where, values = FAMILIES[prefix]
    assert where in _sources(), f"nothing makes keys {prefix}… any more; remove the family and its texts"
    assert sorted(f"{prefix}{v}" for v in values if f"{prefix}{v}" not in catalogue("fi")) == []


def test_no_text_is_left_that_nothing_uses() -> None:
    unused = [
        key
        for key in catalogue("fi")
        if key not in _keys_used_literally() and not any(key.startswith(prefix) for prefix in FAMILIES)
    ]
    assert unused == []


def test_a_missing_text_fails_the_page_rather_than_showing_its_key() -> None:
    with pytest.raises(KeyError):
        Texts("fi")("no.such.text")


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "fi"),
        ("", "fi"),
        ("fi-FI,fi;q=0.9,en;q=0.8", "fi"),
        ("en", "en"),
        ("en-GB,en;q=0.9,fi;q=0.5", "en"),
        ("en-US", "en"),
        ("de,en;q=0.5", "en"),
        ("sv,de", "fi"),
        ("fi;q=0.4,en;q=0.6", "en"),
        ("en;q=0,fi;q=0.1", "fi"),
        ("en;q=zero", "fi"),
        ("EN-gb", "en"),
    ],
)
def test_finnish_unless_the_browser_prefers_english(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_times_are_shown_in_helsinki_time_summer_and_winter() -> None:
    summer = datetime(2025, 6, 30, 21, 5, tzinfo=UTC)  # UTC+3: already 1 July in Helsinki
    winter = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)  # UTC+2
    assert Texts("fi").when(summer) == "1.7.2025 klo 00.05"
    assert Texts("en").when(summer) == "1 Jul 2025, 00:05"
    assert Texts("fi").when(winter) == "15.1.2025 klo 10.00"
    assert Texts("en").day(date(2025, 3, 9)) == "9 Mar 2025"
    assert Texts("fi").when(None) == "–"
