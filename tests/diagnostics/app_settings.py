import faust

# every faust-streaming setting is known by name: those that do not apply are a warning
# saying why (the worker warns the same at start), a name no Faust has is one too
app = faust.App(
    "settings",
    topic_partitions=4,
    cache="memory://",  # W: FC117 Faust setting 'cache' does not apply here
    topic_partitons=4,  # W: FC117 unknown App setting 'topic_partitons' is ignored (did you mean
)
