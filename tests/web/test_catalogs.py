"""Every string of the page is in its catalogs, in each of the three languages."""

from __future__ import annotations

import json
import re

from tests.web.conftest import WEB

LOCALES = WEB / "src" / "locales"
LANGUAGES = ("en", "es", "zh-Hans")
# Keys the page builds at run time from a code: each prefix must cover these codes.
DYNAMIC = {
    "status.": ["anchored", "superseded", "tampered", "conflict", "not_anchored", "invalid_seal", "unknown"],
    "meaning.": ["anchored", "superseded", "tampered", "conflict", "not_anchored", "invalid_seal", "unknown"],
    "severity.": ["info", "warning", "high"],
}


def catalog(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    return data


def test_the_three_catalogs_have_the_same_keys_and_placeholders() -> None:
    english = catalog("en")
    for language in LANGUAGES[1:]:
        other = catalog(language)
        assert set(other) == set(english), language
        for key, text in english.items():
            assert set(re.findall(r"\{(\w+)\}", other[key])) == set(re.findall(r"\{(\w+)\}", text)), (
                language,
                key,
            )
            assert other[key].strip(), (language, key)


def test_every_key_the_page_names_is_in_the_catalog() -> None:
    english = catalog("en")
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (WEB / "src").rglob("*.ts"))
    named = set(re.findall(r"""\bt\(\s*["']([a-zA-Z]+\.[a-zA-Z.]+)["']""", sources))
    named |= set(re.findall(r"""key: "([a-z]+\.[a-zA-Z]+)\"""", sources))
    named |= set(re.findall(r"""code: "((?:skip|problem)\.[a-zA-Z]+)\"""", sources))
    named |= {prefix + code for prefix, codes in DYNAMIC.items() for code in codes}
    assert len(named) > 100
    assert named <= set(english), sorted(named - set(english))


def test_every_red_flag_and_chain_error_has_a_message() -> None:
    english = catalog("en")
    flags = re.findall(r"^\| `([a-z_]+)` \|", (WEB.parent / "docs" / "red-flags.md").read_text(), re.M)
    assert flags and all(f"flag.{code}" in english for code in flags)
    rpc = (WEB / "src" / "chain" / "rpc.ts").read_text(encoding="utf-8")
    codes = re.findall(r'\| "(rpc\.[a-zA-Z]+)"', rpc)
    assert codes and all(f"error.{code}" in english for code in codes)
