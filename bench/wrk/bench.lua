-- wrk script for the Keel benchmark (bench/run.py sets it up; wrk 4.x, LuaJIT).
--
-- The request is set from environment variables, so that one script serves every scenario:
--   WRK_METHOD        e.g. POST (default GET)
--   WRK_BODY          the request body (a JSON item, or a login form)
--   WRK_CONTENT_TYPE  its Content-Type
--   WRK_AUTHORIZATION the Authorization header ("Bearer <access token>")
--   WRK_DELAY_MS      pause each connection this long between requests (a paced probe)
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
