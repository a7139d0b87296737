"""Asking an agent that takes Faust's request envelopes: with ``use_reply_headers=False``
the request travels as a record holding the value, the reply topic and the correlation
id, instead of in message headers.

Constructs: ``@app.agent(use_reply_headers=False)``; ``Agent.ask`` from ``@app.task``;
an agent that ``yield``s its replies; ``reply_create_topic=True``.
"""
import faust

app = faust.App('envelope-ask', broker='kafka://localhost:9092', reply_create_topic=True)


@app.agent(use_reply_headers=False)
async def double(numbers):
    async for number in numbers:
        yield number * 2


@app.task
async def ask_some():
    for number in (1, 2, 21):
        answer = await double.ask(value=number)
        print(f'ASKED {number} GOT {answer}')


if __name__ == '__main__':
    app.main()
