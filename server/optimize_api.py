"""Optimize as a service: ``POST /v1/optimize`` (admin), ``GET /v1/optimize/{id}``,
``GET /v1/optimization-runs`` (read).

``POST /v1/optimize`` checks the request, queues the run and answers 202 with its id at
once; one background thread per worker process runs the queued runs one after another
(each run may commit to the workspace's git repository, so they never overlap within a
worker, and an apply that lost a race to another worker is refused by ``PromptRepo.apply``
and reported as the run's error). The run is what ``promptloop optimize --agent X --json``
does, with ``--auto-apply`` or ``--dry-run`` as asked; without either nothing is applied
and the run is recorded ``dry-run`` (no one is there to answer "Apply?").

A job's status (queued, running, finished, error) lives in the memory of the worker that
took it, so with several workers ``GET /v1/optimize/{id}`` may answer 404 from another
one; the run itself is stored (``optimization_runs``) and listed by every worker through
``GET /v1/optimization-runs``, found there by the ``run_id`` of the finished job.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from server.auth import require
from server.context import ServerContext
from server.errors import ApiError

if TYPE_CHECKING:
    from optimizer.loop import AgentPromptOptimizer
    from optimizer.proposal import Proposal

router = APIRouter(prefix="/v1", tags=["optimize"])
_log = logging.getLogger(__name__)
_STARTING = threading.Lock()  # one job runner per app, even when two first requests race


class OptimizeRequest(BaseModel):
    """The options of ``promptloop optimize`` a service run takes."""

    model_config = ConfigDict(extra="forbid")

    agent: str
    days: int = Field(30, ge=1, le=3650)
    rounds: int = Field(1, ge=1, le=10)
    engine: str | None = Field(None, pattern="^(llm|heuristic)$")
    auto_apply: bool = False
    dry_run: bool = False
    label: str | None = None


@dataclass
class Job:
    """One queued optimize run and, once done, its result or its error."""

    id: str
    request: OptimizeRequest
    status: str = "queued"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "agent": self.request.agent,
                "created": self.created.isoformat(), "request": self.request.model_dump(),
                "result": self.result, "error": self.error}


class JobRunner:
    """A queue of jobs and the one daemon thread that runs them in order."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job] = queue.Queue()
        threading.Thread(target=self._work, name="promptloop-optimize", daemon=True).start()

    def submit(self, request: OptimizeRequest) -> Job:
        job = Job(uuid.uuid4().hex, request)
        self.jobs[job.id] = job
        self._queue.put(job)
        return job

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            job.status = "running"
            try:
                job.result = run_optimize(self.context, job.request)
                job.status = "finished"
            except Exception as exc:  # the job must end; a bug is logged with its traceback
                from optimizer.loop import RUN_ERRORS

                if not isinstance(exc, RUN_ERRORS):
                    _log.exception("optimize job %s failed", job.id)
                job.error, job.status = str(exc) or type(exc).__name__, "error"


def run_optimize(context: ServerContext, request: OptimizeRequest) -> dict[str, Any]:
    """One run, as ``promptloop optimize --json``: the proposal's document and the result."""
    from optimizer.loop import AgentPromptOptimizer

    optimizer = AgentPromptOptimizer(context.workspace, tracker=context.tracker)
    try:
        proposal = optimizer.propose(request.agent, days=request.days, rounds=request.rounds,
                                     engine=request.engine)
        return {**proposal.to_dict(), **_conclude(optimizer, proposal, request)}
    finally:
        optimizer.close()


def _conclude(optimizer: AgentPromptOptimizer, proposal: Proposal,
              request: OptimizeRequest) -> dict[str, Any]:
    """The CLI's policy (:mod:`optimizer.apply_policy`); a service has nobody to ask."""
    from optimizer.apply_policy import ApplyMode, conclude

    unasked = "dry_run" if request.dry_run else "auto_apply is false"
    mode = ApplyMode(auto_apply=request.auto_apply, label=request.label, unasked=unasked)
    return conclude(optimizer, proposal, mode).to_dict()


@router.post("/optimize", status_code=202, dependencies=[Depends(require("admin"))])
def start_optimize(request: Request, body: OptimizeRequest) -> JSONResponse:
    """Queue an optimize run; answers 202 with its id (poll ``GET /v1/optimize/{id}``)."""
    from prompt_repo.labels import is_label_name

    context: ServerContext = request.app.state.context
    if body.auto_apply and body.dry_run:
        raise ApiError(422, "invalid_input", "auto_apply and dry_run exclude each other")
    if body.agent not in context.workspace.agents:
        known = ", ".join(context.workspace.agents) or "none"
        raise ApiError(404, "not_found", f"agent: {body.agent!r} is not an agent of this "
                       f"workspace (configured: {known})")
    if body.label is not None and not is_label_name(body.label):
        raise ApiError(422, "invalid_input", f"label: {body.label!r} is not a label name")
    job = _runner(request).submit(body)
    return JSONResponse(job.to_dict(), status_code=202,
                        headers={"Location": f"/v1/optimize/{job.id}"})


@router.get("/optimize/{job_id}", dependencies=[Depends(require("read"))])
def get_optimize(request: Request, job_id: str) -> dict[str, Any]:
    """A queued run's status and, once finished, the ``optimize --json`` document."""
    job = _runner(request).jobs.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no optimize job {job_id!r} on this worker")
    return job.to_dict()


@router.get("/optimization-runs", dependencies=[Depends(require("read"))])
def get_optimization_runs(request: Request, agent: str | None = None,
                          limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    """Stored optimization runs, newest first."""
    context: ServerContext = request.app.state.context
    runs = context.tracker.optimization_runs(agent=agent, limit=limit)
    return {"runs": [{key: _jsonable(value) for key, value in run.items()} for run in runs]}


def _runner(request: Request) -> JobRunner:
    state = request.app.state
    with _STARTING:
        runner: JobRunner | None = getattr(state, "optimize_runner", None)
        if runner is None or runner.context is not state.context:
            runner = state.optimize_runner = JobRunner(state.context)
    return runner


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
