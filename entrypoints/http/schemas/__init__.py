"""Request and response bodies, by feature (``auth``, ``users``, ``items``, ``health``; ``common``
holds the patterns and fields they share). They parse and validate; the rules come from the
domain. Each answer's fields come from its model (``serialisers``)."""
