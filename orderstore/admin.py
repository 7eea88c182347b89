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

from orderstore.backends import StoreUnavailable, open_backend
from orderstore.config import StoreConfig
from orderstore.migrations import MIGRATIONS, migrate, schema_version
from scangw.configfile import ConfigError, load


def add_store_tools(store_parser: argparse.ArgumentParser) -> Any:
    """Add ``migrate`` (and the other tools) under ``scangw store``; returns the
    subparsers so more tools can be added."""
    tools = store_parser.add_subparsers(dest="store_tool", required=False, metavar="TOOL")
    p = tools.add_parser("migrate", help="bring the store database's schema up to date",
                         description="Apply the numbered schema migrations the database does"
                         " not have yet (the store also does this when it starts).")
    p.add_argument("--config", type=Path, default=Path("/etc/scangw/store.yaml"),
                   metavar="FILE", help="the order store's config")
    p.set_defaults(func=run_migrate)
    return tools


def load_store_config(path: Path) -> StoreConfig | None:
    try:
        return load(StoreConfig, path)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return None


def run_migrate(args: argparse.Namespace) -> int:
    config = load_store_config(args.config)
    if config is None:
        return 1
    try:
        db = open_backend(config.store)
    except StoreUnavailable as exc:
        print(str(exc), file=sys.stderr)
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
