"""The publishing plugin contract and its registry.

A plugin is a module (or any object) with one hook::

    def register_publishers(register):
        register("mytarget", MyPublisher)        # MyPublisher(context) -> Publisher

Built-in targets register through exactly this hook (``BUILTIN_PLUGINS``); third-party
packages are found through the ``lll.publishers`` entry point group::

    [project.entry-points."lll.publishers"]
    mytarget = "my_package.lll_plugin"

A factory receives a ``PublishContext`` (settings, environment, the ledger slot of
this target and date, the clock) and returns an object with a ``name`` and
``publish(issue, *, dry_run) -> Receipt``. The ledger slot is how a publisher keeps
the remote id the moment it has one, and finds it again on the next run.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from lll.config import Config
from lll.errors import PublishSettingsError
from lll.publish.model import PublishableIssue, Receipt
from lll.publish.settings import Secrets

if TYPE_CHECKING:
    from lll.publish.ledger import Slot

ENTRY_POINT_GROUP = "lll.publishers"
HOOK = "register_publishers"
BUILTIN_PLUGINS = ("lll.publish.devto", "lll.publish.email", "lll.publish.buttondown", "lll.publish.ghost",
                   "lll.publish.archive")

log = logging.getLogger("lll.publish")


@runtime_checkable
class Publisher(Protocol):
    """One publishing target."""

    name: str

    def publish(self, issue: PublishableIssue, *, dry_run: bool) -> Receipt:
        """Put ``issue`` on the target as a draft (or public only when asked), exactly once:
        rerunning updates the same remote object or does nothing."""
        ...


@dataclass
class PublishContext:
    """What a publisher is built with. ``env`` is where keys come from (``os.environ``
    by default); ``secrets`` collects every key read so messages can be scrubbed."""

    target: str
    config: Config
    workspace: Path
    slot: Slot
    env: Mapping[str, str]
    public: bool = False
    secrets: Secrets = field(default_factory=Secrets)
    sleep: Callable[[float], None] = field(default=lambda s: None)


PublisherFactory = Callable[[PublishContext], Publisher]


class Registry:
    """Target name → publisher factory. Built-ins first, then entry points; the first
    registration of a name wins and later ones are recorded in ``problems``."""

    def __init__(self) -> None:
        self._factories: dict[str, PublisherFactory] = {}
        self._origin: dict[str, str] = {}
        self.problems: list[str] = []

    def register(self, name: str, factory: PublisherFactory, origin: str = "") -> None:
        if name in self._factories:
            self.problems.append(f"publisher {name!r} from {origin or '?'} ignored: "
                                 f"{self._origin[name]} already provides it")
            return
        self._factories[name] = factory
        self._origin[name] = origin

    def load_plugin(self, plugin: Any, origin: str) -> None:
        hook = getattr(plugin, HOOK, None)
        if not callable(hook):
            self.problems.append(f"{origin} has no {HOOK}(register) hook")
            return
        hook(lambda name, factory: self.register(name, factory, origin))

    def names(self) -> list[str]:
        return sorted(self._factories)

    def origin(self, name: str) -> str:
        return self._origin.get(name, "")

    def factory(self, name: str) -> PublisherFactory:
        if name not in self._factories:
            raise PublishSettingsError(f"unknown target {name!r}: use one of {', '.join(self.names())}",
                                       target=name)
        return self._factories[name]


def load_registry(builtins: Iterable[str] = BUILTIN_PLUGINS, *, third_party: bool = True) -> Registry:
    """The registry of every installed publisher. A plugin that fails to load is
    reported in ``problems`` and leaves the others working."""
    registry = Registry()
    for module_name in builtins:
        registry.load_plugin(importlib.import_module(module_name), module_name)
    if third_party:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                registry.load_plugin(ep.load(), f"{ep.value} (entry point {ep.name})")
            except Exception as exc:  # a broken plugin must not break the others
                registry.problems.append(f"plugin {ep.name} ({ep.value}) failed to load: {exc}")
    for problem in registry.problems:
        log.warning("%s", problem)
    return registry
