"""The studio's recipe menu offers every named recipe that `convlens train --recipe` knows."""

from __future__ import annotations

import re
from pathlib import Path

import convlens.studio
from convlens.train.recipes import list_recipes


def test_the_recipe_menu_lists_every_recipe():
    page = (Path(convlens.studio.__file__).parent / "static" / "index.html").read_text()
    menu = re.search(r'<select id="train-recipe">(.*?)</select>', page, re.S)
    assert menu is not None
    values = re.findall(r'<option value="([^"]*)"', menu.group(1))
    assert values[0] == ""  # "my settings": no recipe
    assert sorted(values[1:]) == list_recipes()
