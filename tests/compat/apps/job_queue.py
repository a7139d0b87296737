"""A Celery-like job queue: job requests get an id from ``faust.uuid()`` and go to a
worker agent with no topic, which looks the job up in a registry and sends its result.

Constructs: ``faust.uuid()``; a Record with untyped ``list``/``dict`` fields and a
method; a module-level registry filled by a decorator; ``@app.agent()`` fed by
``agent.send(value=Record)``.
"""
import faust

app = faust.App('job-queue', broker='kafka://localhost:9092', topic_partitions=2)

registry = {}


def job(fun):
    registry[fun.__name__] = fun
    return fun


@job
def add(x, y):
    return x + y


@job
def shout(text):
    return text.upper()


class Job(faust.Record):
    id: str
    name: str
    arguments: list
    options: dict = {}

    def run(self):
        return registry[self.name](*self.arguments, **self.options)


requests_topic = app.topic('job-requests')
results_topic = app.topic('job-results')


@app.agent(requests_topic)
async def accept(requests):
    async for request in requests:
        await run_job.send(value=Job(id=faust.uuid(), name=request['name'], arguments=request['args']))


@app.agent()
async def run_job(jobs):
    async for queued in jobs:
        await results_topic.send(
            key=queued.name,
            value={'job': queued.name, 'result': queued.run(), 'id_length': len(queued.id)},
        )


if __name__ == '__main__':
    app.main()
