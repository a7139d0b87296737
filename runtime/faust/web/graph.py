"""``GET /graph``: the app's topology as the runtime knows it, as JSON.

The declarations the App holds: each agent with the topic it consumes, its sinks, its
concurrency and error policy; the topics; the tables with their changelogs; timers,
crontabs and tasks. (``faustc topology`` draws the compiler's fuller picture, with the
sends inside agents and the repartition stages.) Example::

    topology(app)["agents"][0]
    # {"name": "wordcount.count", "topic": "words", "sinks": [], "concurrency": 1, ...}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faust.app import App


def topology(app: App) -> dict[str, Any]:
    """The app's declarations (see the module docstring)."""
    conf = app.conf
    agents = []
    for agent in app.agents.values():
        agents.append(
            {
                "name": agent.name,
                "topic": agent.channel.get_topic_name(),
                "sinks": [_sink_name(sink) for sink in agent.sinks],
                "concurrency": agent.concurrency,
                "error_policy": agent.error_policy or conf.error_policy,
            }
        )
    return {
        "app": app.id,
        "agents": agents,
        "topics": sorted({name for topic in app.topics for name in topic.topics}),
        "tables": [
            {
                "name": table.name,
                "changelog": table.changelog_topic_name,
                "global": table.is_global,
            }
            for table in app.tables.values()
        ],
        "timers": [timer.name for timer in app.timers],
        "crontabs": [crontab.name for crontab in app.crontabs],
        "tasks": [task.name for task in app.tasks],
    }


def _sink_name(sink: Any) -> str:
    name = getattr(sink, "name", None)
    if isinstance(name, str):
        return name
    get_topic_name = getattr(sink, "get_topic_name", None)
    if get_topic_name is not None:
        return str(get_topic_name())
    return getattr(sink, "__qualname__", repr(sink))
