"""A service started with the app: it tracks how many orders the agent handled and reports
it from its own timer, and runs a background task at start, the way Faust apps attach
housekeeping to the worker with ``@app.service``.

Constructs: ``@app.service`` on a ``faust.Service`` subclass; ``on_start``/``on_stop``;
``@faust.Service.task``; ``@faust.Service.timer(interval)``; ``self.sleep``; module state
shared by an agent and the service.
"""
import faust

app = faust.App('heartbeat-service', broker='kafka://localhost:9092', topic_partitions=1)
orders_topic = app.topic('heartbeat-orders', value_type=str)
handled = []


@app.agent(orders_topic)
async def handle(orders):
    async for order in orders:
        handled.append(order)


@app.service
class Heartbeat(faust.Service):

    async def on_start(self) -> None:
        print('HEARTBEAT STARTED')

    async def on_stop(self) -> None:
        print('HEARTBEAT STOPPED')

    @faust.Service.task
    async def _warm_up(self) -> None:
        await self.sleep(0.1)
        print('HEARTBEAT WARMED UP')

    @faust.Service.timer(1.0)
    async def _beat(self) -> None:
        print(f'HEARTBEAT handled={len(handled)}')


if __name__ == '__main__':
    app.main()
