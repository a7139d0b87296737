"""Generated codecs: which Records get which encode/decode functions, and their code.

``model`` holds the codec plan, ``plan`` decides it, ``json`` and ``avro`` write the
functions of one Record, ``common`` what both share. Example::

    codecs = plan_codecs(module)     # CodecsPlan(records=(...), installed=("Order",))
"""
