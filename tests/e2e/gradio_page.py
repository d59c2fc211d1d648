"""Driving gradio controls by their elem_id the way a person does, in gradio 3.41 and 4.x alike.

Both versions render a Dropdown as a text input that opens a `ul.options` list of
`li[data-testid=dropdown-option]` items whose aria-label is the choice's label, a Slider or
Number with an `input[type=number]`, and a File with a hidden `input[type=file]`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # playwright is the browser test's own dependency (make setup-e2e)
    from playwright.sync_api import Locator, Page

SIZE = re.compile(r"(\d+)\s*[xX×]\s*(\d+)")


def upload(page: Page, elem_id: str, path: Path) -> None:
    """Upload `path` into a gr.File and wait until the component shows its name (gradio 4
    shows the stem and the extension in two elements)."""
    page.locator(f"#{elem_id} input[type=file]").set_input_files(str(path))
    shown = re.compile(re.escape(path.stem) + r"\s*" + re.escape(path.suffix))
    page.locator(f"#{elem_id}").get_by_text(shown).first.wait_for()


def set_number(page: Page, elem_id: str, value: float) -> None:
    """Type into a Slider's or Number's number box, then leave it (gradio reads it on blur)."""
    box = page.locator(f"#{elem_id} input[type=number]").first
    box.fill(str(value))
    box.press("Tab")


def dropdown_labels(page: Page, elem_id: str) -> list[str]:
    """Open a dropdown and read its choices' labels (the list stays open)."""
    _options(page, elem_id).first.wait_for()
    return [label.strip() for label in _options(page, elem_id).all_inner_texts()]


def choose(page: Page, elem_id: str, label: str) -> None:
    """Pick the dropdown choice whose label is `label` or starts with it (e.g. "tiny-t2v: ...")."""
    labels = dropdown_labels(page, elem_id)
    matches = [i for i, text in enumerate(labels) if _names(text, label)]
    if not matches:
        raise AssertionError(f"#{elem_id} has no choice {label!r}; its choices: {labels}")
    _options(page, elem_id).nth(matches[0]).click()
    page.locator(f"#{elem_id} ul.options").wait_for(state="hidden")


def choose_smallest_size(page: Page, elem_id: str) -> str:
    """Pick the WIDTHxHEIGHT choice with the fewest pixels; returns its label."""
    labels = dropdown_labels(page, elem_id)
    sizes = [(int(m[1]) * int(m[2]), text) for text in labels if (m := SIZE.search(text))]
    if not sizes:
        raise AssertionError(f"#{elem_id} offers no WIDTHxHEIGHT choice: {labels}")
    smallest = min(sizes)[1]
    choose(page, elem_id, smallest)
    return smallest


def table_rows(page: Page, elem_id: str) -> list[str]:
    """The text of each body row of a gr.Dataframe that has any text in it."""
    rows = page.locator(f"#{elem_id} table tbody tr").all_inner_texts()
    return [row for row in rows if row.strip()]


def _options(page: Page, elem_id: str) -> Locator:
    """The open list's items, opening it with a click on the input when it is closed."""
    items = page.locator(f"#{elem_id} ul.options li[data-testid=dropdown-option]")
    if not items.count():
        page.locator(f"#{elem_id} input").first.click()
    return items


def _names(text: str, label: str) -> bool:
    return text == label or re.match(re.escape(label) + r"(?![\w.-])", text) is not None
