"""The plan: what each fused agent does, as typed steps, and the passes that make it fast.

``model`` is the plan IR; ``stages`` builds the plain plan from the front IR (with
``rewrite``, which cuts holes out of the user's code, and ``analysis``, which asks the
syntax tree what that code does); ``passes`` optimise it, one decision each, in a straight
list; ``printer`` shows it (``faustc build --dump-plan``); ``validate`` checks it (run on
every plan the build makes). Example::

    plan = run_passes(build_plan(module, records, codecs, source, out_dir), context)
    validate_plan(plan)
    print(format_plan(plan))
"""
