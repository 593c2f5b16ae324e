"""``promptloop serve``: the HTTP API (server/). Imports fastapi and uvicorn only when run."""

from __future__ import annotations

from pathlib import Path

import click

from cli.output import escape, stderr
from cli.tracker_cmds import database_url_option


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Beyond loopback, at least one API key must exist.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
              help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (several: best on PostgreSQL).")
@database_url_option
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int,
          database_url: str | None) -> None:
    """Serve the ingestion and read API over HTTP (docs/server.md).

    The OpenAPI document is at /openapi.json; /healthz and /readyz for load balancers.
    """
    from server.run import prepare
    from server.run import serve as run

    root = ctx.find_root().obj.get("workspace")
    config = prepare(host, Path(root) if root else None, database_url)
    stderr.print(f"Serving {escape(str(config.workspace))} on http://{escape(host)}:{port} "
                 f"({workers} worker{'s' * (workers != 1)}"
                 f"{'' if config.public else ', loopback only'}); Ctrl-C stops.")
    run(config, host, port, workers)
