"""docs/configuration.md is generated from the policy models: the committed file must be current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bot.config.policy import Policy

ROOT = Path(__file__).resolve().parents[2]


def generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "gen_config_reference", ROOT / "scripts" / "gen_config_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_reference_is_what_the_models_generate() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == generator().render(), (
        "docs/configuration.md is out of date: run `python scripts/gen_config_reference.py`"
    )


def test_every_top_level_key_is_documented_with_its_description() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    for name, field in Policy.model_fields.items():
        assert f"| `{name}` |" in text, name
        assert field.description, f"Policy.{name} has no description to document"
    assert "| `timeout` | duration | **required** |" in text
