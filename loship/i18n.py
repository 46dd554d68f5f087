"""Text a person reads, in Vietnamese and English; the active language picks one."""

from dataclasses import dataclass
from typing import Any

from django.utils import translation


@dataclass(frozen=True, slots=True)
class Text:
    """A message in both languages; `str()` renders it in the active language (vi by default)."""

    vi: str
    en: str

    def render(self, language: str | None = None, **params: Any) -> str:
        """Return the message in `language` (or the active one), formatted with `params`."""
        language = language or translation.get_language() or "vi"
        template = self.en if language.startswith("en") else self.vi
        return template.format(**params) if params else template

    def __str__(self) -> str:
        return self.render()
