"""``promptloop serve``: the HTTP API on the tracker, the prompts and the analysis.

Routes only parse, call the packages below (tracker, prompt_repo) and render, like ``cli/``;
nothing imports this package except ``cli/serve_cmd.py``. The app is built by
:func:`server.app.create_app` from a :class:`server.context.ServerConfig`; the database
and the git workspace are the only state, so several workers (or hosts, on one
PostgreSQL) serve the same data.

Modules: ``app`` (the FastAPI app, error rendering), ``context`` (config and the opened
tracker), ``auth`` (bearer keys and scopes), ``health``, ``ingest`` (POST /v1/...),
``reads`` (GET /v1/...), ``run`` (the checks before listening, uvicorn).
"""
