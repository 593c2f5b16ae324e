"""Shadow runs: another label's prompt of a team member, on the same inputs, never acted on.

``[shadow]`` in promptloop.toml (or ``DecisionSession(shadow=...)``, ``--shadow AGENT=LABEL``)
maps a team member to a label, e.g. ``MarketAnalyst = "candidate"``. When the session is
about to ask that member, :class:`ShadowRunner` starts the same call with the label's prompt
in a thread of its own: the same snapshot and the same earlier answers, so the two answers
are a pair. The team goes on without waiting; the shadow's answer is never shown to later
members nor used for the decision.

After the team has decided, the session waits for the shadows at most ``timeout`` seconds
(``[release] shadow_timeout``, default the ``[llm] timeout``). A shadow that failed (endpoint
error, spent budget, unparseable answer) or did not finish in time becomes an output with
``error`` set; it never fails the session. Threads are daemons: a shadow still running
when the session is done cannot keep the process alive.

A shadow whose label names the version the team already runs is not started (it would
answer the same prompt twice).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agents.errors import AgentError
from agents.roles import CallResult, call_agent
from prompt_repo.config import Workspace
from prompt_repo.errors import ConfigError

if TYPE_CHECKING:
    from agents.protocols import ChatClient
    from prompt_repo.repo import PromptVersion

__all__ = ["ShadowRunner", "ShadowOutput", "shadow_spec", "shadow_timeout"]


@dataclass(frozen=True)
class ShadowOutput:
    """One shadow call: the label it ran under and what it produced."""

    label: str
    result: CallResult

    def to_output_row(self) -> dict[str, Any]:
        return {**self.result.to_output_row(), "is_shadow": True, "label": self.label}


def shadow_spec(workspace: Workspace, team: Sequence[str],
                override: Mapping[str, str] | None = None) -> dict[str, str]:
    """Agent -> label: ``[shadow]`` of promptloop.toml, then ``override`` per agent."""
    from prompt_repo.labels import check_label_name

    spec = {**workspace.shadow, **(override or {})}
    for agent, label in spec.items():
        if agent not in team:
            raise ConfigError(f"[shadow] names {agent!r}, which is not a member of the team")
        if not isinstance(label, str):
            raise ConfigError(f"[shadow] {agent} must be a label name in quotes")
        check_label_name(label)
    return dict(spec)


def shadow_timeout(workspace: Workspace) -> float:
    """How long a session waits for its shadows after the team's decision."""
    configured = workspace.release.shadow_timeout
    value = workspace.llm.timeout if configured is None else configured
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"[release] shadow_timeout must be a number, got {value!r}") from None


class ShadowRunner:
    """Starts shadow calls as the team reaches their agents; collects them at the end."""

    def __init__(self, client: ChatClient | None,
                 prompts: Mapping[str, tuple[str, PromptVersion]],
                 settings: Mapping[str, tuple[str, float]]) -> None:
        """``prompts``: agent -> (label, PromptVersion); ``settings``: agent -> (model,
        temperature)."""
        self.client = client
        self.prompts = dict(prompts)
        self.settings = dict(settings)
        self._started: dict[str, Future[CallResult]] = {}

    def start(self, agent: str, snapshot: Mapping[str, Any],
              earlier: Sequence[Mapping[str, Any]]) -> None:
        """Begin ``agent``'s shadow call, if it has one, on these inputs."""
        client = self.client
        if agent not in self.prompts or client is None:  # a runner without shadows has none
            return
        future: Future[CallResult] = Future()
        args = (client, agent, snapshot, list(earlier), future)
        threading.Thread(target=self._call, args=args, daemon=True,
                         name=f"shadow-{agent}").start()
        self._started[agent] = future

    def collect(self, timeout: float) -> list[ShadowOutput]:
        """The shadows started, in team order, waiting at most ``timeout`` seconds in all."""
        wait(list(self._started.values()), timeout=max(0.0, timeout))
        outputs = []
        for agent, future in self._started.items():
            label, version = self.prompts[agent]
            if future.done():
                result = future.result()  # a bug in the call (not an AgentError) raises here
            else:
                result = self._error(agent, version.sha, "shadow call did not finish within"
                                     f" {timeout:g}s of the team's decision")
            outputs.append(ShadowOutput(label, result))
        return outputs

    def _call(self, client: ChatClient, agent: str, snapshot: Mapping[str, Any],
              earlier: list[Mapping[str, Any]], future: Future[CallResult]) -> None:
        label, version = self.prompts[agent]
        model, temperature = self.settings[agent]
        try:
            result = call_agent(client, agent, version.text, snapshot, earlier,
                                prompt_sha=version.sha, model=model, temperature=temperature)
        except AgentError as exc:  # a shadow's failure is its own output, never the session's
            result = self._error(agent, version.sha, f"{type(exc).__name__}: {exc}")
        except BaseException as exc:  # a bug: handed to collect(), which raises it
            future.set_exception(exc)
            return
        future.set_result(result)

    @staticmethod
    def _error(agent: str, sha: str, message: str) -> CallResult:
        return CallResult(agent=agent, prompt_sha=sha, answer=None, raw_output=None,
                          error=message)
