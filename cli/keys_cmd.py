"""``promptloop keys create|list|revoke``: the API keys of ``promptloop serve``.

The secret is printed once, by ``create``; the database keeps only its sha256.
"""

from __future__ import annotations

import click
from rich.table import Table

from cli.output import escape, print_json, stderr, stdout
from cli.tracker_cmds import JSON_HELP, database_url_option, open_tracker


@click.group()
def keys() -> None:
    """Create, list and revoke the API keys of promptloop serve."""


@keys.command("create")
@click.option("--name", required=True, help="A name for the key, e.g. the bot that uses it.")
@click.option("--scope", required=True, type=click.Choice(["ingest", "read", "admin"]),
              help="ingest: post decisions and outcomes; read: read; admin: everything.")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def create(ctx: click.Context, name: str, scope: str, database_url: str | None,
           as_json: bool) -> None:
    """Create a key; its secret is shown this once (only its hash is stored)."""
    from tracker.keys import KeyStore

    with open_tracker(ctx, database_url) as tracker:
        info, secret = KeyStore(tracker.engine).create(name, scope)
    if as_json:
        print_json({**info.to_dict(), "secret": secret})
        return
    stderr.print(f"Created key {escape(info.name)} (scope {info.scope}). Its secret, shown "
                 "only now; send it as 'Authorization: Bearer <secret>':")
    click.echo(secret)


@keys.command("list")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def list_keys(ctx: click.Context, database_url: str | None, as_json: bool) -> None:
    """List the keys (name, scope, the secret's first characters, revoked or not)."""
    from tracker.keys import KeyStore

    with open_tracker(ctx, database_url) as tracker:
        found = KeyStore(tracker.engine).list()
    if as_json:
        print_json([info.to_dict() for info in found])
        return
    if not found:
        stdout.print("No keys: promptloop serve listens on loopback only, without keys.")
        return
    table = Table("name", "scope", "starts with", "created (UTC)", "revoked (UTC)")
    for info in found:
        table.add_row(escape(info.name), info.scope, escape(info.prefix) + "…",
                      f"{info.created_at:%Y-%m-%d %H:%M}",
                      f"{info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "-")
    stdout.print(table)


@keys.command("revoke")
@click.argument("name")
@database_url_option
@click.pass_context
def revoke(ctx: click.Context, name: str, database_url: str | None) -> None:
    """Revoke the key NAME: it never authenticates again (it stays listed)."""
    from tracker.keys import KeyStore

    with open_tracker(ctx, database_url) as tracker:
        info = KeyStore(tracker.engine).revoke(name)
    stdout.print(f"Revoked key {escape(info.name)}.")
