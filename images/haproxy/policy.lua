-- meshquake mesh policy for HAProxy 2.6 (Lua 5.3): outlier ejection, health-check events, and the
-- routing servers' view of their replicas.
--
-- Loaded with `lua-load` after faults.lua (one shared Lua state; the sidecar runs `nbthread 1`).
-- src/dataplane/haproxy/render.ts writes the settings into the environment before lua-load
-- (2.6's lua-load takes no arguments), one word per destination service, separated by spaces:
--
--   MQ_REPLICAS  <service>:<replica indexes joined by .>             every destination
--   MQ_HEALTH    <service>                                            destinations with active checks
--   MQ_OUTLIER   <service>:<consecutive5xx>:<interval ms>:<base ejection ms>
--                :<max ejection percent>:<max ejection ms>             destinations with outlier detection
--
-- Each replica <i> of <service> is two servers: `r<i>` in the routing backend `<service>`, which
-- balances, retries and limits, and `r<i>` in the attempt listener `mq_att_<service>_<i>`, which
-- every try passes through on its way to the replica. This file keeps the routing server in
-- maintenance (out of rotation) while the replica is ejected or its name does not resolve
-- (the attempt listener's server is in DNS maintenance); health checks reach the routing server
-- through `track` in the config.
--
-- The attempt listener calls the fetch `lua.mq_attempt(<service>,<i>)` once a try's answer is
-- known (http-after-response: the replica's answer or the listener's own failure; 2.6 has no Lua
-- action there, a fetch has no such limit). That is how ejection sees the failures HAProxy's
-- retries hide from `observe layer7` (retried 5xx and timeouts never eject a replica there).
--
-- Outlier detection follows Envoy's consecutive_5xx detector:
-- * a try fails when it ends in a 5xx, a refused or failed connection, a reset, or a timeout;
--   any other answer resets the replica's count;
-- * at consecutive5xx failures in a row the replica leaves rotation unless that would put more
--   than maxEjectionPercent of the destination's replicas out at once (Envoy >= 1.27:
--   100 * (ejected + 1) / replicas <= max percent);
-- * it stays out base ejection time x ejections in a row (capped at max ejection ms) and comes
--   back at the first sweep (every interval) after that; each sweep it spends in rotation takes
--   one off its ejections in a row.
--
-- Events go to the access log as JSON lines (the schema version of render.ts's log lines):
--   {"mq":1,"pod":..,"ts":"<s.ms>","ev":"ejection","route":..,"replica":<i>,"until":"<s.ms>","count":<n>}
--   {"mq":1,...,"ev":"readmission",...}
--   {"mq":1,...,"ev":"ejection-skipped",...,"reason":"max-ejection-percent"}
--   {"mq":1,...,"ev":"health",...,"state":"up"|"down","check":"L7OK"}

local POD = os.getenv("MQ_POD") or "unknown"
local LOG_SCHEMA = 1
-- How often the task looks at ejection times and server states; the sweep itself runs every interval.
local TICK_MS = 50

-- core.now() is HAProxy 2.6's internal monotonic clock, which falls behind the wall clock
-- whenever the event loop stalls (measured: over 100 ms on a busy 2-core machine). Every try
-- brings the wall clock (date(0,ms), set by render.ts just before mq_attempt runs) and resets
-- the difference, so event times line up with the access log's and the harness's clocks.
local clock_offset = 0

local function now_ms()
  local t = core.now()
  return t.sec * 1000 + t.usec // 1000 + clock_offset
end

local function sync_clock(txn)
  local wall = math.tointeger(tonumber(txn:get_var("txn.mq_t1") or ""))
  if wall ~= nil then
    local t = core.now()
    clock_offset = wall - (t.sec * 1000 + t.usec // 1000)
  end
end

local function ts(ms)
  return string.format("%d.%03d", ms // 1000, ms % 1000)
end

-- Names are checked by render.ts ([a-z0-9-]); events contain nothing else that needs escaping.
local function event(kind, route, replica, extra)
  local line = string.format('{"mq":%d,"pod":"%s","ts":"%s","ev":"%s","route":"%s","replica":%d%s}',
    LOG_SCHEMA, POD, ts(now_ms()), kind, route, replica, extra or "")
  core.log(core.info, line)
end

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s, "[^" .. sep .. "]+") do out[#out + 1] = part end
  return out
end

local function int(s, what)
  local n = math.tointeger(tonumber(s or ""))
  if n == nil then error(what .. ": not an integer: " .. tostring(s)) end
  return n
end

-- destination -> { replicas = { [i] = state }, count, health, outlier settings or nil }
local dests = {}
for _, word in ipairs(split(os.getenv("MQ_REPLICAS") or "", " ")) do
  local f = split(word, ":")
  if #f ~= 2 then error("MQ_REPLICAS: malformed entry " .. word) end
  local d = { replicas = {}, count = 0, health = false, od = nil, next_sweep = 0 }
  for _, i in ipairs(split(f[2], ".")) do
    -- health: last reported ("up"/"down"), or false before the first look
    d.replicas[int(i, "MQ_REPLICAS")] = { fails = 0, ejected = false, ends = 0, ejections = 0, unresolved = false, out = false, health = false }
    d.count = d.count + 1
  end
  dests[f[1]] = d
end
for _, name in ipairs(split(os.getenv("MQ_HEALTH") or "", " ")) do
  if dests[name] == nil then error("MQ_HEALTH: " .. name .. " is not in MQ_REPLICAS") end
  dests[name].health = true
end
for _, word in ipairs(split(os.getenv("MQ_OUTLIER") or "", " ")) do
  local f = split(word, ":")
  if #f ~= 6 or dests[f[1]] == nil then error("MQ_OUTLIER: malformed entry " .. word) end
  dests[f[1]].od = {
    consecutive = int(f[2], "consecutive5xx"),
    interval = int(f[3], "interval"),
    base = int(f[4], "base ejection time"),
    max_pct = tonumber(f[5]),
    max_ms = int(f[6], "max ejection time"),
  }
end

local function server(backend, i)
  local be = core.backends[backend]
  return be and be.servers["r" .. i] or nil
end

-- The routing server is out of rotation while its replica is ejected or unresolved.
local function apply(route, i, r)
  local out = r.ejected or r.unresolved
  if out == r.out then return end
  local s = server(route, i)
  if s == nil then return end
  if out then s:set_maint() else s:set_ready() end
  r.out = out
end

local function ejected_count(d)
  local n = 0
  for _, r in pairs(d.replicas) do
    if r.ejected then n = n + 1 end
  end
  return n
end

local function eject(route, i, d, r, now)
  if 100 * (ejected_count(d) + 1) / d.count > d.od.max_pct + 1e-9 then
    event("ejection-skipped", route, i, ',"reason":"max-ejection-percent"')
    return
  end
  r.ejections = r.ejections + 1
  r.ejected = true
  r.ends = now + math.min(d.od.base * r.ejections, d.od.max_ms)
  apply(route, i, r)
  event("ejection", route, i, string.format(',"until":"%s","count":%d', ts(r.ends), r.ejections))
end

local function readmit(route, i, r)
  r.ejected = false
  r.fails = 0
  apply(route, i, r)
  event("readmission", route, i)
end

-- Called once per try, from the attempt listener's http-after-response rules. Returns "".
core.register_fetches("mq_attempt", function(txn, route, index)
  sync_clock(txn)
  local d = dests[route or ""]
  local i = math.tointeger(tonumber(index or ""))
  if d == nil or d.od == nil or i == nil or d.replicas[i] == nil then return "" end
  local r = d.replicas[i]
  -- A try that was never sent (its request's timeout had passed) says nothing about the replica.
  if txn:get_var("txn.mq_unsent") ~= nil then return "" end
  local status = txn.f:status() or 0
  -- A gRPC failure (render.ts sets mq_gfail) counts as the 5xx it stands for, as in Envoy.
  local failed = status >= 500 or status < 100 or txn:get_var("txn.mq_local") ~= nil or txn:get_var("txn.mq_gfail") ~= nil
  if not failed then
    r.fails = 0
    return ""
  end
  -- Tries already in flight when the replica was ejected do not count towards the next ejection.
  if r.ejected then return "" end
  r.fails = r.fails + 1
  if r.fails >= d.od.consecutive then
    r.fails = 0
    eject(route, i, d, r, now_ms())
  end
  return ""
end)

local function sweep(now)
  for route, d in pairs(dests) do
    if d.od ~= nil and now >= d.next_sweep then
      d.next_sweep = now + d.od.interval
      for i, r in pairs(d.replicas) do
        if r.ejected then
          if now >= r.ends then readmit(route, i, r) end
        elseif r.ejections > 0 then
          r.ejections = r.ejections - 1
        end
      end
    end
  end
end

-- Looks at each attempt listener's server: DNS maintenance ("MAINT (resolution)") takes the
-- routing server out; health-check changes ("UP", "UP 1/2" going down, "DOWN", "DOWN 1/2"
-- going up) become events (the routing server follows them through `track`).
local function watch_servers()
  for route, d in pairs(dests) do
    for i, r in pairs(d.replicas) do
      local s = server("mq_att_" .. route .. "_" .. i, i)
      if s ~= nil then
        local stats = s:get_stats()
        local status = stats.status or ""
        local unresolved = status:sub(1, 5) == "MAINT"
        if unresolved ~= r.unresolved then
          r.unresolved = unresolved
          apply(route, i, r)
        end
        if d.health and not unresolved then
          local state = status:sub(1, 2) == "UP" and "up" or "down"
          if state ~= r.health then
            -- Servers start UP: say so only when it changes, or when the first look finds it down.
            if r.health ~= false or state == "down" then
              event("health", route, i, string.format(',"state":"%s","check":"%s"', state, stats.check_status or ""))
            end
            r.health = state
          end
        end
      end
    end
  end
end

if next(dests) ~= nil then
  core.register_task(function()
    while true do
      local ok, err = pcall(function()
        sweep(now_ms())
        watch_servers()
      end)
      if not ok then core.log(core.err, "meshquake policy.lua: " .. tostring(err)) end
      core.msleep(TICK_MS)
    end
  end)
end
