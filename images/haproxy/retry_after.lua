-- meshquake retries on 429 for HAProxy 2.6 (Lua 5.3): the caller's side of `retryOn: [429]`
-- (docs/policy.md). HAProxy 2.6's `retry-on` rejects 429, and retries at once; a retry after a 429
-- must wait at least the Retry-After the replica sent.
--
-- Loaded with `lua-load` (one shared Lua state, `nbthread 1`). src/dataplane/haproxy/render.ts
-- calls it from each attempt listener (every try of a request passes through one):
--
--   http-response lua.mq_retry_after if { status 429 }      the try's answer
--   http-request  lua.mq_retry_wait                          before the next try starts
--
-- On a 429 whose Retry-After is delta-seconds and ends before the request's deadline
-- (x-mq-deadline, epoch ms), mq_retry_after notes "not before <now + Retry-After>" for the request
-- id (x-mq-req) and sets txn.mq_ra_retry; render.ts then hands the answer to the routing backend
-- as its retry status (425), which retries it on another replica and, when no retry is left,
-- restores the 429 (with its Retry-After) for the app. The next try of the same request, in
-- whichever attempt listener, sleeps in mq_retry_wait until that time (core.msleep yields: other
-- requests keep flowing), and logs how long it waited (txn.mq_waited). A 429 without a usable
-- Retry-After (none, an HTTP-date), or one that would outlast the deadline, is not retried.
--
-- The table is bounded: an entry is removed by the try that waits on it; one whose request was
-- never retried (attempts or budget spent) is dropped once its time has passed, at the latest
-- when the table next grows past SWEEP_AT entries.

local SWEEP_AT = 1024

local waits = {}
local count = 0

local function now_ms(txn)
  return txn.f:date(0, "ms")
end

local function sweep(now)
  local n = 0
  for id, t in pairs(waits) do
    if t <= now then waits[id] = nil else n = n + 1 end
  end
  count = n
end

core.register_action("mq_retry_after", { "http-res" }, function(txn)
  local headers = txn.http:res_get_headers()
  local values = headers["retry-after"]
  local raw = values and values[0] or nil
  if raw == nil or not raw:match("^%s*%d+%s*$") then return end
  local seconds = math.tointeger(tonumber(raw))
  if seconds == nil then return end
  local id = txn:get_var("txn.mq_req")
  local deadline = math.tointeger(tonumber(txn:get_var("txn.mq_deadline") or ""))
  if id == nil or deadline == nil then return end
  local now = now_ms(txn)
  local not_before = now + seconds * 1000
  if not_before >= deadline then return end
  if count >= SWEEP_AT then sweep(now) end
  if waits[id] == nil then count = count + 1 end
  waits[id] = not_before
  txn:set_var("txn.mq_ra_retry", 1)
end, 0)

core.register_action("mq_retry_wait", { "http-req" }, function(txn)
  if count == 0 then return end
  local headers = txn.http:req_get_headers()
  local values = headers["x-mq-req"]
  local id = values and values[0] or nil
  if id == nil then return end
  local not_before = waits[id]
  if not_before == nil then return end
  waits[id] = nil
  count = count - 1
  local left = not_before - now_ms(txn)
  if left > 0 then
    core.msleep(left)
    txn:set_var("txn.mq_waited", left)
  else
    txn:set_var("txn.mq_waited", 0)
  end
end, 0)
