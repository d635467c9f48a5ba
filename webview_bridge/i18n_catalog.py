"""Every translatable message of the pages, as Babel extracts it: from the templates (`_()` calls)
and from Python (`N_()` marks). The catalog test and `scripts/i18n.py` use this one list."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from webview_bridge.i18n import DEFAULT, LANGUAGES, LOCALE_DIR
from webview_bridge.resources import TEMPLATES_DIR

PACKAGE = Path(__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract() -> Catalog:
    catalog = Catalog(project="webview-bridge")
    sources = [
        (TEMPLATES_DIR, [("**.html", "jinja2")], {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}),
        (PACKAGE, [("**.py", "python")], {}),
    ]
    for folder, method_map, options in sources:
        option_map = {pattern: options for pattern, _ in method_map}
        for filename, lineno, message, comments, context in extract_from_dir(
            folder, method_map, options_map=option_map, keywords=KEYWORDS, strip_comment_tags=True
        ):
            catalog.add(message, None, [(str(Path(folder.name) / filename), lineno)], auto_comments=comments, context=context)
    return catalog


def _po(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


def update() -> None:
    template = extract()
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        path = _po(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
        else:
            catalog = template.__class__(locale=lang, project="webview-bridge")
            for message in template:
                if message.id:
                    catalog.add(message.id, "", message.locations)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=120, omit_header=False)


def missing() -> dict[str, list[str]]:
    wanted = [m.id[0] if isinstance(m.id, tuple) else m.id for m in extract() if m.id]
    gaps: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        translated: dict[str, str] = {}
        if _po(lang).exists():
            with _po(lang).open("rb") as handle:
                translated = {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string
                              for m in read_po(handle, locale=lang) if m.id and not m.fuzzy}
        gaps[lang] = [w for w in wanted if not _complete(translated.get(w))]
    return {lang: ids for lang, ids in gaps.items() if ids}


def _complete(string: str | tuple[str, ...] | None) -> bool:
    """A translation with every plural form filled in."""
    if isinstance(string, tuple):
        return all(string)
    return bool(string)
