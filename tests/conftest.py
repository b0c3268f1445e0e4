"""Shared fixtures for the ingest tests.

Everything here is real: feeds come from a real HTTP server on 127.0.0.1 (a
``ThreadingHTTPServer`` in a thread), the store is a real SQLite file in
``tmp_path``, and the CLI is driven through click's ``CliRunner``. Nothing ever
reaches the internet: an autouse guard refuses every DNS lookup except
``localhost``, so a test that would leak to the network fails instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from fakes._http import Loopback, Reply

from lll import clock
from lll.cli import cli
from lll.config import FetchSettings
from lll.fetch.http import HttpClient
from lll.fetch.run import FetchReport, FetchRun
from lll.records import FetchedBody, Source
from lll.store import Store
from lll.store.dialect import make_engine
from lll.workspace import DB_NAME, Workspace

TESTS = Path(__file__).resolve().parent
FEEDS = TESTS / "data" / "feeds"
# The repo is …/main; the shared data sits next to it (…/shared/data) here and in CI. A user's clone
# has no such folder: the tests that read it skip, except where LLL_REQUIRE_SHARED_DATA=1 (.ci/run).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REQUIRE_SHARED_DATA = "LLL_REQUIRE_SHARED_DATA"


def shared_data_required() -> bool:
    return os.environ.get(REQUIRE_SHARED_DATA, "").strip() not in ("", "0")


def shared_data(*parts: str) -> Path:
    """A path under the shared real-data corpora. When it is missing the test skips, saying so;
    with ``LLL_REQUIRE_SHARED_DATA=1`` (CI, where the data is present) it fails instead."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        reason = (f"shared test data missing: {path} does not exist (these tests read the real-data corpora "
                  f"of shared/data, a folder beside the repository clone)")
        if shared_data_required():
            pytest.fail(f"{reason}; {REQUIRE_SHARED_DATA}=1 requires it", pytrace=False)
        pytest.skip(reason)
    return path


# -- isolation -------------------------------------------------------------------------------------

_real_getaddrinfo = socket.getaddrinfo
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _offline_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
        literal = True
    except ValueError:
        literal = False
    if literal or name.lower() in _LOCAL_NAMES or not name:
        return _real_getaddrinfo(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"tests are offline: no DNS lookup for {name!r}")


@pytest.fixture(scope="session")
def _model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole run (the int8 MiniLM copy is built once), never ~/.cache."""
    return tmp_path_factory.mktemp("lll-cache")


# -- the database under test: SQLite files, or PostgreSQL when LLL_TEST_DATABASE_URL is set --------
#
# With ``LLL_TEST_DATABASE_URL=postgresql+psycopg://USER:PASSWORD@127.0.0.1:PORT/DB`` every
# workspace (every ``…/lll.db`` path a test names) gets a schema of its own in that database,
# made on first use and dropped when the test ends (a module or session fixture's, when the
# run ends). Tests name a database by the path its SQLite file would have, and read it through
# ``query``/``scalar`` (SQLAlchemy, either store); ``copy_database`` copies one beside its folder.

TEST_DATABASE_URL = os.environ.get("LLL_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="about SQLite's own file, pragmas or locking")

_schemas: set[str] = set()  # made by the running test
_shared_schemas: set[str] = set()  # made by module and session fixtures, dropped at the end of the run
_in_test: list[bool] = [False]
_engines: dict[str, sa.Engine] = {}  # of query()/scalar(), by URL
_admin: list[sa.Engine] = []


def _admin_engine() -> sa.Engine:
    if not _admin:
        _admin.append(sa.create_engine(TEST_DATABASE_URL, poolclass=sa.pool.NullPool,
                                       isolation_level="AUTOCOMMIT"))
    return _admin[0]


def db_url(db: Path) -> str:
    """The URL of the database whose SQLite file would be ``db``: that file, or on PostgreSQL
    a schema named after the path (``search_path`` set through the connection's options)."""
    if not ON_POSTGRES:
        return f"sqlite:///{db}"
    schema = _schema(db)
    if schema not in _schemas and schema not in _shared_schemas:
        with _admin_engine().connect() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        (_schemas if _in_test[0] else _shared_schemas).add(schema)
    url = sa.engine.make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@contextmanager
def shared_databases() -> Iterator[None]:
    """Databases made inside this block outlive the running test (for session-wide builds)."""
    was, _in_test[0] = _in_test[0], False
    try:
        yield
    finally:
        _in_test[0] = was


def _schema(db: Path) -> str:
    return "t_" + hashlib.sha256(str(Path(db).resolve()).encode()).hexdigest()[:24]


def copy_database(src: Path, dst: Path) -> None:
    """Copy the database of ``src`` (an ``lll.db`` path) to that of ``dst``. On SQLite the file
    travels with its folder, so only PostgreSQL has work to do: the migrations, then every row."""
    if not ON_POSTGRES:
        return
    from lll.store.schema import ID, metadata

    old, new = _schema(src), _schema(dst)
    url = db_url(dst)
    if url in _engines:
        _engines.pop(url).dispose()
    with _admin_engine().connect() as conn:  # a folder copied again over an earlier copy: its database too
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {new} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {new}"))
    Store(url).close()
    with _admin_engine().begin() as conn:
        for table in metadata.sorted_tables:
            if table.name == "schema_migrations":
                continue
            conn.execute(sa.text(f"INSERT INTO {new}.{table.name} SELECT * FROM {old}.{table.name}"))
            if "id" in table.c and table.c.id.type is ID:  # a BIGSERIAL key: its sequence follows the rows
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{new}.{table.name}', 'id'), "
                                     f"COALESCE((SELECT max(id) FROM {new}.{table.name}), 0) + 1, false)"))


def db_env(root: Path) -> dict[str, str]:
    """What a child process needs to open the workspace at ``root`` on the store under test."""
    return {"LLL_DATABASE_URL": db_url(root / DB_NAME)} if ON_POSTGRES else {}


def _drop_schemas() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    if not _schemas:
        return
    with _admin_engine().connect() as conn:
        conn.execute(sa.text("SET lock_timeout = '10s'"))
        for schema in sorted(_schemas):
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    _schemas.clear()


def pytest_configure(config: pytest.Config) -> None:
    if ON_POSTGRES:  # every workspace opened in this run, by a test or a fixture of any scope
        Workspace.database_url = property(  # type: ignore[method-assign,assignment]
            lambda ws: os.environ.get("LLL_DATABASE_URL", "").strip() or ws.config.database_url
            or db_url(ws.root / DB_NAME))


def pytest_unconfigure(config: pytest.Config) -> None:
    if ON_POSTGRES and _admin:
        _schemas.update(_shared_schemas)
        _drop_schemas()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _model_cache: Path) -> Iterator[Path]:
    """Every test: its own workspace folder, the run's model cache, no time or address-policy
    overrides from the environment, and no DNS (so nothing can reach the internet). On
    PostgreSQL, each workspace's database is a schema of its own."""
    workspace = tmp_path / "workspace"
    monkeypatch.setenv("LLL_WORKSPACE", str(workspace))
    monkeypatch.setenv("LLL_CACHE_DIR", str(_model_cache))
    for name in ("LLL_NOW", "LLL_ALLOW_PRIVATE", "LLL_DEBUG", "LLL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(socket, "getaddrinfo", _offline_getaddrinfo)
    _in_test[0] = True
    try:
        yield workspace
    finally:
        _in_test[0] = False
        _drop_schemas()
    assert clock._override is None, "a test left lll.clock frozen"


# -- a real HTTP server on loopback ----------------------------------------------------------------


@dataclass
class Request:
    path: str  # with the query string
    headers: dict[str, str]  # lower-case names
    at: float
    number: int  # 1 for the first request of this path


@dataclass
class Stream:
    """A body written chunk by chunk, with no Content-Length unless given (then the
    connection is closed at the end)."""

    chunks: Callable[[], Iterable[bytes]]
    interval: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


@dataclass
class Hang:
    """Accept the request and never answer (until the server stops)."""


Handler = Callable[[Request], "Reply | Stream | Hang"]


class LoopbackServer(Loopback):
    """A GET server on 127.0.0.1 (see ``Loopback``). Routes map a path (with or without query)
    to a handler or a fixed ``Reply``; every request is logged."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        super().__init__()

    def dispatch(self, h: BaseHTTPRequestHandler) -> None:
        self._answer(h)

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def route(self, path: str, handler: Handler | Reply) -> str:
        """Serve ``path``; returns its full URL."""
        self.routes["/" + path.lstrip("/")] = (lambda _req, r=handler: r) if isinstance(handler, Reply) \
            else handler
        return self.url(path)

    def hits(self, path: str) -> int:
        path = "/" + path.lstrip("/")
        with self._lock:
            return sum(1 for r in self.requests if r.path == path or r.path.split("?", 1)[0] == path)

    def last(self, path: str) -> Request:
        path = "/" + path.lstrip("/")
        with self._lock:
            return [r for r in self.requests if r.path.split("?", 1)[0] == path][-1]

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            number = 1 + sum(1 for r in self.requests if r.path == h.path)
            request = Request(h.path, {k.lower(): v for k, v in h.headers.items()}, time.monotonic(), number)
            self.requests.append(request)
        handler = self.routes.get(h.path) or self.routes.get(h.path.split("?", 1)[0])
        reply = handler(request) if handler else Reply(404, b"not found\n", {"Content-Type": "text/plain"})
        try:
            if isinstance(reply, Hang):
                self.stopping.wait(30)
                return
            if isinstance(reply, Stream):
                self._stream(h, reply)
                return
            h.send_response(reply.status)
            headers = {"Content-Length": str(len(reply.body)), **reply.headers}
            for name, value in headers.items():
                h.send_header(name, value)
            h.end_headers()
            if reply.status != 304 and reply.body:
                h.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _stream(self, h: BaseHTTPRequestHandler, stream: Stream) -> None:
        h.close_connection = True
        h.send_response(stream.status)
        for name, value in {"Connection": "close", **stream.headers}.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.flush()
        deadline = time.monotonic() + 30
        for chunk in stream.chunks():
            if self.stopping.is_set() or time.monotonic() > deadline:
                return
            h.wfile.write(chunk)
            h.wfile.flush()
            if stream.interval:
                time.sleep(stream.interval)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer().start()
    try:
        yield srv
    finally:
        srv.stop()


def feed_reply(body: bytes | str, content_type: str = "application/rss+xml; charset=utf-8", *,
               etag: str | None = None, last_modified: str | None = None,
               headers: dict[str, str] | None = None) -> Handler:
    """A handler serving a body, answering conditional requests with 304 like a real server."""
    data = body.encode("utf-8") if isinstance(body, str) else body

    def handle(req: Request) -> Reply:
        validators = {}
        if etag:
            validators["ETag"] = etag
        if last_modified:
            validators["Last-Modified"] = last_modified
        if (etag and req.headers.get("if-none-match") == etag) or (
                last_modified and not etag and req.headers.get("if-modified-since") == last_modified):
            return Reply(304, b"", validators)
        return Reply(200, data, {"Content-Type": content_type, **validators, **(headers or {})})

    return handle


class MutableFeed:
    """A feed whose body a test changes between fetches (no validators: always 200)."""

    def __init__(self, body: bytes | str = b"", content_type: str = "application/rss+xml; charset=utf-8"):
        self.body = body.encode() if isinstance(body, str) else body
        self.content_type = content_type

    def set(self, body: bytes | str) -> None:
        self.body = body.encode() if isinstance(body, str) else body

    def __call__(self, req: Request) -> Reply:
        return Reply(200, self.body, {"Content-Type": self.content_type})


# -- feeds built in tests --------------------------------------------------------------------------


def rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


PODCAST_NS = 'xmlns:podcast="https://podcastindex.org/namespace/1.0"'


def rss(items: Iterable[dict[str, Any]], *, title: str = "Test Feed",
        link: str = "https://feed.example/", namespaces: str = "") -> str:
    """An RSS 2.0 document. Item keys: guid, permalink (bool), link, title, description,
    content (content:encoded), published (datetime), extra (raw XML)."""
    parts = []
    for it in items:
        bits = [f"<title>{escape(it.get('title', ''))}</title>"]
        if it.get("link"):
            bits.append(f"<link>{escape(it['link'])}</link>")
        if it.get("guid"):
            perma = "true" if it.get("permalink") else "false"
            bits.append(f'<guid isPermaLink="{perma}">{escape(it["guid"])}</guid>')
        if it.get("published"):
            bits.append(f"<pubDate>{rfc822(it['published'])}</pubDate>")
        if "description" in it:
            bits.append(f"<description>{escape(it['description'])}</description>")
        if it.get("content"):
            bits.append(f"<content:encoded><![CDATA[{it['content']}]]></content:encoded>")
        bits.append(it.get("extra", ""))
        parts.append("<item>" + "".join(bits) + "</item>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" {namespaces}>'
            f"<channel><title>{escape(title)}</title><link>{escape(link)}</link>"
            f"<description>test</description>{''.join(parts)}</channel></rss>")


# -- fetching --------------------------------------------------------------------------------------


def fast_settings(**overrides: Any) -> FetchSettings:
    """Small timeouts and backoff so hostile cases end in about a second."""
    values: dict[str, Any] = dict(connect_timeout=1.0, read_timeout=2.0, total_timeout=2.0, retries=2,
                                  backoff=0.01, max_retry_after=5.0, fulltext="never")
    values.update(overrides)
    return FetchSettings(**values)


async def _no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"no DNS in tests ({host})")


def fake_resolver(table: dict[str, list[str]]) -> Callable[[str, int], Any]:
    """A resolver for the SSRF guard: names in ``table`` resolve as given; others fail."""

    async def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return list(table[host])
        raise OSError(f"unknown host {host} (test resolver)")

    return resolve


def get(url: str, settings: FetchSettings | None = None, *, policy: str = "loopback",
        resolver: Callable[[str, int], Any] = _no_dns, **kwargs: Any) -> FetchedBody:
    """One ``HttpClient.get`` against the loopback server, synchronously."""

    async def run() -> FetchedBody:
        async with HttpClient(settings or fast_settings(), policy=policy, resolver=resolver) as client:
            return await client.get(url, **kwargs)

    return asyncio.run(run())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "lll.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    s = Store(db_url(db_path))
    try:
        yield s
    finally:
        s.close()


def fetch_all(store: Store, settings: FetchSettings | None = None, *, policy: str = "loopback",
              resolver: Callable[[str, int], Any] = _no_dns, at: datetime | None = None) -> FetchReport:
    """One ``FetchRun`` over every source of the store (at a frozen time when given)."""
    run = FetchRun(store, settings or fast_settings(), policy=policy, resolver=resolver)
    if at is None:
        return run.run()
    with clock.frozen_at(at):
        return run.run()


def source_by_url(store: Store, url: str) -> Source:
    return next(s for s in store.sources() if s.url == url)


# -- reading the database, through SQLAlchemy on either store -------------------------------------


class Row(tuple):  # type: ignore[type-arg]
    """A result row read by position, by column name (``row["title"]``) or as a tuple."""

    names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> tuple[str, ...]:
        return self.names


def engine_for(db: Path) -> sa.Engine:
    """An engine on the database of ``db`` (see ``db_url``), kept until the test ends."""
    url = db_url(db)
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def _bind(sql: str, params: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
    """sqlite3's ``?`` placeholders as SQLAlchemy's named ones."""
    names = iter(range(len(params)))
    return re.sub(r"\?", lambda _m: f":p{next(names)}", sql), {f"p{i}": v for i, v in enumerate(params)}


def query(db: Path, sql: str, *params: Any) -> list[Row]:
    text, bound = _bind(sql, params)
    with engine_for(db).connect() as conn:
        result = conn.execute(sa.text(text), bound)
        names = tuple(result.keys())
        rows = []
        for r in result:
            row = Row(r)
            row.names = names
            rows.append(row)
        return rows


def execute(db: Path, sql: str, *params: Any) -> int:
    """One write statement in its own transaction; the number of rows it touched."""
    text, bound = _bind(sql, params)
    with engine_for(db).begin() as conn:
        return int(conn.execute(sa.text(text), bound).rowcount)


def scalar(db: Path, sql: str, *params: Any) -> Any:
    return query(db, sql, *params)[0][0]


def intact(db: Path) -> bool:
    """The database is whole: SQLite's integrity and foreign-key checks pass; on PostgreSQL
    (which checks keys on every write) every table of the schema reads back."""
    if not ON_POSTGRES:
        return bool(scalar(db, "PRAGMA integrity_check") == "ok" and not query(db, "PRAGMA foreign_key_check"))
    from lll.store.schema import metadata

    return all(scalar(db, f"SELECT count(*) FROM {table}") >= 0 for table in metadata.tables)


class WriteCounter:
    """Triggers that log every write to ``items`` and ``item_revisions``, so a test can assert
    that a pass rewrote zero rows (not merely that the counts did not change). SQLite's
    triggers, or PostgreSQL's (one PL/pgSQL function)."""

    TABLES = ("items", "item_revisions")

    def __init__(self, db: Path) -> None:
        self.db = db
        statements = ["CREATE TABLE IF NOT EXISTS test_writes (op TEXT NOT NULL, tbl TEXT NOT NULL)"]
        if ON_POSTGRES:
            statements.append(
                "CREATE OR REPLACE FUNCTION test_log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "INSERT INTO test_writes VALUES (lower(TG_OP), TG_TABLE_NAME); RETURN NULL; END $$")
        for table in self.TABLES:
            for op in ("INSERT", "UPDATE", "DELETE"):
                if ON_POSTGRES:
                    statements.append(
                        f"CREATE OR REPLACE TRIGGER test_{table}_{op.lower()} AFTER {op} ON {table} "
                        "FOR EACH ROW EXECUTE FUNCTION test_log_write()")
                else:
                    statements.append(
                        f"CREATE TRIGGER IF NOT EXISTS test_{table}_{op.lower()} AFTER {op} ON {table} "
                        f"BEGIN INSERT INTO test_writes VALUES ('{op.lower()}', '{table}'); END")
        with engine_for(db).begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((r["op"], r["tbl"]) for r in query(self.db, "SELECT op, tbl FROM test_writes"))

    def total(self) -> int:
        return sum(self.counts().values())

    def reset(self) -> None:
        execute(self.db, "DELETE FROM test_writes")


# -- the CLI ---------------------------------------------------------------------------------------


def run_cli(*args: str, workspace: Path | None = None, ok: bool | None = True,
            env: dict[str, str] | None = None) -> Result:
    """``lll ARGS`` through click's runner. ``ok=True`` asserts exit 0 (showing the output if not)."""
    argv = (["--workspace", str(workspace)] if workspace else []) + list(args)
    result = CliRunner().invoke(cli, argv, env=env, catch_exceptions=True)
    if ok is True:
        assert result.exit_code == 0, (
            f"lll {' '.join(args)} exited {result.exit_code}\nstdout: {result.stdout}\n"
            f"stderr: {result.stderr}\nexception: {result.exception!r}")
    return result


FAST_TOML = """
[fetch]
connect_timeout = 1.0
read_timeout = 2.0
total_timeout = 1.5
retries = 1
backoff = 0.01
fulltext = "never"
"""


@pytest.fixture
def workspace(_isolated: Path) -> Path:
    """An initialised workspace (``lll init``) whose ``lll.toml`` sets small fetch timeouts."""
    run_cli("init", "--name", "Test Letters")
    assert (_isolated / "lll.toml").is_file() and (ON_POSTGRES or (_isolated / "lll.db").is_file())
    (_isolated / "lll.toml").write_text('[newsletter]\nname = "Test Letters"\n' + FAST_TOML, encoding="utf-8")
    return _isolated
