"""Many workers, one day's job: the fetches and the draft as durable workflows (DBOS Transact)
in the workspace's database. ``pip install -e ".[workers]"``; see ``lll.workers.engine``."""

from lll.workers.engine import DayPlan, Worker, connected, day_status, enqueue_day, enqueue_fetches

__all__ = ["DayPlan", "Worker", "connected", "day_status", "enqueue_day", "enqueue_fetches"]
