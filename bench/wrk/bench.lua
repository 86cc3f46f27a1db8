-- wrk script for the Keel benchmark (bench/run.py sets it up; wrk 4.x, LuaJIT).
--
-- The request is set from environment variables, so that one script serves every scenario:
--   WRK_METHOD        e.g. POST (default GET)
--   WRK_BODY          the request body (a JSON item, or a login form)
--   WRK_CONTENT_TYPE  its Content-Type
--   WRK_AUTHORIZATION the Authorization header ("Bearer <access token>")
--   WRK_DELAY_MS      pause each connection this long between requests (a paced probe)
--   WRK_UNIQUE        when set, every "{email}" in WRK_BODY becomes a new address on each
--                     request: <WRK_UNIQUE>-<thread>-<n>@example.com (registrations, and
--                     reset requests for addresses no account has)
--   WRK_KNOWN         comma-separated addresses, taken in turn by every
--   WRK_KNOWN_EVERY   WRK_KNOWN_EVERY-th request instead of a new one (accounts that exist)
--   WRK_ITEMS         comma-separated "<item id>=<ETag>": each request goes to <path>/<id> of
--                     an item no other connection has in flight, with If-Match its latest
--                     ETag (from the last answer for it), so that no request is a stale write
-- done() prints one line, "BENCH_JSON {...}", with the counts, errors and latency
-- percentiles (microseconds) that bench/run.py parses.

local method = os.getenv("WRK_METHOD")
local body = os.getenv("WRK_BODY")
local content_type = os.getenv("WRK_CONTENT_TYPE")
local authorization = os.getenv("WRK_AUTHORIZATION")
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0") or 0

if method and method ~= "" then wrk.method = method end
if body and body ~= "" then wrk.body = body end
if content_type and content_type ~= "" then wrk.headers["Content-Type"] = content_type end
if authorization and authorization ~= "" then wrk.headers["Authorization"] = authorization end

local unique = os.getenv("WRK_UNIQUE") or ""
local known = {}
for address in string.gmatch(os.getenv("WRK_KNOWN") or "", "[^,]+") do
   known[#known + 1] = address
end
local known_every = tonumber(os.getenv("WRK_KNOWN_EVERY") or "0") or 0

-- Each thread runs in a Lua state of its own: its number comes from setup().
local threads = 0
function setup(thread)
   threads = threads + 1
   thread:set("thread_id", threads)
   thread:set("threads_total", tonumber(os.getenv("WRK_THREADS") or "1") or 1)
end

if unique ~= "" then
   local template = wrk.body
   local sent = 0
   function request()
      sent = sent + 1
      local address
      if known_every > 0 and #known > 0 and sent % known_every == 0 then
         address = known[(sent / known_every - 1) % #known + 1]
      else
         address = string.format("%s-%d-%d@example.com", unique, thread_id or 0, sent)
      end
      -- A function as replacement: an address is never read as a pattern.
      local body = string.gsub(template, "{email}", function() return address end)
      return wrk.format(nil, nil, nil, body)
   end
end

-- Conditional writes (PATCH with If-Match): the items are shared out among the threads;
-- a thread takes a free item for each request and frees it when its answer (which names
-- the item, and carries its new ETag) arrives.
local items = {}
for id, etag in string.gmatch(os.getenv("WRK_ITEMS") or "", "([^,=]+)=([^,]+)") do
   items[#items + 1] = {id = id, etag = etag}
end
if #items > 0 then
   local base_path = wrk.path
   local free, etags = nil, {}
   function request()
      if free == nil then
         free = {}
         for n, item in ipairs(items) do
            if (n - 1) % threads_total == (thread_id or 1) - 1 then
               free[#free + 1] = item.id
               etags[item.id] = item.etag
            end
         end
      end
      local id = table.remove(free, 1)
      if id == nil then
         error("WRK_ITEMS: more connections in this thread than items for it")
      end
      -- wrk.format takes these headers instead of wrk.headers, not beside them.
      local headers = {}
      for name, value in pairs(wrk.headers) do headers[name] = value end
      headers["If-Match"] = etags[id]
      return wrk.format(nil, base_path .. "/" .. id, headers, nil)
   end
   function response(status, headers, body)
      local id = string.match(body or "", '"id":"([0-9a-f-]+)"')
      local etag = headers["etag"] or headers["ETag"]
      if status == 200 and id and etags[id] and etag then
         etags[id] = etag
         free[#free + 1] = id
      end
   end
end

if delay_ms > 0 then
   function delay()
      return delay_ms
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local p = function(q) return latency:percentile(q) end
   io.write(string.format(
      'BENCH_JSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
      '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
      '"latency_us":{"min":%.0f,"mean":%.1f,"stdev":%.1f,"max":%.0f,' ..
      '"p50":%.0f,"p75":%.0f,"p90":%.0f,"p99":%.0f,"p99_9":%.0f}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.stdev, latency.max,
      p(50), p(75), p(90), p(99), p(99.9)))
end
