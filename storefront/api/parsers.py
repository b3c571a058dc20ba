"""The API reads JSON request bodies only (a form or multipart body is a 415). A body larger than
settings.API_MAX_BODY_BYTES is a 413, and one nested too deeply to decode is a 400."""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _read_at_most(stream, limit: int | None) -> bytes:
    if limit is None:
        return stream.read()
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestDataTooBig("The request body is larger than the API takes.")
    return b"".join(chunks)


class ApiJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = _read_at_most(stream, settings.API_MAX_BODY_BYTES)
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
