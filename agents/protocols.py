"""The agent runtime's collaborators as small protocols instead of ``Any``.

- :class:`ChatClient`: what the agents, the replay and the optimizer use of
  :class:`agents.llm.LLMClient` (``chat``, ``structured``, ``usage``, ``close``).
- :class:`MarketData`: a market data source, ``candles`` for the agents and ``price_at`` for
  outcome resolution (the :class:`tracker.prices.PriceSource` protocol):
  :class:`agents.market.CsvMarketData` (the bundled sample, any OHLCV export) and
  :class:`agents.market.CcxtMarketData` (live exchanges). See :mod:`agents.market`.

The tracker's protocols live in :mod:`tracker.protocols`. Each protocol is
``runtime_checkable``; the ``TYPE_CHECKING`` block below is the static check that the
concrete classes satisfy them (and that ``RemoteTracker`` is a
:class:`tracker.protocols.DecisionRecorder`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

if TYPE_CHECKING:
    from agents.llm import ChatResult, LLMClient
    from agents.llm_budget import Usage
    from agents.market import CcxtMarketData, CsvMarketData
    from agents.remote_tracker import RemoteTracker
    from tracker.prices import Candle
    from tracker.protocols import DecisionRecorder

__all__ = ["ChatClient", "MarketData"]

Model = TypeVar("Model", bound=BaseModel)


@runtime_checkable
class ChatClient(Protocol):
    """One chat endpoint: plain answers, answers validated as a pydantic model."""

    def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str | None = None,
        temperature: float = 0.2,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> ChatResult: ...

    def structured(
        self,
        messages: list[dict[str, Any]],
        schema: type[Model],
        *,
        model: str | None = None,
        temperature: float = 0.2,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> tuple[Model, ChatResult]: ...

    @property
    def usage(self) -> Usage: ...

    def close(self) -> None: ...


@runtime_checkable
class MarketData(Protocol):
    """Candles and prices of symbols."""

    def candles(self, symbol: str, end: datetime | None = None, limit: int = 200) -> list[Candle]:
        """The last ``limit`` candles complete before ``end``, oldest first."""
        ...

    def price_at(self, symbol: str, when: datetime) -> float | None:
        """The open of the candle that opened at or before ``when``; None outside the data."""
        ...


if TYPE_CHECKING:
    def _satisfied(client: LLMClient, csv: CsvMarketData, ccxt: CcxtMarketData,
                   remote: RemoteTracker) -> tuple[ChatClient, MarketData, MarketData,
                                                   DecisionRecorder]:
        return client, csv, ccxt, remote
