"""Make any JSON value storable on PostgreSQL jsonb and SQLite alike (reference §5, NUL handling).

jsonb cannot hold U+0000, so every NUL in a string (keys included) is stored as the private-use
pair U+E000 U+E001 and a real U+E000 is doubled; decoding reverses this and keeps an unpaired
U+E000. Lone surrogates cannot be encoded as UTF-8 at all and become U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

_ESCAPE = "\ue000"
_NUL_MARK = "\ue001"
_SURROGATE = re.compile("[\ud800-\udfff]")
_ENCODED = re.compile("\ue000[\ue000\ue001]")


def encode_text(text: str) -> str:
    if "\x00" in text or _ESCAPE in text:
        text = text.replace(_ESCAPE, _ESCAPE + _ESCAPE).replace("\x00", _ESCAPE + _NUL_MARK)
    return _SURROGATE.sub("\ufffd", text)


def decode_text(text: str) -> str:
    if _ESCAPE not in text:
        return text
    return _ENCODED.sub(lambda m: "\x00" if m.group(0)[1] == _NUL_MARK else _ESCAPE, text)


def _walk(value: Any, convert: Any) -> Any:
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, list):
        return [_walk(item, convert) for item in value]
    if isinstance(value, dict):
        return {convert(key): _walk(item, convert) for key, item in value.items()}
    return value


def encode_json(value: Any) -> Any:
    return _walk(value, encode_text)


def decode_json(value: Any) -> Any:
    return _walk(value, decode_text)
