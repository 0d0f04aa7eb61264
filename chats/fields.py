from __future__ import annotations

from typing import Any

from django.db import models

from chats.storage_codec import decode_json, encode_json


class SafeJSONField(models.JSONField):
    """A JSONField that round-trips every string, U+0000 included, on every database."""

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(encode_json(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decode_json(super().from_db_value(value, expression, connection))
