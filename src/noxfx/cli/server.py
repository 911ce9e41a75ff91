"""``noxfx serve``, ``noxfx worker``, ``noxfx db upgrade`` and ``noxfx users set-role``."""

from __future__ import annotations

import typer

db_app = typer.Typer(help="Database: migrations.", no_args_is_help=True)
users_app = typer.Typer(help="Users: roles.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", "-p", help="TCP port."),
    workers: int | None = typer.Option(None, "--workers", help="gunicorn workers."),
    threads: int = typer.Option(
        32, "--threads", help="Threads per worker (each open websocket holds one)."
    ),
    dev: bool = typer.Option(False, "--dev", help="Flask's development server (not production)."),
) -> None:
    """Run the API and Socket.IO (gunicorn; Swagger UI at /docs, spec at /openapi.json)."""
    from noxfx.service import serve as run_server

    print_urls(host, port)
    run_server(host, port, workers=workers, threads=threads, dev=dev)


def print_urls(host: str, port: int) -> None:
    from noxfx.cli._output import stderr_console

    base = f"http://{host}:{port}"
    stderr_console().print(f"NOX API  {base}/api/v1\nDocs     {base}/docs\n"
                           f"OpenAPI  {base}/openapi.json\nHealth   {base}/healthz")  # fmt: skip


def worker(
    concurrency: int = typer.Option(2, "--concurrency", "-c", help="Worker processes."),
) -> None:
    """Run a background-job worker (Celery; needs NOX_REDIS_URL)."""
    from noxfx.service import worker as run_worker

    run_worker(concurrency=concurrency)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply database migrations (SQLite in NOX_HOME, or NOX_DATABASE_URL)."""
    from noxfx.service import migrate

    typer.echo(migrate())


@users_app.command("set-role")
def set_role(
    email: str = typer.Argument(..., help="The user's e-mail."),
    role: str = typer.Argument(..., help="basic, premium, analyst or admin."),
) -> None:
    """Give a user a role (how the first admin is made)."""
    from noxfx.service import set_role as assign

    typer.echo(assign(email, role))
