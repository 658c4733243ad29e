-- meshquake latency-aware balancing for HAProxy 2.6 (Lua 5.3): `loadBalancer: peak-ewma`, the
-- algorithm of Linkerd's proxy (tower's PeakEwma load under a power-of-two-choices balancer).
-- HAProxy 2.6 has no latency-aware balance algorithm, so this file picks each request's replica.
--
-- Loaded with `lua-load` (one shared Lua state; the sidecar runs `nbthread 1`). render.ts writes
-- the settings into the environment (2.6's lua-load takes no arguments), one word per
-- destination service that balances by peak-EWMA, separated by spaces:
--
--   MQ_EWMA  <service>:<replica indexes joined by .>:<decay ms>:<default RTT µs>
--
-- Per replica i the state is an RTT estimate (µs) and when it was last updated. The cost of a
-- replica is its estimate, decayed to now, times (requests in flight + 1):
-- * a try's response time above the estimate replaces it at once (the peak);
-- * one below it moves the estimate towards it by 1 - e^(-elapsed / decay), elapsed being the
--   time since the last update;
-- * reading the cost decays the estimate towards 0 the same way (tower updates with a zero
--   sample), so a replica that is no longer picked is tried again once its estimate has decayed
--   below the others' costs;
-- * a replica starts at the default RTT (Linkerd's 30 ms).
--
-- The routing backend `<service>` calls `lua.mq_ewma_pick(<service>)` from http-request and
-- routes with `use-server r<i> if { var(txn.mq_pick) -m str r<i> }`. Two replicas are drawn at
-- random among the usable ones and the cheaper one is picked. What is usable, and each replica's
-- requests in flight, come from txn variables the config sets just before (HAProxy 2.6 rewrites
-- a "backend/server" argument passed to a sample fetch from Lua in place, corrupting the
-- interned string, so no server fetch is called from here):
--
--   txn.mq_inflight_<i>   srv_conn of the routing server r<i>, set only while r<i> is up (not
--                         ejected, not in DNS maintenance, its tracked health check passing) and
--                         below its maxconn
--
-- An empty pick (no replica usable) leaves the choice to the backend's own balance algorithm,
-- which also chooses every retry's replica (HAProxy's redispatch does not run http-request
-- rules again).
--
-- Each attempt listener `mq_att_<service>_<i>` calls `lua.mq_ewma_observe(<service>,<i>)` from
-- http-after-response with `txn.mq_ewma_t0` / `txn.mq_ewma_t1` (date in µs when the try came in
-- and when its answer left): the try's response time. A try that was never sent (the request's
-- deadline had passed) or never reached the replica (connect failure) is not a sample.

-- faults.lua's die (splitmix64 mixed with the pod's seed; faults.lua is loaded first): a replay
-- of the same request order draws the same pairs.
local die = mq_new_die(0x65776D61) -- "ewma"
-- An integer in 1..n.
local function roll(n)
  return math.floor(die() * n) + 1
end

-- HAProxy's internal clock in µs: monotonic, which is all the decay needs.
local function now_us()
  local t = core.now()
  return t.sec * 1000000 + t.usec
end

-- destination -> { decay = µs, replicas = { state... } (in index order), by_index = { [i] = state },
--                  usable / inflight: scratch tables the pick reuses }
local dests = {}
for word in string.gmatch(os.getenv("MQ_EWMA") or "", "%S+") do
  local route, indexes, decay_ms, default_rtt = string.match(word, "^([a-z][a-z0-9-]*):([0-9.]+):([1-9]%d*):(%d+)$")
  if route == nil then error("MQ_EWMA: malformed entry " .. word) end
  local d = { decay = tonumber(decay_ms) * 1000, replicas = {}, by_index = {}, usable = {}, inflight = {} }
  local start = now_us()
  for i in string.gmatch(indexes, "%d+") do
    local index = math.tointeger(tonumber(i))
    local r = { name = "r" .. index, inflight_var = "txn.mq_inflight_" .. index, rtt = tonumber(default_rtt) + 0.0, at = start }
    d.replicas[#d.replicas + 1] = r
    d.by_index[index] = r
  end
  dests[route] = d
end

-- tower's RttEstimate::update: a sample above the estimate is the new estimate (peak); one below
-- pulls the estimate towards it by how long it has been since the last update.
local function update(r, rtt, now, decay)
  if r.rtt < rtt then
    r.rtt = rtt
  else
    local elapsed = now - r.at
    if elapsed < 0 then elapsed = 0 end
    local w = math.exp(-elapsed / decay)
    r.rtt = r.rtt * w + rtt * (1 - w)
  end
  r.at = now
  return r.rtt
end

-- Called once per request by the routing backend. Returns the server name, or "" for none.
core.register_fetches("mq_ewma_pick", function(txn, route)
  local d = dests[route or ""]
  if d == nil then return "" end
  local usable, inflight, n = d.usable, d.inflight, 0
  for _, r in ipairs(d.replicas) do
    local c = txn:get_var(r.inflight_var)
    if c ~= nil then
      n = n + 1
      usable[n] = r
      inflight[n] = math.tointeger(tonumber(c)) or 0
    end
  end
  if n == 0 then return "" end
  if n == 1 then return usable[1].name end
  local a = roll(n)
  local b = roll(n - 1)
  if b >= a then b = b + 1 end
  local now = now_us()
  local cost_a = update(usable[a], 0, now, d.decay) * (inflight[a] + 1)
  local cost_b = update(usable[b], 0, now, d.decay) * (inflight[b] + 1)
  return (cost_b < cost_a and usable[b] or usable[a]).name
end)

-- Called once per try by the attempt listener. Returns "".
core.register_fetches("mq_ewma_observe", function(txn, route, index)
  local d = dests[route or ""]
  local r = d and d.by_index[math.tointeger(tonumber(index or "")) or -1]
  if r == nil then return "" end
  if txn:get_var("txn.mq_unsent") ~= nil or txn:get_var("txn.mq_local") == "connect-failure" then return "" end
  local t0 = tonumber(txn:get_var("txn.mq_ewma_t0") or "")
  local t1 = tonumber(txn:get_var("txn.mq_ewma_t1") or "")
  if t0 == nil or t1 == nil then return "" end
  update(r, math.max(0, t1 - t0) + 0.0, now_us(), d.decay)
  return ""
end)
