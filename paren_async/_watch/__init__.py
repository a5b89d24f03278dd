"""The change stream: Realtime walks on a schedule, compared into typed events (extension ring).

Built on the public client only (``realtime_locations(...).raw_pages()``, ``statistics()``); its
public names are re-exported by ``paren_async.watch``.
"""
