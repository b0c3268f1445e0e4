"""The ``lll`` command. Thin: parse arguments, call the library, show results,
turn ``LLLError`` into one clear line on stderr and an exit status (cli.md)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lll import __version__
from lll.errors import LLLError
from lll.storage import check_database, set_aside, storage_error
from lll.workspace import Workspace, resolve_root

if TYPE_CHECKING:  # each command imports what it needs: `lll --help` needs none of it
    from lll.fetch.run import FetchReport, SourceOutcome
    from lll.newsletter import Newsletter


def _debug() -> bool:
    return os.environ.get("LLL_DEBUG", "") not in ("", "0")


class LLLGroup(click.Group):
    """Translates library errors into one line on stderr and the documented exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LLLError as exc:
            if _debug():
                raise
            fault = _storage_fault(ctx, exc)
            click.echo(f"Error: {fault or exc}", err=True)
            ctx.exit((fault or exc).exit_code)
        except Exception as exc:  # a corrupt database, a full disk, a read-only workspace: one line
            fault = _storage_fault(ctx, exc)
            gone = _database_gone(exc) if fault is None else None
            if (fault is None and gone is None) or _debug():
                raise
            click.echo(f"Error: {fault or gone}", err=True)
            ctx.exit(fault.exit_code if fault is not None else 1)


def _storage_fault(ctx: click.Context, exc: BaseException) -> LLLError | None:
    root = resolve_root((ctx.obj or {}).get("workspace"))
    try:
        url = Workspace(root).database_url
    except LLLError:
        url = f"sqlite:///{root / 'lll.db'}"
    return storage_error(exc, root, url)


def _database_gone(exc: BaseException) -> str | None:
    """The one line for a database server that went away mid-command (None for anything else).
    SQLAlchemy is looked up, not imported: a command that never opened a database has none."""
    errors = sys.modules.get("sqlalchemy.exc")
    if errors is None or not isinstance(exc, (errors.OperationalError, errors.InterfaceError)):
        return None
    from lll.store.dialect import scrub

    orig = getattr(exc, "orig", None)
    first = str(orig if orig is not None else exc).strip().splitlines() or [type(exc).__name__]
    return (f"the database stopped answering ({scrub(first[0])}); the write in progress was rolled back: "
            "check that it is running, then run the command again")


@click.group(cls=LLLGroup)
@click.version_option(__version__, prog_name="lll")
@click.option("--workspace", "workspace", type=click.Path(file_okay=False, path_type=Path),
              help="Workspace folder (default: $LLL_WORKSPACE, else the current folder).")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """LLL — Large Language Letters: drafts a daily newsletter from the sources you follow,
    checks every claim against them, and publishes the issue as a draft for review."""
    ctx.obj = {"workspace": workspace}


def _root(ctx: click.Context) -> Path:
    return resolve_root(ctx.obj.get("workspace"))


def _say_waiting(message: str) -> None:
    """On a terminal, say why a command is not moving yet (another one holds the workspace)."""
    if sys.stderr.isatty():
        click.echo(f"{message[:1].upper()}{message[1:]} …", err=True)


@contextmanager
def _open(ctx: click.Context) -> Iterator[Newsletter]:
    from lll.newsletter import Newsletter

    with Newsletter.open(_root(ctx)) as letter:
        yield letter


@cli.command()
@click.option("--name", default="Large Language Letters", show_default=True, help="The newsletter's name.")
@click.option("--force", is_flag=True, help="Start an empty database when it is missing, empty or corrupt "
              "(a damaged file is kept beside it).")
@click.pass_context
def init(ctx: click.Context, name: str, force: bool) -> None:
    """Create the workspace (idempotent)."""
    from lll.newsletter import Newsletter
    from lll.workspace import Workspace

    root = _root(ctx)
    existed = (root / "lll.toml").exists()
    ws = Workspace.init(root, name)
    if force:
        kept = set_aside(ws.database_url)
        if kept is not None:
            click.echo(f"Kept the unreadable database as {kept}", err=True)
    else:
        check_database(root, ws.database_url)
    Newsletter(ws).close()  # creates and migrates the database
    click.echo(f"{'Workspace already set up' if existed else 'Created workspace'} in {root}")


# -- sources ---------------------------------------------------------------------------------------


@cli.group()
def sources() -> None:
    """Add, import, export and list sources."""


@sources.command("add")
@click.argument("url")
@click.option("--name", default="", help='Display name used in prose, e.g. "Berkeley RDI\'s Agentic AI Weekly".')
@click.option("--weight", type=float, default=None, help="Source weight for ranking (default 1.0).")
@click.option("--kind", default="", help="feed, newsletter, podcast, arxiv, hn or github (default: detected).")
@click.option("--fulltext", type=click.Choice(["auto", "always", "never"]), default=None,
              help="Fetch article pages for summary-only items.")
@click.pass_context
def sources_add(ctx: click.Context, url: str, name: str, weight: float | None, kind: str,
                fulltext: str | None) -> None:
    """Add a source (or update its name, weight, kind)."""
    with _open(ctx) as letter:
        source, created = letter.add_source(url, name=name, weight=weight, kind=kind, fulltext=fulltext or "")
    click.echo(f"{'Added' if created else 'Updated'} source {source.id}: {source.name} <{source.url}>")


@sources.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def sources_import(ctx: click.Context, file: Path) -> None:
    """Import sources from an OPML file."""
    with _open(ctx) as letter:
        added, updated, skipped = letter.import_opml(file)
    click.echo(f"Imported {file}: {added} added, {updated} already known, {len(skipped)} skipped")
    for note in skipped:
        click.echo(f"  skipped: {note}", err=True)


@sources.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.pass_context
def sources_export(ctx: click.Context, output: Path | None) -> None:
    """Export the sources as OPML (stdout by default)."""
    with _open(ctx) as letter:
        text = letter.export_opml()
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@sources.command("remove")
@click.argument("url")
@click.pass_context
def sources_remove(ctx: click.Context, url: str) -> None:
    """Remove a source and its items (those that earlier issues cite stay, so those issues still verify)."""
    with _open(ctx) as letter:
        removed = letter.remove_source(url)
        if removed is None:
            raise LLLError(f"no source with URL {url}; see `lll sources list`")
    kept = f"; kept {removed.items_kept} that earlier issues cite" if removed.items_kept else ""
    click.echo(f"Removed {removed.name} <{url}>: {removed.items_removed} items deleted{kept}")


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def sources_list(ctx: click.Context, as_json: bool) -> None:
    """Sources with their health: last fetch, status, items, errors."""
    with _open(ctx) as letter:
        rows = letter.health()
    if as_json:
        click.echo(json.dumps([{
            "id": h.source.id, "url": h.source.url, "name": h.source.name, "kind": h.source.kind,
            "detected_kind": h.detected_kind, "weight": h.source.weight, "items": h.items,
            "last_fetch_at": h.last_fetch_at, "last_ok_at": h.last_ok_at, "last_status": h.last_status,
            "last_http_status": h.last_http_status, "last_error": h.last_error,
            "consecutive_failures": h.consecutive_failures} for h in rows], indent=2))
        return
    table = [["id", "name", "kind", "weight", "items", "last fetch", "status", "fails", "error"]]
    for h in rows:
        kind = h.source.kind if h.source.kind != "auto" else (h.detected_kind or "auto")
        table.append([str(h.source.id), h.source.name, kind, f"{h.source.weight:g}", str(h.items),
                      h.last_fetch_at or "never", h.last_status, str(h.consecutive_failures),
                      " ".join((h.last_error or "").split())])
    click.echo("\n".join(_columns(table, caps=(8, 40, 10, 6, 7, 20, 12, 5, 60))))
    click.echo(f"{len(rows)} sources")


def _columns(table: list[list[str]], caps: tuple[int, ...]) -> list[str]:
    """Plain aligned columns (the first row is the header), each cut to its cap with "…". Plain text
    on purpose: a rich table of 10,000 sources took 20 s to lay out, this takes a fraction of one."""
    widths = [min(cap, max(len(row[n]) for row in table)) for n, cap in enumerate(caps)]

    def cell(text: str, width: int) -> str:
        return (text if len(text) <= width else text[:width - 1] + "…").ljust(width)

    lines = ["  ".join(cell(text, width) for text, width in zip(row, widths, strict=True)).rstrip()
             for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


# -- fetch -----------------------------------------------------------------------------------------


@contextmanager
def _progress(total: int) -> Iterator[Callable[[SourceOutcome], None] | None]:
    """A rich progress bar on a terminal; nothing when stderr is not one."""
    if not sys.stderr.isatty() or total == 0:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("fetching"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[last]}"), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("fetch", total=total, last="")

        def advance(outcome: SourceOutcome) -> None:
            bar.update(task, advance=1, last=f"{outcome.source.name[:30]}: {outcome.status}")

        yield advance


def _print_report(report: FetchReport) -> None:
    for outcome in report.failed:
        click.echo(f"  failed: {outcome.source.name}: {outcome.error}", err=True)
    click.echo(report.summary_line())


@cli.command()
@click.pass_context
def fetch(ctx: click.Context) -> None:
    """Fetch every source once, politely and concurrently; safe to rerun."""
    with _open(ctx) as letter, letter.lock("fetch", on_wait=_say_waiting):
        with _progress(len(letter.store.sources())) as progress:
            report = letter.fetch(progress=progress)
    _print_report(report)


# -- draft, verify, clocks ------------------------------------------------------------------------


def _check_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """--date is checked before any work (a fetch of every source, say), as cli.md asks."""
    if value is None:
        return None
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        raise LLLError(f"--date {value!r}: use YYYY-MM-DD") from None
    if len(value) != 10:
        raise LLLError(f"--date {value!r}: use YYYY-MM-DD")
    return value


def _today() -> str:
    from lll.clock import now

    return now().date().isoformat()


@cli.command()
@click.option("--date", "day", default=None, callback=_check_date,
              help="Issue date YYYY-MM-DD (default: today in LLL_NOW).")
@click.option("--model", default="", help="Write with this model (both tiers), e.g. gpt-4o-mini; see `llm models`.")
@click.option("--cheap", default="", help="Model for the fact cards (one cached call per story).")
@click.option("--strong", default="", help="Model that composes the issue from the plan and the cards.")
@click.option("--budget-usd", type=click.FloatRange(min=0), default=None,
              help="Spend at most this much on this draft (default: [models] budget_usd); "
                   "the offline writer finishes the issue at the cap.")
@click.option("--offline", is_flag=True, help="Use the offline writer even when [models] is set.")
@click.option("--force", is_flag=True,
              help="Draft over an issues/DATE.md edited by hand (it is kept as DATE.md.bak-TIME).")
@click.pass_context
def draft(ctx: click.Context, day: str | None, model: str, cheap: str, strong: str, budget_usd: float | None,
          offline: bool, force: bool) -> None:
    """Draft the issue for a date from what is new since the previous issue. An issues/DATE.md
    edited by hand since LLL wrote it is kept (exit 1) unless --force."""
    from lll.draft import Drafter
    from lll.llm.setup import ModelChoice

    choice = ModelChoice(model=model, cheap=cheap, strong=strong, budget_usd=budget_usd, offline=offline)
    with _open(ctx) as letter, letter.lock("draft", on_wait=_say_waiting):
        result = Drafter(letter, models=choice).draft(day or _today(), force=force)
    if result.backup is not None:
        click.echo(f"Kept the hand-edited version as {result.backup}")
    click.echo(f"Wrote {result.markdown_path}")
    click.echo(f"Wrote {result.json_path}")
    click.echo(result.summary_line())
    if result.hint:
        click.echo(f"Note: {result.hint}", err=True)
    for sentence in result.draft.dropped:
        click.echo(f"  dropped (unsupported): {sentence[:140]}", err=True)
    for note in result.run.notes if result.run else ():
        click.echo(f"  model: {note[:200]}", err=True)


@cli.command()
@click.option("--date", "day", default=None, callback=_check_date,
              help="Issue date YYYY-MM-DD (default: today in LLL_NOW).")
@click.option("--enqueue", is_flag=True, help="Put the day in the queues for `lll worker` processes instead.")
@click.option("--wait", is_flag=True, help="With --enqueue: wait until the workers have finished the day.")
@click.pass_context
def run(ctx: click.Context, day: str | None, enqueue: bool, wait: bool) -> None:
    """The daily job: fetch, then draft, then publish. Safe to run twice for a date (the draft is
    replaced, not doubled); an issues/DATE.md edited by hand is kept, not drafted over (exit 1).
    With --enqueue, workers do it (fetches in batches of one host's sources, queued by host; one
    draft per date)."""
    from lll.draft import Drafter

    if enqueue:
        _enqueue_day(ctx, day or _today(), wait)
        return
    with _open(ctx) as letter, letter.lock("run", wait=False):
        report = letter.fetch()
        _print_report(report)
        result = Drafter(letter).draft(day or _today())
        click.echo(f"Wrote {result.markdown_path}")
        click.echo(f"Wrote {result.json_path}")
        click.echo(result.summary_line())
        if result.hint:
            click.echo(f"Note: {result.hint}", err=True)
        outcomes = _publish_configured(letter, result.day)
    if not all([_show_outcome(outcome) for outcome in outcomes]):
        ctx.exit(1)


def _workers() -> Any:
    try:
        import lll.workers as workers
    except ImportError as exc:
        raise LLLError(f"workers need DBOS ({exc.name} is missing): pip install -e \".[workers]\"") from exc
    return workers


def _enqueue_day(ctx: click.Context, day: str, wait: bool) -> None:
    import time
    from datetime import date

    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise click.BadParameter(f"{day!r}: use YYYY-MM-DD", param_hint="--date") from exc
    workers = _workers()
    with _open(ctx) as letter, workers.connected(letter):
        plan = workers.enqueue_day(letter, day)
        click.echo(f"Enqueued {day}: {plan.sources} fetches in {len(plan.fetches)} batches, "
                   f"then the draft ({plan.workflow_id})")
        status = workers.day_status(day)
        while wait and status in ("ENQUEUED", "PENDING"):
            time.sleep(0.5)
            status = workers.day_status(day)
    if wait:
        click.echo(f"{day}: {status.lower()}")
        if status != "SUCCESS":
            ctx.exit(1)


@cli.command()
@click.option("--until-idle", type=float, default=None, metavar="SECONDS",
              help="Stop once no work has been waiting for this long (default: run until stopped).")
@click.option("--id", "executor_id", default=None, help="This worker's name in the queues (default: host-pid-random).")
@click.pass_context
def worker(ctx: click.Context, until_idle: float | None, executor_id: str | None) -> None:
    """Run the queued fetches and drafts (`lll run --enqueue` queues a day). Start as many as you
    like, on one machine or several sharing a PostgreSQL store; stop with Ctrl-C or SIGTERM."""
    import signal

    workers = _workers()
    with _open(ctx) as letter:
        runner = workers.Worker(letter, executor_id=executor_id)
        signal.signal(signal.SIGTERM, lambda *_: runner.stop.set())
        click.echo(f"worker {runner.executor_id} started", err=True)
        try:
            runner.run(until_idle=until_idle)
        except KeyboardInterrupt:
            runner.stop.set()
        click.echo(f"worker {runner.executor_id} stopped", err=True)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def verify(ctx: click.Context, path: Path) -> None:
    """Re-check a draft (possibly edited by hand) against its sources; exit 1 on unsupported claims."""
    from lll.draft import Drafter

    if not path.exists():
        raise LLLError(f"{path}: no such file")
    with _open(ctx) as letter:
        report = Drafter(letter).verify_file(path)
    if report.ok:
        click.echo(f"{path}: verified ({report.claims_checked} claims in {report.paragraphs} paragraphs)")
        return
    click.echo(f"{path}: {len(report.failures)} unsupported claim(s) or structure problem(s):", err=True)
    for line in report.lines():
        click.echo(f"  {line}", err=True)
    ctx.exit(1)


@cli.command()
@click.option("--all", "show_all", is_flag=True, help="Include clocks already revisited.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def clocks(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """Forward-looking dates found in the sources, with their due dates."""
    from lll.memory import Records

    with _open(ctx) as letter:
        rows = Records(letter.store).clocks(None if show_all else "open")
    if as_json:
        click.echo(json.dumps([{"id": r.id, "due": r.due, "phrase": r.phrase, "status": r.status,
                                "opened_in": r.opened_in, "revisited_in": r.revisited_in, "source": r.source,
                                "sentence": r.sentence} for r in rows], indent=2))
        return
    for r in rows:
        click.echo(f"{r.due}  {r.status:<9} {r.source}: {r.sentence[:110]}  (opened {r.opened_in}; “{r.phrase}”)")
    click.echo(f"{len(rows)} clock{'' if len(rows) == 1 else 's'}")


# -- publish ---------------------------------------------------------------------------------------


def _print_receipt(receipt: Any) -> None:
    click.echo(receipt.summary_line())
    for line in receipt.details:
        click.echo(f"  {line}", err=not receipt.ok)


def _publish_configured(letter: Newsletter, day: str) -> list[Any]:
    """Publish to the targets of ``[publish] targets``: receipts and errors, one per target."""
    if not letter.config.publish.targets:
        return []
    from lll.publish import Publishing

    return list(Publishing(letter).publish_all(day, letter.config.publish.targets))


def _show_outcome(outcome: Any) -> bool:
    """Print a receipt or an error; True when the publish went well."""
    if isinstance(outcome, LLLError):
        click.echo(f"Error: {outcome}", err=True)
        return False
    _print_receipt(outcome)
    return bool(outcome.ok)


@cli.command()
@click.argument("day", metavar="DATE")
@click.option("--to", "target", required=True, metavar="TARGET",
              help="devto, email, buttondown, ghost or archive (or a plugin's target).")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and record nothing.")
@click.option("--public", is_flag=True, help="devto only: make the article public instead of a draft.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable receipt.")
@click.pass_context
def publish(ctx: click.Context, day: str, target: str, dry_run: bool, public: bool, as_json: bool) -> None:
    """Publish the verified issue of DATE to TARGET, as a draft; rerunning never duplicates."""
    from lll.publish import Publishing

    with _open(ctx) as letter, letter.lock("publish", on_wait=_say_waiting):
        receipt = Publishing(letter).publish(day, target, dry_run=dry_run, public=public)
    if as_json:
        click.echo(json.dumps({"target": receipt.target, "date": receipt.date, "action": receipt.action,
                               "state": receipt.state, "remote_id": receipt.remote_id, "url": receipt.url,
                               "content_hash": receipt.content_hash, "message": receipt.message,
                               "dry_run": receipt.dry_run, "details": list(receipt.details),
                               **({"ledger_state": receipt.detail.get("ledger_state")} if receipt.dry_run else {})},
                              indent=2))
    else:
        _print_receipt(receipt)
    if not receipt.ok:
        ctx.exit(1)


# -- review ----------------------------------------------------------------------------------------


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--date", "day", default=None, callback=_check_date,
              help="Print the address of this issue's page (YYYY-MM-DD).")
@click.option("--to", "targets", multiple=True, metavar="TARGET",
              help="Where Approve publishes (repeatable; default: [publish] targets in lll.toml).")
@click.pass_context
def serve(ctx: click.Context, port: int, day: str | None, targets: tuple[str, ...]) -> None:
    """The review page on 127.0.0.1: read, check, edit and approve the drafts."""
    from lll.review import create_app
    from lll.review.server import bind, new_token
    from lll.review.server import serve as run_server

    token = new_token()
    with _open(ctx) as letter:
        app = create_app(letter, token=token, targets=targets or None)
        try:
            sock = bind(port)
        except OSError as exc:
            raise LLLError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}): try --port 0") from exc
        path = f"/issues/{day}" if day else "/"
        click.echo(f"Review page: http://127.0.0.1:{sock.getsockname()[1]}{path}?token={token}")
        click.echo("Only this address (with its token) opens it; Ctrl-C stops the server.", err=True)
        run_server(app, sock)


# -- demo ------------------------------------------------------------------------------------------


@cli.command()
@click.option("--workspace", "demo_workspace", type=click.Path(file_okay=False, path_type=Path),
              help="Where to build the demo workspace (default: ./lll-demo). It is reset on every run.")
@click.pass_context
def demo(ctx: click.Context, demo_workspace: Path | None) -> None:
    """The whole pipeline on the bundled sample corpus, served over loopback HTTP; no key needed."""
    from lll.demo.run import DemoDay, run_demo

    chosen = demo_workspace or ctx.obj.get("workspace") or os.environ.get("LLL_WORKSPACE") or "lll-demo"
    root = resolve_root(chosen)

    def show(day: DemoDay) -> None:
        click.echo(f"{day.day}: fetch: {day.fetch.summary_line()}")
        for outcome in day.fetch.failed:
            click.echo(f"  failed: {outcome.source.name}: {outcome.error}", err=True)
        click.echo(f"{day.day}: draft: {day.draft.summary_line(with_day=False)}")
        click.echo(f"  {day.draft.markdown_path}")

    click.echo(f"Demo workspace: {root}")
    days = run_demo(root, on_day=show)
    click.echo(f"Done. The latest issue: {days[-1].draft.markdown_path}")
    click.echo(f"Check it again with: lll --workspace {root} verify {days[-1].draft.markdown_path}")


@cli.command()
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--from", "first", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "last", required=True, help="Last day, YYYY-MM-DD.")
@click.option("--workspace", "bt_workspace", type=click.Path(file_okay=False, path_type=Path),
              help="Where to replay (created if needed; default: the global workspace).")
@click.pass_context
def backtest(ctx: click.Context, corpus: Path, first: str, last: str, bt_workspace: Path | None) -> None:
    """Replay a corpus day by day (fetch, draft) and write a report (Markdown and HTML)."""
    from lll.backtest import DayRecord, run_backtest, totals

    root = resolve_root(bt_workspace) if bt_workspace else _root(ctx)

    def show(day: DayRecord) -> None:
        click.echo(f"{day.draft.summary_line()} [fetch {day.fetch_seconds:.1f} s, draft {day.draft_seconds:.1f} s]")

    report = run_backtest(corpus, first, last, root, on_day=show)
    for key, value in totals(report).items():
        click.echo(f"  {key.replace('_', ' ')}: {value}")
    click.echo(f"Report: {root / 'backtest' / 'report.md'} and {root / 'backtest' / 'report.html'}")
    if report.failures or report.told_new_twice:
        ctx.exit(1)


def main() -> None:
    cli(prog_name="lll")
