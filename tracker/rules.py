"""When a decision counts as correct.

For a forward return ``r`` and a band ``b`` (default 0.5%): BUY is right iff r > b,
SELL iff r < -b, HOLD iff |r| <= b. Outcomes written by ``promptloop outcomes resolve``
have the type ``return_<horizon>`` (``return_24h`` by default), and analysis reads that
type unless told otherwise.
"""

DEFAULT_BAND = 0.005
DEFAULT_HORIZON = "24h"
DEFAULT_OUTCOME_TYPE = f"return_{DEFAULT_HORIZON}"
ACTIONS = ("BUY", "SELL", "HOLD")
RISK_LEVELS = ("LOW", "MEDIUM", "HIGH")


def is_correct(action: str, forward_return: float, band: float = DEFAULT_BAND) -> bool:
    if action == "BUY":
        return forward_return > band
    if action == "SELL":
        return forward_return < -band
    if action == "HOLD":
        return abs(forward_return) <= band
    raise ValueError(f"unknown action {action!r}")
