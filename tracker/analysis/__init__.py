"""Performance analysis of agents and of the team's final decisions (issue 7).

- :func:`analyze_performance` — the report behind ``promptloop analyze`` (metrics,
  calibration, inconsistencies, suggestions), computed with GROUP BY in the database,
  stored in ``performance_metrics``; a frozen :class:`Report` (:mod:`~tracker.analysis.model`)
  read by attribute, whose ``to_dict()`` is the ``--json`` document;
- :func:`agent_findings` — one agent's findings as short lines for the optimizer's critic.

Modules: :mod:`~tracker.analysis.sql` (row sources, correctness in SQL),
:mod:`~tracker.analysis.metrics` (the GROUP BY and its roll-ups),
:mod:`~tracker.analysis.calibration`, :mod:`~tracker.analysis.inconsistencies`,
:mod:`~tracker.analysis.lexicon`, :mod:`~tracker.analysis.suggestions`,
:mod:`~tracker.analysis.report`, :mod:`~tracker.analysis.model` (the report's types).
"""

from tracker.analysis.model import Block, Report
from tracker.analysis.report import agent_findings, analyze_performance, metric_rows

__all__ = ["analyze_performance", "agent_findings", "metric_rows", "Block", "Report"]
