"""Secrets never leave the environment: a whole run with API keys set — init, sources import,
fetch, draft, ``lll run`` publishing to DEV (fake), email (fake SMTP with a password) and the
static archive, ``lll publish``, errors, backtest — then every artifact of the run is searched
for them: workspace files, the database (SQLite's file and its WAL; and every table read back
through the store, on either store), the issues, the archive, the
backtest report, everything the processes wrote under HOME, their stdout and stderr (error
messages and a debug traceback included), the requests the feed server received, what the
fake DEV server received besides its ``api-key`` header, and the emails. A second backtest writes
with models (a loopback OpenAI-protocol server, given ``OPENAI_API_KEY``) and publishes to the
archive, so the model call log, the model answer cache, ``llm``'s own folder, the publication
ledger and a report with a model cost are searched too; the model server must have received the
key in its ``Authorization`` header and nowhere else.

The keys are set the way the spec says they are given (``shared/spec/cli.md``: environment
variables; SMTP as a URL). ``lll.toml`` has no setting for a key (``config.py``), so none is put
there.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from conftest import ON_POSTGRES, db_env, query, scalar
from fakes.fixtures import PRICES_TOML
from fakes.forem import FakeForem
from fakes.openai_server import OpenAIServer, write_models_yaml
from fakes.smtp import FakeSmtp

from lll.cli import cli
from lll.demo.run import corpus_root
from lll.demo.server import PLACEHOLDER, CorpusServer

SECRETS = {
    "LLL_DEVTO_API_KEY": "sk-test-SECRET-devto-5f1c9a7e3b2d4c6a8e0f1a3c",
    "LLL_BUTTONDOWN_API_KEY": "sk-test-SECRET-buttondown-9d8c7b6a5f4e3d2c",
    "LLL_GHOST_ADMIN_API_KEY": "6650ab12cd34:sk-test-SECRET-ghost-0a1b2c3d4e5f6071",
    "OPENAI_API_KEY": "sk-test-SECRET-openai-2c4e6a8b0d1f3e5a7c9b",
    "ANTHROPIC_API_KEY": "sk-ant-test-SECRET-anthropic-8e6c4a2b0f9d7e5c",
    "LLL_UNSUBSCRIBE_SECRET": "sk-test-SECRET-unsubscribe-7a6b5c4d3e2f1a0b9c8d",
}
SMTP_PASSWORD = "sk-test-SECRET-smtp-4b3a2918f7e6d5c4"
MODELS_TOML = """
[models]
cheap = "scripted-cheap"
strong = "scripted-strong"
timeout = 5.0
retries = 1
backoff = 0.01
""" + PRICES_TOML
DAYS = ("2026-04-08", "2026-04-09")


def _forms(secret: str) -> dict[str, bytes]:
    """The ways a key could leak: as is, URL-encoded, base64 (as in a Basic auth header), in
    UTF-16 (a Windows log), and its distinctive middle alone (a truncated or masked key)."""
    middle = secret[len(secret) // 4: len(secret) * 3 // 4]
    return {"plain": secret.encode(), "url-encoded": quote(secret, safe="").encode(),
            "base64": base64.b64encode(secret.encode()).rstrip(b"="),
            "base64 user:key": base64.b64encode(f"editor:{secret}".encode())[:-4],
            "utf-16": secret.encode("utf-16-le"), "middle": middle.encode()}


NEEDLES = {f"{name} ({form})": value for name, secret in [*SECRETS.items(), ("SMTP password", SMTP_PASSWORD)]
           for form, value in _forms(secret).items()}


def leaks(blob: bytes) -> list[str]:
    return [name for name, needle in NEEDLES.items() if needle in blob]


class RecordingCorpus(CorpusServer):
    """The demo corpus over loopback, keeping every request line and header the server received."""

    def __init__(self, root: Path, day: str) -> None:
        super().__init__(root, day)
        self.seen: list[bytes] = []
        self._seen_lock = threading.Lock()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._seen_lock:
            self.seen.append(f"{handler.requestline}\n{handler.headers}".encode())
        super().answer(handler)


class Run:
    """``lll`` as a real process with the secrets in its environment; keeps every output."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.outputs: list[tuple[str, bytes]] = []
        home = root / "home"
        home.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LLL_")}
        self.env.update(SECRETS, LLL_ALLOW_PRIVATE="1",
                        HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"),
                        XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
                        TMPDIR=str(root / "tmp"))
        (root / "tmp").mkdir()

    def __call__(self, *args: str, day: str | None = None, expect: int = 0,
                 env: dict[str, str] | None = None) -> None:
        """A real process: its stdout and stderr, with the environment exactly as given."""
        extra = {"LLL_NOW": f"{day}T23:59:59Z"} if day else {}
        extra.update(_store(args))
        done = subprocess.run([sys.executable, "-m", "lll", *args], cwd=self.root, capture_output=True,
                              env={**self.env, **extra, **(env or {})}, timeout=300)
        self.outputs.append((f"lll {' '.join(args)}", done.stdout + b"\n" + done.stderr))
        assert done.returncode == expect, (args, done.returncode, done.stderr.decode()[-2000:])

    def quick(self, *args: str, day: str | None = None, expect: int = 0) -> None:
        """The same in this process (click's runner, the secrets set in os.environ for the call):
        for the light commands, to save process start-ups."""
        extra = {"LLL_NOW": f"{day}T23:59:59Z"} if day else {}
        extra.update(_store(args))
        env = {k: v for k, v in self.env.items() if k.startswith("LLL_") or k in SECRETS}
        result = CliRunner().invoke(cli, list(args), env={**env, **extra}, catch_exceptions=True)
        self.outputs.append((f"lll {' '.join(args)} (in-process)",
                             (result.stdout + "\n" + result.stderr + "\n" + repr(result.exception)).encode()))
        assert result.exit_code == expect, (args, result.exit_code, result.stderr[-2000:])


def _store(args: tuple[str, ...]) -> dict[str, str]:
    """The database of the ``--workspace`` a command names, on the store under test."""
    return db_env(Path(args[args.index("--workspace") + 1])) if "--workspace" in args else {}


def _tables(db: Path) -> list[tuple[str, bytes]]:
    """Every row of every table of a workspace's database, read through the store, as text to search."""
    from lll.store.schema import metadata

    return [(f"table {table.name} of {db.parent.name}",
             repr([tuple(row) for row in query(db, f"SELECT * FROM {table.name}")]).encode())
            for table in metadata.sorted_tables]


PUBLISH_TOML = """
[publish]
targets = ["devto", "email", "archive"]
retries = 0
write_interval = 0.0

[email]
sender = "Secret Letters <letters@example.org>"
recipients = ["ada@example.org", "bob@example.org"]
unsubscribe_url = "https://letters.example.org/unsubscribe/{token}"
"""


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, bytes]]]:
    root = tmp_path_factory.mktemp("secrets")
    ws, bt, bt_llm = root / "ws", root / "backtest-ws", root / "backtest-llm-ws"
    lll = Run(root)
    corpus = corpus_root()
    devto_key = SECRETS["LLL_DEVTO_API_KEY"]
    with RecordingCorpus(corpus, DAYS[0]) as server, FakeForem({devto_key: 1}) as forem, \
            FakeSmtp(login=("editor", SMTP_PASSWORD)) as smtp, OpenAIServer() as models:
        lll.env.update(LLL_DEVTO_BASE_URL=f"{forem.base}/api", LLL_SMTP_URL=smtp.url)
        llm_home = root / "home" / "llm"  # llm's own folder (LLM_USER_PATH): searched like the rest
        yaml = write_models_yaml(llm_home, models.base, ["scripted-cheap", "scripted-strong"])
        yaml.write_text(yaml.read_text(encoding="utf-8").replace(  # the key is OPENAI_API_KEY, as for OpenAI
            "  supports_schema: true\n", "  supports_schema: true\n  api_key_name: openai\n"), encoding="utf-8")
        lll.env.update(LLM_USER_PATH=str(llm_home))
        model_auth: list[str] = []
        model_calls: list[bytes] = []
        answer = models.server.handler

        def recording(path: str, headers: dict[str, str], body: dict) -> object:  # type: ignore[type-arg]
            model_auth.append(headers.get("authorization", ""))
            model_calls.append(path.encode() + json.dumps(body).encode()
                               + repr({k: v for k, v in headers.items() if k != "authorization"}).encode())
            return answer(path, headers, body)

        models.server.handler = recording  # type: ignore[assignment]
        opml = root / "sources.opml"
        opml.write_bytes((corpus / "sources.opml").read_bytes().replace(PLACEHOLDER, server.base_url.encode()))
        lll.quick("--workspace", str(ws), "init", "--name", "Secret Letters")
        (ws / "lll.toml").write_text('[newsletter]\nname = "Secret Letters"\nbase_url = "https://letters.example.org"\n[fetch]\nfulltext = "never"\n'
                                     "retries = 0\ntotal_timeout = 5.0\n" + PUBLISH_TOML, encoding="utf-8")
        lll.quick("--workspace", str(ws), "sources", "import", str(opml))
        lll.quick("--workspace", str(ws), "sources", "add", server.url("/missing.xml"), "--name", "Broken Feed")
        lll("--workspace", str(ws), "fetch", day=DAYS[0])  # one source fails: its error is stored and printed
        lll("--workspace", str(ws), "draft", "--date", DAYS[0], day=DAYS[0])
        lll.quick("--workspace", str(ws), "publish", DAYS[0], "--to", "devto", "--dry-run", day=DAYS[0])
        lll("--workspace", str(ws), "publish", DAYS[0], "--to", "devto", expect=1,
            env={"LLL_DEVTO_API_KEY": SECRETS["OPENAI_API_KEY"]})  # the wrong key: a 401, never echoed
        lll.quick("--workspace", str(ws), "publish", DAYS[0], "--to", "devto", "--json", day=DAYS[0])
        server.day = DAYS[1]
        lll("--workspace", str(ws), "run", "--date", DAYS[1], day=DAYS[1])  # fetch, draft, publish x3
        lll.quick("--workspace", str(ws), "publish", DAYS[1], "--to", "devto", day=DAYS[1])  # unchanged
        lll.quick("--workspace", str(ws), "verify", str(ws / "issues" / f"{DAYS[1]}.md"), day=DAYS[1])
        lll.quick("--workspace", str(ws), "sources", "list", "--json")
        lll.quick("--workspace", str(ws), "clocks", "--all", "--json")
        lll.quick("--workspace", str(ws), "sources", "export", "-o", str(root / "export.opml"))
        # error paths: one-line errors, a wrong key refused by DEV, and a traceback under LLL_DEBUG=1
        lll.quick("--workspace", str(ws), "verify", str(ws / "issues" / "nope.md"), expect=2)
        lll.quick("--workspace", str(root / "nowhere"), "fetch", expect=2)
        lll("--workspace", str(ws), "draft", "--date", "10-04-2026", expect=1, env={"LLL_DEBUG": "1"})
        lll("--workspace", str(bt), "backtest", str(corpus), "--from", DAYS[0], "--to", DAYS[1])
        bt_llm.mkdir()  # a backtest that writes with models and publishes to the archive
        (bt_llm / "lll.toml").write_text('[newsletter]\nname = "Secret Letters"\nbase_url = "https://letters.example.org"\n'
                                         '[fetch]\nfulltext = "never"\n[publish]\ntargets = ["archive"]\n' + MODELS_TOML,
                                         encoding="utf-8")
        lll("--workspace", str(bt_llm), "backtest", str(corpus), "--from", DAYS[0], "--to", DAYS[0])
        requests = server.seen
        dev_calls = list(forem.calls)
        emails = [r.content for r in smtp.received]
        articles = forem.mine()
    assert requests, "the feed server saw no request"
    assert len(articles) == 2 and len(emails) == 2, (len(articles), len(emails))  # the publishing really ran
    assert {c.headers.get("api-key") for c in dev_calls} == {devto_key, SECRETS["OPENAI_API_KEY"]}
    outputs = lll.outputs + [(f"request {i} to the feed server", r) for i, r in enumerate(requests)]
    outputs += [(f"DEV call {c.method} {c.path}", c.path.encode() + repr(c.query).encode() + c.raw + repr(
        {k: v for k, v in c.headers.items() if k != "api-key"}).encode()) for c in dev_calls]
    outputs += [(f"email {i}", e) for i, e in enumerate(emails)]
    assert model_calls and set(model_auth) == {f"Bearer {SECRETS['OPENAI_API_KEY']}"}  # the key was used …
    outputs += [(f"model call {i}", c) for i, c in enumerate(model_calls)]  # … and sent nowhere else
    for workspace in (ws, bt, bt_llm):  # what the databases hold (on PostgreSQL they are no file to search)
        outputs += _tables(workspace / "lll.db")
    return root, outputs


def test_the_run_made_every_kind_of_artifact(artifacts: tuple[Path, list[tuple[str, bytes]]]) -> None:
    """The search below is only worth something if the run really wrote all of these."""
    root, outputs = artifacts
    databases = ("ws/lll.db", "backtest-ws/lll.db") if not ON_POSTGRES else ()
    for path in (*databases, "ws/lll.toml", f"ws/issues/{DAYS[0]}.md", f"ws/issues/{DAYS[1]}.json",
                 f"ws/archive/{DAYS[1]}.html", "ws/archive/feed.xml",
                 "backtest-ws/backtest/report.md", "backtest-ws/backtest/report.html",
                 "export.opml"):
        assert (root / path).is_file(), path
    text = b"\n".join(out for _, out in outputs)
    assert b"Broken Feed" in text and b"404" in text  # the failing source's error was printed
    # the publication ledger is in the searched database
    targets = {r[0] for r in query(root / "ws" / "lll.db", "SELECT target FROM publications")}
    assert {"devto", "email", "archive"} <= targets, targets
    llm_db = root / "backtest-llm-ws" / "lll.db"  # the model call log and the answer cache are too
    assert scalar(llm_db, "SELECT count(*) FROM model_calls WHERE usd > 0") > 0
    assert scalar(llm_db, "SELECT count(*) FROM model_cache") > 0
    assert scalar(llm_db, "SELECT count(*) FROM publications WHERE target = 'archive'") == 1
    report = (root / "backtest-llm-ws" / "backtest" / "report.md").read_text(encoding="utf-8")
    assert re.search(r"^- model cost usd: 0\.0*[1-9]", report, re.M), report[-800:]  # a report with a cost
    assert (root / "backtest-llm-ws" / "archive" / f"{DAYS[0]}.html").is_file()
    assert b"Traceback" in text  # LLL_DEBUG=1 printed a traceback
    assert b"Error: " in text


def test_a_planted_key_would_be_found(tmp_path: Path) -> None:
    """The needles match what they should: every form of a key, and a masked or cut key's middle."""
    key = SECRETS["LLL_DEVTO_API_KEY"]
    assert leaks(f"api-key: {key}".encode()) and leaks(quote(key).encode())
    assert leaks(base64.b64encode(f"editor:{SMTP_PASSWORD}".encode()))
    assert leaks(f"key=sk-...{key[8:-6]}...".encode())
    assert not leaks(b"sk-test-REDACTED")


def test_no_key_appears_in_any_file_of_the_run(artifacts: tuple[Path, list[tuple[str, bytes]]]) -> None:
    root, _ = artifacts
    files = [p for p in root.rglob("*") if p.is_file()]
    assert (ON_POSTGRES or any(p.name == "lll.db" for p in files)) and any(p.suffix == ".html" for p in files)
    found = {str(p.relative_to(root)): hit for p in files if (hit := leaks(p.read_bytes()))}
    assert not found, found


def test_no_key_appears_in_any_output_or_request(artifacts: tuple[Path, list[tuple[str, bytes]]]) -> None:
    _, outputs = artifacts
    found = {what: hit for what, blob in outputs if (hit := leaks(blob))}
    assert not found, found
