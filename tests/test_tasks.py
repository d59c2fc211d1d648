"""The one table of model tasks (wan/core/tasks.py) is consistent with itself and the catalog."""

from __future__ import annotations

import pytest

from wan.core.tasks import CLIP_MODES, REQUIRED, TASKS, takes_first_image, task_of
from wan.models.catalog import wan_entries


@pytest.mark.parametrize("task", TASKS.values(), ids=list(TASKS))
def test_every_task_can_continue_a_clip_and_says_what_it_needs(task):
    assert task.clip_mode in task.modes and set(task.modes) <= set(CLIP_MODES)
    # a model that cannot start from text alone needs the init image
    assert (task.first_image == REQUIRED) == ("t2v" not in task.modes)
    assert takes_first_image(task.id) == (task.clip_mode == "i2v")


def test_every_catalog_model_has_a_task_of_the_table():
    for entry in wan_entries():
        assert entry.task in TASKS, entry.id
        assert task_of(entry.task).inputs <= set(entry.inputs) | {"video", "reference"}, entry.id
    assert task_of(None).id == "t2v"
