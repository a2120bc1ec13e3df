"""Clicks: the redirect's hot path and the buffer between it and PostgreSQL.

`/r/<code>` must answer fast and never lose a click, so it does one Redis round trip that resolves
the link and appends the click to a Redis stream (recording); a flusher later writes the stream to
referrals_click in batches (flusher, writer). One idea per module:

  buffer     the Redis side: key names (per database), the consumer group, the process's client
  hashing    the daily salt, IP and visitor digests, the visitor's address behind trusted proxies
  ids        click ids (tclid) that sort by time, and the time an id was made
  entries    a click's stream entry: written from a Visit, read back as a ClickRow
  bots       bot detection by user agent
  recording  the Lua script, resolve_and_record, the PostgreSQL fallback, forgetting cached links
  writer     write_batch: COPY into referrals_click, uniqueness, the visitors' latest visits
  flusher    flush_clicks, acknowledging only what is on disk, trimming, flushed_through/flusher_lag

IP addresses never leave the redirect raw: `visitor_hash` (IP + user agent) decides uniqueness, a
click being unique unless the same visitor clicked the same link in the previous 24 hours. Because
the salt changes at midnight, each click also carries its visitor digest under yesterday's salt
(never stored) so that the 24-hour window holds across midnight.
"""
