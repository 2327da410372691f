"""`memsvc` command line: serve, migrate, decay, eval.

Settings come from the environment (MEMSVC_*); flags override the most common ones.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from memsvc import __version__
from memsvc.config import Settings, get_settings
from memsvc.services.scope import Scope

EPILOG = """\
examples:
  memsvc serve                         run the API on 127.0.0.1:8420 (SQLite + ./data/index)
  memsvc serve --port 9000 --data-dir /var/lib/memsvc
  MEMSVC_DATABASE__URL=postgresql+psycopg://user@db/memsvc memsvc migrate
  memsvc decay                         mark faded memories as forgotten, then exit (--loop)
  memsvc reindex                       rebuild the vector indexes from the database
  memsvc export --user-id alice -o alice.jsonl      a scope as JSON Lines (no --user-id: all)
  memsvc import alice.jsonl            and back, into this store (a mem0 export works too)
  memsvc mcp                           MCP tools over stdio (HTTP: the server's /mcp)
  memsvc eval longmemeval --suite dev --out eval/out/dev

configuration: every setting is an environment variable with the MEMSVC_ prefix and __ between
sections, e.g. MEMSVC_LLM__MODEL=openai/gpt-4o-mini, MEMSVC_INDEX__KIND=spann.
"""


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    settings = get_settings(**overrides)
    if getattr(args, "host", None):
        settings.host = args.host
    if getattr(args, "port", None):
        settings.port = args.port
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from memsvc.api import create_app

    settings = _settings(args)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from memsvc.db.engine import make_engine
    from memsvc.db.migrate import current, downgrade, upgrade

    settings = _settings(args)
    engine = make_engine(settings.database)
    try:
        if args.downgrade:
            downgrade(engine, args.downgrade)
        else:
            upgrade(engine, args.revision)
        print(f"database at revision {current(engine)} ({engine.url.render_as_string()})")
    finally:
        engine.dispose()
    return 0


def cmd_decay(args: argparse.Namespace) -> int:
    """One sweep (or one every --interval seconds with --loop); the model is not loaded."""
    import time

    from memsvc.runtime import maintenance_runtime
    from memsvc.services.decay import sweep

    settings = _settings(args)
    settings.background = False
    rt, lazy = maintenance_runtime(settings)
    interval = args.interval or settings.decay.sweep_interval_s
    try:
        while True:
            result = sweep(db=rt.db, reinforcer=rt.reinforcer, settings=rt.settings)
            print(
                f"decay sweep: {result.checked} memories checked, {result.forgotten} forgotten",
                flush=True,
            )
            if not args.loop:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()
        if lazy is not None:
            lazy.close()
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the vector indexes from the vectors in the database (nothing is embedded)."""
    from tqdm import tqdm

    from memsvc.runtime import maintenance_runtime
    from memsvc.services.maintenance import reindex

    settings = _settings(args)
    settings.background = False
    scope = _scope_arg(args)
    rt, lazy = maintenance_runtime(settings)
    try:
        bar = tqdm(unit="partition", desc="reindex", disable=args.quiet)
        counts = reindex(
            db=rt.db,
            indexes=rt.indexes,
            partitions=[scope.partition] if scope else None,
            progress=lambda _p, _n: bar.update(),
        )
        bar.close()
        print(f"reindexed {len(counts)} partitions, {sum(counts.values())} memories")
    finally:
        rt.close()
        if lazy is not None:
            lazy.close()
    return 0


def _scope_arg(args: argparse.Namespace) -> Scope | None:
    ids = (args.user_id, args.agent_id, args.session_id)
    return Scope(args.namespace, *ids) if any(ids) else None


def cmd_export(args: argparse.Namespace) -> int:
    """Reads the database only: no model is loaded."""
    import contextlib
    import json

    from tqdm import tqdm

    from memsvc.db.engine import Database
    from memsvc.services import transfer

    settings = _settings(args)
    scope = _scope_arg(args)
    db = Database(settings.database)
    try:
        with db.read() as session, contextlib.ExitStack() as stack:
            out = sys.stdout
            if args.out and args.out != "-":
                out = stack.enter_context(open(args.out, "w", encoding="utf-8"))
            total = transfer.count_records(session=session, namespace=args.namespace, scope=scope)
            records = transfer.export_records(
                session=session,
                namespace=args.namespace,
                scope=scope,
                embeddings=not args.no_embeddings,
            )
            bar = tqdm(total=total, unit="rec", desc="export", disable=args.quiet)
            for i, record in enumerate(records):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                if i:  # the header is not counted
                    bar.update()
            bar.close()
    finally:
        db.dispose()
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from memsvc.runtime import Runtime
    from memsvc.services import transfer

    path = Path(args.file)
    with path.open(encoding="utf-8") as fh:
        lines = sum(1 for line in fh if line.strip())
    settings = _settings(args)
    settings.background = False
    rt = Runtime(settings)
    try:
        bar = tqdm(total=max(lines - 1, 0), unit="rec", desc="import", disable=args.quiet)
        with rt.db.session() as session:
            result = transfer.import_records(
                session=session,
                ingest=rt.settings.ingest,
                indexes=rt.indexes,
                embedder=rt.embedder,
                namespace=args.namespace,
                records=transfer.read_file(path),
                reembed=args.reembed,
                user_id=args.user_id,
                progress=bar.update,
            )
        bar.close()
        print(result.model_dump_json())
    finally:
        rt.close()
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    """MCP over stdio for one local client (stdout carries the protocol; logs go to stderr)."""
    from memsvc import background
    from memsvc.mcp import build_server
    from memsvc.runtime import Runtime

    settings = _settings(args)
    rt = Runtime(settings)
    background.start(rt)
    try:
        build_server(lambda: rt, namespace=args.namespace).run("stdio")
    finally:
        rt.close()
    return 0


def cmd_eval(args: argparse.Namespace, rest: Sequence[str]) -> int:
    try:
        from memsvc_eval.cli import main as eval_main
    except ImportError:
        print(
            "the evaluation harness (eval/) is not installed; run `pip install -e .`",
            file=sys.stderr,
        )
        return 2
    return int(eval_main(list(rest)))


def _scope_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--namespace", default="default", help="API-key namespace (default)")
    parser.add_argument("--user-id", help="owner scope; without any id: the whole namespace")
    parser.add_argument("--agent-id")
    parser.add_argument("--session-id")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memsvc",
        description="memsvc: long-term memory for AI agents (HTTP API, migrations, maintenance).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"memsvc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", help="bind address (default 127.0.0.1, MEMSVC_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8420, MEMSVC_PORT)")
    serve.add_argument("--data-dir", help="folder for the SQLite file and indexes (default ./data)")

    migrate = sub.add_parser("migrate", help="upgrade (or downgrade) the database schema")
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate.add_argument("--downgrade", metavar="REV", help="downgrade to REV instead")
    migrate.add_argument("--data-dir", help="as for serve")

    decay = sub.add_parser("decay", help="run the MemoryBank forgetting sweep once (or --loop)")
    decay.add_argument("--once", action="store_true", help="one sweep, then exit (the default)")
    decay.add_argument("--loop", action="store_true", help="sweep every --interval seconds")
    decay.add_argument(
        "--interval", type=float, help="seconds between sweeps (MEMSVC_DECAY__SWEEP_INTERVAL_S)"
    )
    decay.add_argument("--data-dir", help="as for serve")

    export = sub.add_parser("export", help="write a scope or a namespace as JSON Lines")
    _scope_flags(export)
    export.add_argument("--out", "-o", help="file to write (default: standard output)")
    export.add_argument(
        "--no-embeddings", action="store_true", help="leave vectors out (re-embedded on import)"
    )
    export.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    export.add_argument("--data-dir", help="as for serve")

    imp = sub.add_parser("import", help="read JSON Lines from `memsvc export` (or a mem0 export)")
    imp.add_argument("file", help="the file to import")
    imp.add_argument("--namespace", default="default", help="namespace to write into")
    imp.add_argument("--user-id", help="owner of mem0 memories that name none")
    imp.add_argument("--reembed", action="store_true", help="embed again even if vectors fit")
    imp.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    imp.add_argument("--data-dir", help="as for serve")

    reindex = sub.add_parser("reindex", help="rebuild vector indexes from the database")
    _scope_flags(reindex)
    reindex.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    reindex.add_argument("--data-dir", help="as for serve")

    mcp = sub.add_parser("mcp", help="serve the MCP tools over stdio (for a local agent)")
    mcp.add_argument("--namespace", default="default", help="namespace the tools work in")
    mcp.add_argument("--data-dir", help="as for serve")

    sub.add_parser(
        "eval", help="evaluation harness (memsvc eval longmemeval --help)", add_help=False
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    parser = build_parser()
    if argv and argv[0] == "eval":
        return cmd_eval(argparse.Namespace(), argv[1:])
    args = parser.parse_args(argv)
    if args.command == "serve":
        return cmd_serve(args)
    if args.command == "migrate":
        return cmd_migrate(args)
    if args.command == "decay":
        return cmd_decay(args)
    if args.command == "reindex":
        return cmd_reindex(args)
    if args.command == "mcp":
        return cmd_mcp(args)
    if args.command == "export":
        return cmd_export(args)
    if args.command == "import":
        return cmd_import(args)
    parser.print_help()
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
