"""Every recipe's checks pass in quick mode, and the report renders."""

import pytest

import recipes
from recipes.__main__ import main


@pytest.mark.parametrize("name", recipes.available())
def test_recipe_checks_pass_in_quick_mode(name, tmp_path):
    module = recipes.load(name)
    assert module.TITLE and module.SOURCE and isinstance(module.ORDER, int)
    result = module.run(tmp_path, quick=True)
    failed = [f"{c.name}: measured {c.measured}, expected {c.expected}" for c in result.checks if not c.passed]
    assert result.checks, "a recipe must check something"
    assert not failed, failed
    for figure in result.figures:
        assert (tmp_path / figure).read_bytes()[:4] == b"\x89PNG"


def test_unknown_recipe_lists_close_matches(run_cli):
    code, _, err = run_cli(main, "run", "backprp")
    assert code == 2 and "unknown recipe 'backprp'" in err
