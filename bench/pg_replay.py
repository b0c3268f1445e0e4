#!/usr/bin/env python
"""A replay of May 2026 on SQLite and on PostgreSQL: the issues must be byte-identical.

    python bench/pg_replay.py                                   # 2026-05-01 .. 2026-05-07, own server
    python bench/pg_replay.py --to 2026-05-03                   # fewer days
    python bench/pg_replay.py --database-url postgresql+psycopg://USER:PW@127.0.0.1:5432/DB

What it does:

1. starts a PostgreSQL server of its own (Debian's ``initdb``/``pg_ctl``, a temporary folder, a
   free loopback port; as the ``postgres`` user when run as root), unless ``--database-url``
   names one (then a fresh database is made in it and dropped at the end);
2. runs ``lll --workspace TMP backtest shared/data/replay-2026-05 --from D1 --to D2`` as a user
   types it, twice: on the workspace's SQLite file, then with ``LLL_DATABASE_URL`` on PostgreSQL;
3. compares every ``issues/DATE.md`` byte for byte, and every ``issues/DATE.json`` with its
   timings (``seconds``) left out (item ids may differ: they follow the order in which sources
   finish fetching, which differs between any two runs), and prints the wall time of both runs
   (SQLite the baseline).

Exit status 0 when every issue is identical. Needs the ``postgres`` extra (psycopg).
:func:`postgres_cluster` is importable by other benches (``bench/scale.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "replay-2026-05"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise SystemExit("no PostgreSQL server here: `apt-get install postgresql` (Debian), or pass --database-url")
    return found[-1].parent


@contextlib.contextmanager
def postgres_cluster(port: int | None = None) -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1; yields its URL (user ``lll``, a random
    password, database ``postgres``) and stops it, folder and all, at the end."""
    pg = _pg_bin()
    port = port or _free_port()
    root = Path(tempfile.mkdtemp(prefix="lll-pg-"))
    password = secrets.token_hex(12)
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres")
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if as_root:
        shutil.chown(pwfile, "postgres")
    data = root / "data"
    subprocess.run([*prefix, str(pg / "initdb"), "-D", str(data), "-U", "lll", f"--pwfile={pwfile}",
                    "--auth=scram-sha-256", "-E", "UTF8"], check=True, stdout=subprocess.DEVNULL)
    pwfile.unlink()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c max_connections=200 -c fsync=off"
    subprocess.run([*prefix, str(pg / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
                    "-o", options, "start"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"postgresql+psycopg://lll:{password}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(pg / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    """A new, empty database ``name`` on the server of ``server_url``; dropped at the end."""
    import sqlalchemy as sa

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def replay(workspace: Path, first: str, last: str, database_url: str = "") -> float:
    """``lll backtest`` in a subprocess (its output kept in ``workspace``/../NAME.log); seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLL_")}
    if database_url:
        env["LLL_DATABASE_URL"] = database_url
    cmd = [sys.executable, "-m", "lll", "--workspace", str(workspace), "backtest", str(CORPUS),
           "--from", first, "--to", last]
    log = workspace.with_suffix(".log")
    started = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"lll backtest on {'PostgreSQL' if database_url else 'SQLite'} exited {code}; "
                         f"see {log}:\n{log.read_text()[-2000:]}")
    return seconds


def _without_timings(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_timings(v) for k, v in data.items() if k != "seconds"}
    if isinstance(data, list):
        return [_without_timings(v) for v in data]
    return data


_ITEM_IDS = re.compile(r'("item_id": |"item:|"id": ")\d+(?=[:,"\s}])')


def compare(a: Path, b: Path) -> tuple[int, list[str], list[str]]:
    """(issues compared, differences, notes) between the ``issues/`` folders of two workspaces.
    A JSON that differs only in item ids is a note, not a difference: ids are given in the order
    sources finish fetching (concurrently), which no two runs share, on either store."""
    names = sorted(p.name for p in (a / "issues").glob("*.md"))
    other = sorted(p.name for p in (b / "issues").glob("*.md"))
    problems = [] if names == other else [f"issue files differ: {names} vs {other}"]
    notes = []
    for name in names:
        if name not in other:
            continue
        if (a / "issues" / name).read_bytes() != (b / "issues" / name).read_bytes():
            problems.append(f"{name}: the Markdown differs")
        ja, jb = (_without_timings(json.loads((w / "issues" / name.replace(".md", ".json")).read_text()))
                  for w in (a, b))
        if ja != jb:
            same = _ITEM_IDS.sub(r"\1#", json.dumps(ja, sort_keys=True)) == \
                _ITEM_IDS.sub(r"\1#", json.dumps(jb, sort_keys=True))
            (notes if same else problems).append(
                f"{name.replace('.md', '.json')}: " + ("the same but for item ids" if same else "differs"))
    return len(names), problems, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="first", default="2026-05-01")
    parser.add_argument("--to", dest="last", default="2026-05-07")
    parser.add_argument("--database-url", default=os.environ.get("LLL_BENCH_DATABASE_URL", ""),
                        help="a PostgreSQL server to use (a fresh database is made there); default: start one")
    parser.add_argument("--keep", action="store_true", help="keep the two workspaces (printed)")
    args = parser.parse_args()
    if not (CORPUS / "sources.opml").exists():
        print(f"the replay corpus is missing: {CORPUS} (see shared/data/README.md)", file=sys.stderr)
        return 2
    from lll.store.dialect import safe_url

    work = Path(tempfile.mkdtemp(prefix="lll-pg-replay-"))
    with contextlib.ExitStack() as stack:
        server = args.database_url or stack.enter_context(postgres_cluster())
        url = stack.enter_context(fresh_database(server, f"lll_replay_{os.getpid()}"))
        print(f"replay {args.first} .. {args.last} of {CORPUS}; PostgreSQL at {safe_url(url)}", flush=True)
        t_sqlite = replay(work / "sqlite", args.first, args.last)
        print(f"  SQLite      {t_sqlite:7.1f} s", flush=True)
        t_pg = replay(work / "postgres", args.first, args.last, url)
        print(f"  PostgreSQL  {t_pg:7.1f} s   ({t_pg / t_sqlite:.2f}x SQLite)", flush=True)
    count, problems, notes = compare(work / "sqlite", work / "postgres")
    differing = {p.split(":")[0].rsplit(".", 1)[0] for p in problems}
    print(f"issues compared: {count}; Markdown byte-identical and JSON identical (timings aside): "
          f"{count - len(differing)}/{count}")
    for note in notes:
        print(f"  note: {note}")
    for problem in problems:
        print(f"  DIFFERENT {problem}")
    if args.keep:
        print(f"workspaces kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if count and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
