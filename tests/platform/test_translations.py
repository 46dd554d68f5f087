"""The admin's Vietnamese: every text the project marks for translation has a Vietnamese translation,
and the committed django.mo (what runs, no gettext tools needed) is the compiled django.po."""

import gettext
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

PO = Path(settings.LOCALE_PATHS[0]) / "vi" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
#: What `make messages` leaves out: the same folders.
NOT_SCANNED = (
    *("tests", "bench", "research", "devtools", "deploy", "docs", "monitoring", ".data", "migrations"),
    *(".git", "locale", "test-artifacts", "__pycache__"),
)


def _untranslated(po: polib.POFile) -> list[str]:
    return [
        entry.msgid
        for entry in po
        if not entry.obsolete
        and ("fuzzy" in entry.flags or not (entry.msgstr or all(entry.msgstr_plural.values())))
    ]


def test_every_text_in_the_catalog_has_its_vietnamese() -> None:
    assert _untranslated(polib.pofile(str(PO))) == []


def test_the_committed_mo_is_the_compiled_po(tmp_path: Path) -> None:
    fresh = tmp_path / "django.mo"
    polib.pofile(str(PO)).save_as_mofile(str(fresh))
    assert _catalog(MO) == _catalog(fresh), (
        "locale/vi/LC_MESSAGES/django.mo is stale: run `make compilemessages` and commit it"
    )


def _catalog(path: Path) -> dict[object, str]:
    """The compiled messages without the header (msgfmt drops some header lines)."""
    with path.open("rb") as compiled:
        catalog: dict[object, str] = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    return {msgid: text for msgid, text in catalog.items() if msgid != ""}


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext) to extract texts")
def test_every_text_marked_in_the_code_is_in_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(*NOT_SCANNED, "*.png", "*.mo"))
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=["vi"], no_location=True, verbosity=0)
    extracted = {entry.msgid for entry in polib.pofile(str(copy / "locale/vi/LC_MESSAGES/django.po"))}
    committed = polib.pofile(str(PO))
    missing = sorted(extracted - {entry.msgid for entry in committed})
    assert missing == [], (
        "new texts to translate: run `make messages`, translate them, `make compilemessages`"
    )
