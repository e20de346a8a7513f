"""Which words on a page are ODK Web Forms' own English, read from the Web Forms bundle itself.

The list is not written by hand: every string literal of the installed bundle that reads as
English words, and every fixed part of its template literals (`${n} questions with errors.`),
so a string a new version adds, or one our translation file misses, makes the check fail.
"""
from __future__ import annotations

import re
from functools import lru_cache

from server.channels.webforms import WEB_FORMS_DIST

# words made of ASCII letters, spaces and sentence punctuation: starting with a capital letter,
# a count ("1 question with error.") or, for labels such as "change language", two words or more
_ENGLISH = re.compile(r"(?:\d+ [A-Za-z]|[A-Z])[A-Za-z]*(?:[ ,.'’:!?()/-]+[A-Za-z]+)*[.!?:]?"
                      r"|[a-z]+(?: [A-Za-z]+)+[.!?:]?")
_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
_TEMPLATE = re.compile(r"`([^`]*)`")
# brand names, not words to translate
BRANDS = {"ODK"}


@lru_cache(maxsize=1)
def english_strings() -> tuple[frozenset[str], frozenset[str]]:
    """(whole strings, fixed parts of template strings of at least two words)."""
    whole: set[str] = set()
    parts: set[str] = set()
    for bundle in sorted(WEB_FORMS_DIST.glob("index-*.js")):
        source = bundle.read_text(encoding="utf-8")
        for match in _QUOTED.finditer(source):
            literal = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
            if _ENGLISH.fullmatch(literal) and literal not in BRANDS:
                whole.add(literal)
        for match in _TEMPLATE.finditer(source):
            for chunk in re.split(r"\$\{[^}]*\}", match.group(1)):
                chunk = chunk.strip()
                if "\n" not in chunk and len(re.findall(r"[A-Za-z]{2,}", chunk)) >= 2 and _ENGLISH.fullmatch(
                        chunk[0].upper() + chunk[1:]):
                    parts.add(chunk)
    return frozenset(whole), frozenset(parts)


# Everything a person reads or hears on the page: visible text, and the labels, placeholders,
# titles and alt texts of elements on screen. Text marked with another language (lang="en" on
# the language switch) is left out: it is meant to be read in that language.
VISIBLE_WORDS_JS = """
() => {
  const words = [];
  const pageLang = document.documentElement.lang;
  const sameLang = (el) => { const owner = el.closest('[lang]'); return !owner || owner.lang === pageLang; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.nodeValue.trim();
    if (!text || !el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
    if (el.checkVisibility({ visibilityProperty: true }) && sameLang(el)) words.push(text);
  }
  for (const el of document.body.querySelectorAll('[aria-label], [placeholder], [title], [alt]')) {
    if (!el.checkVisibility({ visibilityProperty: true }) && !el.matches('input, textarea, select')) continue;
    if (!sameLang(el)) continue;
    for (const name of ['aria-label', 'placeholder', 'title', 'alt']) {
      const value = (el.getAttribute(name) || '').trim();
      if (value) words.push(value);
    }
  }
  return words;
}
"""


def english_on_page(page) -> list[str]:
    """The words of Web Forms left in English on the page as it is now."""
    whole, parts = english_strings()
    found = []
    for text in page.evaluate(VISIBLE_WORDS_JS):
        if text in whole or any(part in text for part in parts):
            found.append(text)
    return sorted(set(found))
