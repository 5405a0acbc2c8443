"""Importing the public fashion catalogue in its Kaggle layout.

The folder holds `styles.csv` (id, gender, masterCategory, subCategory, articleType,
baseColour, season, year, usage) and `styles_text.csv` (productDisplayName, same row
order). The original single-file layout, with productDisplayName as the last column of
`styles.csv`, is read too.

The data has quirks, handled here rather than trusted: empty cells and the text "NA" for
missing values, a missing year, display names with commas that break the column count of
the single-file layout (the extra fields are joined back into the name), blank lines, rows
with too few fields, ids that are not numbers or repeat. A bad row is skipped and counted;
the catalogue has no prices, so each product gets the deterministic price of its article
type (`recmart.sample.catalogue.price_cents`).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from recmart.sample.catalogue import catalogue_table, price_cents

STYLES = "styles.csv"
STYLES_TEXT = "styles_text.csv"
NAME = "productDisplayName"
# Kaggle column -> products column
_COLUMNS = {
    "id": "product_id", "gender": "gender", "masterCategory": "master_category",
    "subCategory": "sub_category", "articleType": "article_type", "baseColour": "base_colour",
    "season": "season", "year": "year", "usage": "usage",
}
_MISSING = {"", "na", "n/a", "nan", "null", "none"}
_ID = re.compile(r"\d+")


class CatalogueError(ValueError):
    """The folder is not a catalogue in the Kaggle layout; the message says what is wrong."""


@dataclass(frozen=True)
class CatalogueImport:
    table: pa.Table
    rows_read: int
    skipped: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def _value(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return None if text.lower() in _MISSING else text


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        year = int(float(text))  # "2012" and the "2012.0" of a spreadsheet round trip
    except (TypeError, ValueError):
        return None
    return year if 1900 <= year <= 2100 else None


def _records(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and non-blank rows of a CSV file (BOM, CRLF and quoted commas handled)."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    if not rows:
        raise CatalogueError(f"{path} is empty: expected a header line and rows")
    return [h.strip() for h in rows[0]], rows[1:]


def load_kaggle_catalogue(folder: str | Path) -> CatalogueImport:
    """The products of a Kaggle-layout catalogue folder, with a report of what was skipped."""
    folder = Path(folder)
    styles_path = folder / STYLES
    if not styles_path.is_file():
        raise CatalogueError(f"{folder} has no {STYLES}: not a catalogue in the Kaggle layout")
    header, rows = _records(styles_path)
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise CatalogueError(f"{styles_path}: header lacks columns {missing}; it has {header}")
    index = {c: header.index(c) for c in _COLUMNS}

    notes: list[str] = []
    names: list[str | None] | None = None
    name_in_styles = header.index(NAME) if NAME in header else None
    text_path = folder / STYLES_TEXT
    if name_in_styles is None and text_path.is_file():
        text_header, text_rows = _records(text_path)
        if NAME not in text_header:
            notes.append(f"{STYLES_TEXT} has no {NAME} column: names made from the attributes")
        elif len(text_rows) != len(rows):
            notes.append(
                f"{STYLES_TEXT} has {len(text_rows)} rows for {len(rows)} in {STYLES}: "
                "rows cannot be matched, names made from the attributes"
            )
        else:
            at = text_header.index(NAME)
            names = [",".join(r[at:]) if len(r) > at else None for r in text_rows]
    elif name_in_styles is None:
        notes.append(f"no {STYLES_TEXT}: names made from the attributes")

    skipped: Counter[str] = Counter()
    seen: set[str] = set()
    cols: dict[str, list] = {c: [] for c in (*_COLUMNS.values(), "name")}
    for i, row in enumerate(rows):
        if len(row) < len(header) or (len(row) > len(header) and name_in_styles != len(header) - 1):
            skipped["wrong_field_count"] += 1
            continue
        product_id = (row[index["id"]] or "").strip()
        if product_id.endswith(".0"):
            product_id = product_id[:-2]
        if not _ID.fullmatch(product_id):
            skipped["bad_id"] += 1
            continue
        if product_id in seen:
            skipped["duplicate_id"] += 1
            continue
        seen.add(product_id)
        values: dict[str, Any] = {dst: _value(row[index[src]]) for src, dst in _COLUMNS.items()}  # text, and the year
        values["product_id"] = product_id
        values["year"] = _year(values["year"])
        if name_in_styles is not None:  # a name with commas spills over the last columns
            name = _value(",".join(row[name_in_styles:]))
        else:
            name = _value(names[i]) if names is not None else None
        if name is None:
            name = " ".join(v for v in (values["gender"], values["base_colour"], values["article_type"]) if v) or None
        values["name"] = name
        for key, value in values.items():
            cols[key].append(value)

    if not cols["product_id"]:
        raise CatalogueError(f"{styles_path}: no usable product rows (skipped: {dict(skipped)})")
    cols["price_cents"] = price_cents(cols["product_id"], cols["article_type"], cols["master_category"]).tolist()
    return CatalogueImport(
        table=catalogue_table(cols), rows_read=len(rows), skipped=dict(skipped), notes=tuple(notes)
    )
