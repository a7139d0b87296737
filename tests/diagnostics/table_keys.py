import faust

ALL = "all"
app = faust.App("diag-table-keys", topic_partitions=4)
clicks = app.topic("clicks", value_type=str)
one_partition = app.topic("single", value_type=str, partitions=1)
counts = app.Table("counts", default=int)
visitors = app.SetTable("visitors", value_type=str)


@app.agent(clicks)
async def count(stream: faust.Stream[str]) -> None:
    async for click in stream:
        counts[ALL] += 1  # W: FC116 table 'counts' is written under the key 'all' from all its 4
        counts[click] += 1  # keyed by the value: the compiler cannot tell, no warning
        visitors["site"].add(click)  # W: FC116 table 'visitors' is written under the key 'site'
        counts[ALL] = counts[ALL] + 1  # the same key again: one warning per table and key


@app.agent(one_partition)
async def count_one(stream: faust.Stream[str]) -> None:
    async for click in stream:
        counts[f"{ALL}-single"] += 1  # one partition: nothing is split


@app.agent(clicks)
async def count_grouped(stream: faust.Stream[str]) -> None:
    async for click in stream.group_by(lambda value: "all", name="all", partitions=1):
        counts["grouped"] += 1  # the repartition topic has one partition
