"""An app with commands of its own, for the command-line tests (tests/test_cli.py).

``greet`` takes an option and an argument and uses ``self``; ``ping`` takes nothing;
``tell`` sends a Record through the app's codecs; ``shout`` is a class-based command.
"""

import faust
from faust.cli import AppCommand, argument, option

app = faust.App("cli-app", broker="kafka://localhost:9092")


class Greeting(faust.Record, serializer="json"):
    """A greeting to someone."""

    name: str
    times: int = 1


greetings_topic = app.topic("greetings", key_type=str, value_type=Greeting, partitions=2)
greeted = app.Table("greeted", default=int, help="How often each name was greeted.")


@app.agent(greetings_topic)
async def count_greetings(greetings: faust.Stream[Greeting]) -> None:
    """Count the greetings per name."""
    async for greeting in greetings:
        greeted[greeting.name] += greeting.times


@app.timer(interval=1.0)
async def print_greeted() -> None:
    for name, count in sorted(greeted.items()):
        print(f"greeted {name}: {count}", flush=True)


@app.command(
    option("--count", "-c", type=int, default=1, help="How many times."),
    option("--shout/--no-shout", default=False),
    argument("name"),
)
async def greet(self: AppCommand, name: str, count: int, shout: bool) -> None:
    """Greet someone on the terminal."""
    text = f"hello {name} from {self.app.id}"
    for _ in range(count):
        self.say(text.upper() if shout else text)


@app.command()
async def ping() -> None:
    """Answer pong."""
    print("pong")


@app.command(argument("name"), option("--times", type=int, default=1))
async def tell(self: AppCommand, name: str, times: int) -> None:
    """Send a greeting to the greetings topic."""
    await greetings_topic.send(key=name, value=Greeting(name, times))
    self.say(f"sent a greeting to {name}")


if __name__ == "__main__":
    app.main()
