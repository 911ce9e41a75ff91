"""Which :class:`~noxfx.stream.events.LiveListener` s the stream runner calls.

Other packages register here with ONE line each in :data:`LISTENER_FACTORIES`: the import path
``"package.module:function"`` of a factory ``function(context: ListenerContext) -> LiveListener |
None`` (None: not enabled by these settings). Factories run once when a stream starts (the
``noxfx stream`` process in server mode, the API process in embedded mode); their listeners are
called on the stream's thread for every quote and every closed bar (see
:mod:`noxfx.stream.events` for the rules: fast, no exceptions).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noxfx.errors import NoxError
from noxfx.stream.events import Emitter, LiveListener

if TYPE_CHECKING:
    from noxfx.config import Settings
    from noxfx.data.store import BarStore

log = logging.getLogger(__name__)

#: one line per listener factory, "module:function" (alerts, paper trading, the plan ledger)
LISTENER_FACTORIES: list[str] = [
    "noxfx.service.alert_listener:alert_listener",  # price alerts -> socket, webhook
]


@dataclass(frozen=True)
class ListenerContext:
    """What a factory gets: the settings (``ServiceSettings`` when built by the service or by
    ``noxfx stream``), an emitter to reach Socket.IO clients, the bar store."""

    settings: Settings
    emitter: Emitter
    store: BarStore


class ListenerLoadError(NoxError):
    """A listener factory could not be imported or failed: the stream does not start."""

    exit_code = 6
    kind = "listener-load-error"


def load_factory(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ListenerLoadError(f"Cannot load the live listener factory {path!r}: {exc}") from exc


def build_listeners(
    settings: Settings,
    emitter: Emitter,
    store: BarStore,
    factories: list[str] | None = None,
) -> list[LiveListener]:
    """Every enabled listener, in :data:`LISTENER_FACTORIES` order (or ``factories``)."""
    context = ListenerContext(settings, emitter, store)
    out: list[LiveListener] = []
    for path in LISTENER_FACTORIES if factories is None else factories:
        listener = load_factory(path)(context)
        if listener is None:
            continue
        if not isinstance(listener, LiveListener):
            raise ListenerLoadError(
                f"{path} returned {type(listener).__name__}, not a LiveListener"
            )
        log.info("stream: live listener %s", type(listener).__name__)
        out.append(listener)
    return out


__all__ = ["LISTENER_FACTORIES", "ListenerContext", "ListenerLoadError", "build_listeners"]
