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
