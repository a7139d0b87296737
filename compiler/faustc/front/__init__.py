"""The front end: read a Faust module with libcst into the front IR, print it, validate it.

``reader`` is the driver; ``declarations``, ``records`` and ``agents`` read what their
names say; ``ir`` is the frozen, spanned IR they build; ``printer`` shows it
(``faustc build --dump-ir``); ``validate`` checks its invariants (run on every IR the
tests build). Example::

    module = read_module(SourceFile.load(Path("examples/wordcount.py")))
    validate_ir(module)
    print(format_ir(module))
"""
