"""``scangw store migrate|export|import``: looking after the store's database.

``add_store_tools`` puts these under the ``scangw store`` parser (which runs the
store when no tool is named). Each opens the database from the store config,
on SQLite or PostgreSQL alike.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from orderstore.backends import Backend, StoreUnavailable, open_backend
from orderstore.config import StoreConfig
from orderstore.export import WRITERS, export, progress_bar
from orderstore.migrations import MIGRATIONS, migrate, schema_version
from scangw.configfile import ConfigError, load


def add_store_tools(store_parser: argparse.ArgumentParser) -> Any:
    """Add ``migrate`` (and the other tools) under ``scangw store``; returns the
    subparsers so more tools can be added."""
    tools = store_parser.add_subparsers(dest="store_tool", required=False, metavar="TOOL")
    p = tools.add_parser("migrate", help="bring the store database's schema up to date",
                         description="Apply the numbered schema migrations the database does"
                         " not have yet (the store also does this when it starts).")
    _config_arg(p)
    p.set_defaults(func=run_migrate)
    p = tools.add_parser("export", help="export registrations and posted documents",
                         description="Write registrations (ledger and station log), posted"
                         " packing slips and invoices with their lines, one file per kind.")
    _config_arg(p)
    p.add_argument("--format", choices=sorted(WRITERS), default="csv")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_export)
    p = tools.add_parser("import", help="import master data and orders (as scangw orders import)",
                         description="Import groups, items, customers and orders from CSV or"
                         " JSON files, all or nothing; every bad row is reported.")
    _config_arg(p)
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=run_import)
    return tools


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=Path("/etc/scangw/store.yaml"),
                   metavar="FILE", help="the order store's config")


def load_store_config(path: Path) -> StoreConfig | None:
    try:
        return load(StoreConfig, path)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return None


def _open(args: argparse.Namespace) -> Backend | None:
    """The store's database named by ``--config``, or None after saying why not."""
    config = load_store_config(args.config)
    if config is None:
        return None
    try:
        return open_backend(config.store)
    except StoreUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return None


def run_migrate(args: argparse.Namespace) -> int:
    db = _open(args)
    if db is None:
        return 1
    try:
        before = schema_version(db)
        ran = migrate(db)
        after = schema_version(db)
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        db.close()
    for step in ran:
        print(f"applied migration {step.version}: {step.name}")
    state = "up to date" if not ran else f"migrated from version {before}"
    print(f"store database {state} at schema version {after} (latest {MIGRATIONS[-1].version})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    db = _open(args)
    if db is None:
        return 1
    try:
        migrate(db)
        if args.quiet:
            written = export(db, args.out, args.format)
        else:
            with progress_bar() as bar:
                written = export(db, args.out, args.format, progress=bar)
    except OSError as exc:
        print(f"cannot write the export to {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    finally:
        db.close()
    for name, count in written.items():
        print(f"{count:>9} {name}.{args.format}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """``scangw store import``: the same as ``scangw orders import``."""
    from orderstore.office import import_files, run_office

    args.store_config, args.json = args.config, False
    return run_office(args, import_files, write=True)
