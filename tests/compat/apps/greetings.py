"""Hello world, Faust's first example: a timer sends a hundred greetings every few
seconds and an agent prints them.

Constructs: ``@app.timer(5)`` sending to a topic; an agent that prints; ``app.main()``.
"""
import faust

app = faust.App('hello-world', broker='kafka://localhost:9092', topic_partitions=1)
greetings_topic = app.topic('greetings', value_type=str)


@app.agent(greetings_topic)
async def print_greetings(greetings):
    async for greeting in greetings:
        print(greeting)


@app.timer(5)
async def produce():
    for i in range(100):
        await greetings_topic.send(value=f'hello {i}')


if __name__ == '__main__':
    app.main()
