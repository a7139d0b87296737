"""Who is in each chat room: a table of sets fed by two topics, one for people joining and
one for people leaving, after Faust's table-of-sets example. After each change the room's
members go out, sorted, on ``room-members``.

Constructs: ``app.SetTable(value_type=str)``; ``set.add``/``set.discard`` on a table
entry; ``stream.items()``; two agents writing one table; ``origin=`` and ``version=``.
"""
import faust

app = faust.App(
    'chat-rooms',
    broker='kafka://localhost:9092',
    origin='chat_rooms',
    topic_partitions=2,
    version=1,
)

members = app.SetTable('members', value_type=str)

joining_topic = app.topic('room-joins', key_type=str, value_type=str)
leaving_topic = app.topic('room-leaves', key_type=str, value_type=str)
room_members_topic = app.topic('room-members', key_type=str)


@app.agent(joining_topic)
async def join(stream):
    async for room, name in stream.items():
        members[room].add(name)
        await room_members_topic.send(key=room, value=sorted(members[room]))


@app.agent(leaving_topic)
async def leave(stream):
    async for room, name in stream.items():
        members[room].discard(name)
        await room_members_topic.send(key=room, value=sorted(members[room]))


if __name__ == '__main__':
    app.main()
