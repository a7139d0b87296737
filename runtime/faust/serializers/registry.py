"""The codecs of one App: those registered for it, and those a compiled worker generated for
its Records.

Every App has one :class:`CodecRegistry`, ``app.codecs``; its topics and tables find their
codecs there (``faust.serializers.schemas``, through ``CodecContext.registry``), so two apps
in one process never see each other's:

- ``app.codecs.register(name, codec)``: a codec for this app's topics and tables only;
- ``faust.serializers.codecs.register(name, codec)``: Faust's API, a codec for every app
  in the process (as in Faust); an app's own registration of the same name wins for it;
- ``faust.compiled.install_codecs(app, {...})``: what a built worker does when it is
  imported, installing the generated codecs of its app's Records for that app alone
  (``faust.serializers.generated``).

A lookup outside any app (``Record.dumps()``, ``codecs.dumps("json", ...)``, a loader made
without a registry) sees the process-wide codecs and no generated ones. Example::

    app.codecs.register("upper", Upper())
    app.codecs.get("upper|binary")             # chains resolve through the app's codecs
    app.codecs.generated(Order)                # the compiled worker's codecs, or None
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.exceptions import UnknownSerializer
from faust.serializers import codecs, generated
from faust.serializers.codecs import Codec
from faust.serializers.generated import GeneratedCodecs


class CodecRegistry:
    """One app's codecs (see the module docstring)."""

    def __init__(self) -> None:
        self._named: dict[str, Codec] = {}
        self._generated: dict[type, GeneratedCodecs] = {}
        #: inside ``faust.serializers.generated.suspended(app)`` blocks: no generated codecs
        self.suspended = 0

    def register(self, name: str, codec: Codec) -> None:
        """Make ``codec`` available under ``name`` to this app's topics and tables."""
        self._named[name] = codec

    def get(self, name_or_codec: str | Codec) -> Codec:
        """The codec called ``name_or_codec`` for this app (its own, else the process's);
        ``"a|b"`` chains; a Codec is returned as it is."""
        if isinstance(name_or_codec, Codec):
            return name_or_codec
        found = self._named.get(name_or_codec)
        if found is not None:
            return found
        if "|" in name_or_codec and any(
            part.strip() in self._named for part in name_or_codec.split("|")
        ):
            parts = [self.get(part.strip()) for part in name_or_codec.split("|")]
            chain = parts[0]
            for part in parts[1:]:
                chain = chain | part
            return chain
        try:
            return codecs.get_codec(name_or_codec)
        except KeyError:
            known = ", ".join(sorted({*self._named, *codecs.known_names()}))
            raise UnknownSerializer(
                f"unknown serializer {name_or_codec!r} (known: {known})"
            ) from None

    def install(self, generated_codecs: Mapping[type, GeneratedCodecs]) -> None:
        """Use these generated codecs for exactly these Record classes, from now on."""
        self._generated.update(generated_codecs)

    def generated(self, typ: Any) -> GeneratedCodecs | None:
        """The generated codecs installed for exactly ``typ`` (None: there are none, or
        ``faust.serializers.generated.suspended()`` is in force, for every app or this
        one)."""
        if self.suspended or generated.is_suspended():
            return None
        return self._generated.get(typ)
