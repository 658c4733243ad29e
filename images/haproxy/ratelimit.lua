-- meshquake local rate limiting for HAProxy 2.6 (Lua 5.3): the inbound side of a replica whose
-- service's policy has `rateLimit` (docs/policy.md).
--
-- Loaded with `lua-load` (one shared Lua state; the sidecar runs `nbthread 1`, so the bucket is
-- exact: no two requests race for a token). src/dataplane/haproxy/render.ts calls it from the
-- inbound frontend, before the runtime faults:
--
--   http-request lua.mq_ratelimit <requests per second> <burst>
--
-- A token bucket, as Envoy's local_ratelimit and Linkerd's limiter: it holds at most `burst`
-- tokens, starts full, and refills continuously at `requests per second`. A request takes one
-- token; a request that finds less than one is answered here with 429 and
-- `Retry-After: <seconds until the bucket holds a token, rounded up, at least 1>` and never
-- reaches the app. In any span of T seconds a replica therefore serves at most
-- burst + rate × T requests. Refused requests take no token (HAProxy's http_req_rate counts
-- every tracked request, refused ones too, so a stick-table limit under a steady 3× overload
-- refuses nearly everything; this one keeps serving the rate).
--
-- The clock is the wall clock in ms (`date(0,ms)`), the one the access log's t0 uses, so a
-- second of the log is a second of the bucket.

local POD = os.getenv("MQ_POD") or "unknown"

local bucket = nil -- { tokens, t, rate, burst }; one inbound frontend per sidecar, so one bucket

local function retry_after_seconds(tokens, rate)
  local s = math.ceil((1 - tokens) / rate)
  if s < 1 then s = 1 end
  return s
end

core.register_action("mq_ratelimit", { "http-req" }, function(txn, rate_s, burst_s)
  local rate = tonumber(rate_s)
  local burst = tonumber(burst_s)
  if rate == nil or rate <= 0 or burst == nil or burst < 1 then return end
  local now = txn.f:date(0, "ms")
  if bucket == nil or bucket.rate ~= rate or bucket.burst ~= burst then
    bucket = { tokens = burst, t = now, rate = rate, burst = burst }
  end
  local elapsed = now - bucket.t
  if elapsed > 0 then
    bucket.tokens = math.min(burst, bucket.tokens + elapsed * rate / 1000)
    bucket.t = now
  end
  if bucket.tokens >= 1 then
    bucket.tokens = bucket.tokens - 1
    return
  end
  local after = retry_after_seconds(bucket.tokens, rate)
  txn:set_var("txn.mq_rl", "limited")
  local text = "meshquake: " .. POD .. " is rate limited to " .. rate_s .. " requests per second (burst " .. burst_s .. ")"
  local headers = { ["retry-after"] = { tostring(after) }, ["x-mq-ratelimit"] = { POD } }
  if os.getenv("MQ_PROTOCOL") == "grpc" then
    -- A grpc pod: RESOURCE_EXHAUSTED as a trailers-only response (no body).
    headers["content-type"] = { "application/grpc" }
    headers["grpc-status"] = { "8" }
    headers["grpc-message"] = { (text:gsub("[^%w._~*-]", function(c) return string.format("%%%02X", c:byte()) end)) }
    txn:done(txn:reply({ status = 200, headers = headers }))
    return
  end
  headers["content-type"] = { "text/plain" }
  txn:done(txn:reply({ status = 429, headers = headers, body = text .. "\n" }))
end, 2)
