"""The settings tables other packages read ([optimize], [lint], [analysis], [team], [release],
[shadow]): checked once at load, one clear line, typed attributes, documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from prompt_repo.config import AgentTable, LLMTable, MainTable, load_workspace
from prompt_repo.errors import ConfigError
from prompt_repo.settings import SETTINGS_TABLES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
AGENTS = """
[agents.MarketAnalyst]
prompt = "prompts/MarketAnalyst.md"
[agents.RiskManager]
prompt = "prompts/RiskManager.md"
"""


def write(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "promptloop.toml").write_text(text + AGENTS)
    return root


@pytest.mark.parametrize(("text", "message"), [
    ('[analysis]\nband = "half"\n',
     '[analysis] band = "half" in promptloop.toml: expected a return band from 0 to 1, '
     "such as 0.003"),
    ("[optimize]\nmax_repair = 5\n",
     "[optimize] max_repair in promptloop.toml: unknown key; did you mean max_repairs? "
     "known keys: temperature, max_repairs, concurrency, max_cases, tolerance, "
     "min_size_ratio, max_size_ratio, max_growth_chars, holdout_fraction, min_holdout, "
     "replay_alpha, replay_repeats, sample_seed"),
    ("[optimize]\nmax_repairs = true\n",
     "[optimize] max_repairs = true in promptloop.toml: expected a whole number from 0 to 20"),
    ("[optimize]\nconcurrency = 2.9\n",
     "[optimize] concurrency = 2.9 in promptloop.toml: expected a whole number from 1 to 64"),
    ('[optimize]\ntolerance = "1.5"\n',
     '[optimize] tolerance = "1.5" in promptloop.toml: expected points, a number from 0 to 100'),
    ("[optimize]\nholdout_fraction = 1\n",
     "[optimize] holdout_fraction = 1 in promptloop.toml: expected a number strictly between "
     "0 and 1"),
    ("[lint]\nmin_clarty = 3\n",
     "[lint] min_clarty in promptloop.toml: unknown key; did you mean min_clarity? "
     "known keys: min_specificity, min_clarity, max_ambiguity"),
    ("[lint]\nmax_ambiguity = true\n",
     "[lint] max_ambiguity = true in promptloop.toml: expected a score from 0 to 100"),
    ('[team]\nrisk_veto = "sometimes"\n',
     '[team] risk_veto = "sometimes" in promptloop.toml: expected "LOW", "MEDIUM", "HIGH" '
     'or "off"'),
    ('[team]\norder = "MarketAnalyst"\n',
     '[team] order = "MarketAnalyst" in promptloop.toml: expected a list of agent names'),
    ("[release]\nalpha = 5\n",
     "[release] alpha = 5 in promptloop.toml: expected a number strictly between 0 and 1"),
    ('[release]\nshadow_timeout = "soon"\n',
     '[release] shadow_timeout = "soon" in promptloop.toml: expected seconds, more than 0 '
     "and at most 3600"),
    ("[shadow]\nMarketAnalyst = 3\n",
     '[shadow] MarketAnalyst = 3 in promptloop.toml: expected a label name in quotes, such as '
     '"candidate"'),
    ('analysis = "x"\n', "[analysis] in promptloop.toml must be a table"),
])
def test_a_bad_table_is_refused_at_load_in_one_line(tmp_path: Path, text: str,
                                                    message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_workspace(write(tmp_path, text))
    assert str(caught.value) == message


def test_good_tables_are_typed_attributes_and_absent_keys_are_none(tmp_path: Path) -> None:
    ws = load_workspace(write(tmp_path, """
[optimize]
tolerance = 3
max_repairs = 4
[lint]
min_clarity = 70
[analysis]
band = 0.003
[team]
order = ["MarketAnalyst", "RiskManager"]
risk_veto = "medium"
[release]
alpha = 0.1
[shadow]
MarketAnalyst = "candidate"
"""))
    assert ws.optimize.tolerance == 3.0 and isinstance(ws.optimize.tolerance, float)
    assert ws.optimize.max_repairs == 4 and ws.optimize.concurrency is None
    assert ws.lint.min_clarity == 70.0 and ws.lint.max_ambiguity is None
    assert ws.analysis.band == 0.003 and ws.analysis.outcome_type is None
    assert ws.team.order == ["MarketAnalyst", "RiskManager"]
    assert ws.release.alpha == 0.1 and ws.release.shadow_timeout is None
    assert ws.shadow == {"MarketAnalyst": "candidate"}


def test_the_readers_use_the_typed_tables_with_their_defaults(tmp_path: Path) -> None:
    from agents.release import release_alpha
    from agents.session import team_spec
    from agents.shadow import shadow_timeout
    from optimizer.loop import AgentPromptOptimizer

    ws = load_workspace(write(tmp_path, "[optimize]\nmax_repairs = 5\ntolerance = 1\n"
                                        '[team]\nrisk_veto = "off"\n'))
    optimizer = AgentPromptOptimizer(ws)
    assert (optimizer.max_repairs, optimizer.gate_settings.tolerance) == (5, 1.0)
    assert (optimizer.temperature, optimizer.concurrency, optimizer.max_cases) == (0.2, 4, 20)
    assert optimizer.gate_settings.max_growth_chars == 1500
    assert optimizer.replay_settings.min_holdout == 20
    assert team_spec(ws).risk_veto is None
    assert release_alpha(ws) == 0.05 and shadow_timeout(ws) == ws.llm.timeout
    changed = dataclasses.replace(ws, raw={**ws.raw, "release": {"alpha": 0.2}})
    assert release_alpha(changed) == 0.2  # a Workspace with another raw follows it


def test_a_bad_table_through_the_cli_is_one_line_and_exit_1(run_cli, tmp_path: Path) -> None:
    root = write(tmp_path / "ws", '[analysis]\nband = "half"\n')
    result = run_cli("-C", str(root), "analyze", "--no-store")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ('Error: [analysis] band = "half" in promptloop.toml: expected a '
                             "return band from 0 to 1, such as 0.003\n")


def test_every_key_of_every_table_is_documented_in_its_section() -> None:
    text = DOCS.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## `\[([a-z.A-Z]+)\]`\n(.*?)(?=^## |\Z)", text,
                               flags=re.M | re.S))
    models = {"promptloop": MainTable, "llm": LLMTable, "agents.NAME": AgentTable,
              **SETTINGS_TABLES}
    assert set(models) | {"shadow"} == set(sections)
    for name, model in models.items():
        documented = set(re.findall(r"^\| `([a-z_]+)` \|", sections[name], flags=re.M))
        assert documented == set(model.model_fields), name
