"""The API's one JSON parser: DRF's, with a size limit and a nesting limit checked before decoding.

DRF reads the request stream itself, past Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` (which only guards
`request.body` and forms), and `json.loads` recurses once per nesting level, so a 4 KB body of nested
brackets raised RecursionError (a 500). Both limits are refused in the one error shape instead.
"""

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

# The module, not its names: loship.errors imports DRF's views, whose settings import this parser.
from loship import errors

#: Deeper than any body the API documents (an order line's options are 4 levels down).
MAX_JSON_DEPTH = 32

# A JSON string (possibly unterminated: the decoder reports that), then anything but a bracket.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit`, without recursing: a body with no
    more opening brackets than the limit is not scanned (the hot path, about a microsecond); else its
    brackets are kept by two regex passes and their running depth summed in C (a few ms for a large
    cart, a fraction of a second for a megabyte of brackets, the most a body may hold)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies over `DATA_UPLOAD_MAX_MEMORY_SIZE` (413) and nested deeper
    than `MAX_JSON_DEPTH` (400 `json_too_deep`); other bad JSON stays a 400 `malformed_request`."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise errors.CommonErrors.REQUEST_TOO_LARGE()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (LookupError, ValueError) as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if json_depth_exceeds(text, MAX_JSON_DEPTH):
            raise errors.CommonErrors.JSON_TOO_DEEP(max_depth=MAX_JSON_DEPTH)
        try:
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
