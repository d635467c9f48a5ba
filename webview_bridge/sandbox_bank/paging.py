"""Paging a transaction report: one ordered list across the report's parts (pending, then booked,
newest first; or standing orders), cut into pages of at most `size` entries. Each page lists its
entries under their part, so following every `next` link yields each entry exactly once."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from webview_bridge.sandbox_bank.errors import Refusal


@dataclass(frozen=True)
class Page:
    parts: dict[str, list[Any]]  # every part asked for, even when empty on this page
    index: int
    count: int

    @property
    def has_next(self) -> bool:
        return self.index + 1 < self.count

    @property
    def has_previous(self) -> bool:
        return self.index > 0


def page_of(parts: Sequence[tuple[str, Sequence[Any]]], index: int, size: int) -> Page:
    if size < 1:
        raise ValueError("a page holds at least one entry")
    ordered = [(name, item) for name, items in parts for item in items]
    count = max(1, math.ceil(len(ordered) / size))
    if index < 0 or index >= count:
        raise Refusal("FORMAT_ERROR", f"pageIndex must be between 0 and {count - 1}", "pageIndex", in_payload=True)
    chosen: dict[str, list[Any]] = {name: [] for name, _ in parts}
    for name, item in ordered[index * size:(index + 1) * size]:
        chosen[name].append(item)
    return Page(chosen, index, count)
