"""Tokens per issue: LLL's two-tier plan (cheap fact cards + one strong compose) against a
one-prompt baseline (every item of the day's window in one prompt), on a week of the
replay corpus, with a scripted loopback model that counts tokens. Then a re-draft, which
must make no call at all.

    python bench/llm_cost.py                       # 2026-05-01 .. 2026-05-07
    python bench/llm_cost.py --from 2026-05-08 --to 2026-05-14 --workspace /tmp/llm-bench

The scripted model (``tests/fakes``) answers LLL's prompts from their input alone and
charges tokens with one fake tokenizer (words and punctuation marks) for both plans, so
the ratio compares like with like. The baseline is the compose prompt's own instructions
(the same voice and rules) with every item of the day's window in full instead of the plan
and the cards. Both plans are charged the same output for the issue itself: the baseline's
output is the tokens the two-tier compose call wrote that day (an issue is the same length
whoever plans it). The target is a ratio of at most 0.5. Day one of a replay takes in every
feed's whole archive; the days after it are what a daily issue looks like, so both are shown.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakes.openai_server import OpenAIServer, write_models_yaml  # noqa: E402
from fakes.scripted import Call  # noqa: E402

from lll.backtest import DayRecord, run_backtest  # noqa: E402
from lll.clock import frozen_at, parse_instant  # noqa: E402
from lll.config import DEFAULT_PRICES  # noqa: E402
from lll.draft import Drafter, end_of_day  # noqa: E402
from lll.llm.models import RetryPolicy, open_model  # noqa: E402
from lll.llm.prompts import load_prompt  # noqa: E402
from lll.newsletter import Newsletter  # noqa: E402
from lll.workspace import Workspace  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "replay-2026-05"
MODELS_TOML = """
[models]
cheap = "scripted-cheap"
strong = "scripted-strong"
budget_usd = 100.0
timeout = 30.0

[models.prices]                    # list prices of gpt-4o-mini and claude-sonnet-4.5, for the dollar column
"scripted-cheap" = { input = 0.15, output = 0.60 }
"scripted-strong" = { input = 3.0, output = 15.0 }
"""


BASELINE_PLAN = ("\nThere is no plan and there are no fact cards: choose the lede, 2 to 5 themed sections and "
                 "the clocks yourself from the items below, and use only what they say.")


def baseline_prompt(letter: Newsletter, day: str) -> tuple[str, str, int]:
    """The one prompt: the same editor's instructions as the compose prompt, with every item of
    the day's window in full instead of the plan and the cards. (system, user, items)."""
    with letter.store.engine.connect() as conn:
        issue = conn.exec_driver_sql("SELECT window_start, window_end FROM issues WHERE date = ?", (day,)).one()
    rows = letter.store.items_since(parse_instant(issue[0]), parse_instant(issue[1]))
    items = [{"source": r.source_name, "title": r.title, "url": r.url, "published": r.published_at,
              "text": r.text} for r in rows]
    compose = load_prompt("compose")
    _system, user = compose.render({"task": "one_prompt", "date": day, "newsletter": letter.config.newsletter.name,
                                    "items": items})
    return compose.system + BASELINE_PLAN, user, len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--from", dest="first", default="2026-05-01")
    parser.add_argument("--to", dest="last", default="2026-05-07")
    parser.add_argument("--workspace", type=Path, default=None)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="lll-llm-bench-"))
    root = args.workspace or scratch / "ws"
    os.environ["LLM_USER_PATH"] = str(scratch / "llm")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        os.environ.pop(name, None)
    ws = Workspace.init(root, "Large Language Letters")
    ws.config_path.write_text(ws.config_path.read_text(encoding="utf-8") + MODELS_TOML, encoding="utf-8")

    with OpenAIServer() as server:
        write_models_yaml(scratch / "llm", server.base, ["scripted-cheap", "scripted-strong"])
        per_day: dict[str, list[Call]] = {}
        seen = 0
        started = time.perf_counter()

        def on_day(record: DayRecord) -> None:
            nonlocal seen
            per_day[record.day] = server.model.calls[seen:]
            seen = len(server.model.calls)
            print(f"  {record.draft.summary_line()}", flush=True)

        print(f"Replaying {args.first} .. {args.last} of {args.data} into {root} (two-tier writer)")
        report = run_backtest(args.data, args.first, args.last, root, on_day=on_day)
        replay_seconds = time.perf_counter() - started

        strong = open_model("scripted-strong", RetryPolicy(timeout=60, retries=0))
        rows = []
        with Newsletter.open(root) as letter:
            for record in report.days:
                calls = per_day.get(record.day, [])
                two_in = sum(c.tokens_in for c in calls)
                two_out = sum(c.tokens_out for c in calls)
                compose_out = sum(c.tokens_out for c in calls if c.task == "compose")
                system, user, n_items = baseline_prompt(letter, record.day)
                reply = strong.complete(system, user)
                base_in, base_out = reply.tokens_in, compose_out
                cheap_usd = sum(c.tokens_in * 0.15 + c.tokens_out * 0.60 for c in calls if c.task == "fact_card") / 1e6
                strong_usd = sum(c.tokens_in * 3.0 + c.tokens_out * 15.0 for c in calls if c.task != "fact_card") / 1e6
                base_usd = (base_in * 3.0 + base_out * 15.0) / 1e6
                rows.append((record.day, n_items, len(record.draft.plan.told), len(calls), two_in, two_out,
                             base_in, base_out, cheap_usd + strong_usd, base_usd, record.draft.run.writer
                             if record.draft.run else "offline"))

            # Drafting the last day again: nothing new, so no call.
            last = report.days[-1].day
            before = len(server.model.calls)
            with frozen_at(end_of_day(last)):
                again = Drafter(letter).draft(last)
            redraft_calls = len(server.model.calls) - before

    print()
    head = ("day", "items", "told", "calls", "2-tier in", "2-tier out", "2-tier total", "1-prompt in",
            "1-prompt out", "1-prompt total", "ratio", "writer")
    print(" | ".join(head))
    for day, n_items, told, n_calls, ti, to, bi, bo, _tu, _bu, writer in rows:
        print(f"{day} | {n_items} | {told} | {n_calls} | {ti:,} | {to:,} | {ti + to:,} | {bi:,} | {bo:,} | "
              f"{bi + bo:,} | {(ti + to) / max(1, bi + bo):.2f} | {writer}")
    n = max(1, len(rows))
    two = sum(r[4] + r[5] for r in rows)
    base = sum(r[6] + r[7] for r in rows)
    two_usd, base_usd = sum(r[8] for r in rows), sum(r[9] for r in rows)
    ratio = two / max(1, base)
    print()
    print(f"tokens per issue: two-tier {two / n:,.0f}, one prompt {base / n:,.0f}; "
          f"ratio {ratio:.2f}x (target <= 0.5x: {'met' if ratio <= 0.5 else 'NOT met'})")
    later = rows[1:]
    if later:
        two_later = sum(r[4] + r[5] for r in later)
        base_later = sum(r[6] + r[7] for r in later)
        usd_later = sum(r[8] for r in later) / max(sum(r[9] for r in later), 1e-12)
        print(f"days after the first (no archive backlog), per issue: two-tier {two_later / len(later):,.0f}, "
              f"one prompt {base_later / len(later):,.0f}; ratio {two_later / max(1, base_later):.2f}x in tokens, "
              f"{usd_later:.2f}x in dollars")
    print(f"dollars per issue at gpt-4o-mini (cards) + claude-sonnet-4.5 (compose, repair) list prices: "
          f"two-tier ${two_usd / n:.4f}, one prompt on claude-sonnet-4.5 ${base_usd / n:.4f} "
          f"({two_usd / max(base_usd, 1e-12):.2f}x)")
    print(f"re-draft of {last}: {redraft_calls} model calls ({again.run.cost_line() if again.run else 'offline'})")
    print(f"replay of {len(rows)} days with the two-tier writer: {replay_seconds:.1f} s")
    assert "claude-sonnet-4-5" in DEFAULT_PRICES  # the dollar column uses these list prices


if __name__ == "__main__":
    main()
