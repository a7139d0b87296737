"""Score totals after a repartition by a computed key, like Faust's Kubernetes consumer
example: scores are regrouped by whether their index is odd or even, and two counters are
kept, one per group and one over everything. The ``totals`` key is written from both
groups' partitions; Faust's table holds one count for it.

Constructs: ``group_by(function, name=...)``; a table key that no message is keyed by
(``table['totals']``); a running count sent after each score.
"""
import faust

TOPIC = 'scores'

app = faust.App('score-totals', broker='kafka://localhost:9092', topic_partitions=4)
table = app.Table('score_counts', default=int)


class Score(faust.Record, serializer='json'):
    index: int
    value: int


scores_topic = app.topic(TOPIC, value_type=Score)
running_totals_topic = app.topic('score-running-totals', value_type=int)


def parity(score):
    return f'parity: {score.index % 2}'


@app.agent(scores_topic)
async def count_scores(stream):
    async for score in stream.group_by(parity, name='score_parity'):
        table['totals'] += 1
        table[parity(score)] += 1
        await running_totals_topic.send(value=table['totals'])


if __name__ == '__main__':
    app.main()
