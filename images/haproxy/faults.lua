-- meshquake runtime faults for HAProxy 2.6 (Lua 5.3).
--
-- Loaded with `lua-load` (one shared Lua state; the sidecar runs `nbthread 1`), so the fault
-- table below is the single source of truth for the whole proxy. The harness drives it through
-- the stats socket; nothing ever reloads the proxy:
--
--   meshquake fault set <name> kind=<kind> pct=<0..100> until=<epoch ms> [since=<epoch ms>]
--                       [seed=<n>] [from=<service>|*] [header=<name> value=<value>] <kind params>
--       abort params: status=<200..599>
--       delay params: delay_min=<ms> delay_max=<ms>
--       blackhole, reset: no params
--       ratelimit params: retry_after=<seconds> (answers 429 with that Retry-After)
--   meshquake fault del <name>          idempotent: "OK deleted" or "OK absent"
--   meshquake fault list                one line per fault, with seen/hit counters
--   meshquake fault clear
--
-- Every value is percent-encoded by the harness (only [A-Za-z0-9._~*-] and %XX reach the CLI,
-- whose tokenizer gives ';' and '\' a meaning). Replies start with "OK" or "ERR".
--
-- `http-request lua.mq_fault` evaluates the active faults in the order they were set. A fault
-- applies only while since <= now < until on the proxy's wall clock: the harness sets a fault
-- ahead of its start (so its start does not wait on the harness or the CLI round trip), and the
-- proxy drops it by itself at its end time, so a harness that died mid-run cannot leave it
-- behind (dead-man switch). Each fault rolls its own die (splitmix64 seeded from the fault's seed
-- and this pod's seed), so two faults never share a draw and a replay with the same seeds and
-- request order draws the same sequence.

local POD = os.getenv("MQ_POD") or "unknown"
local POD_SEED = math.tointeger(tonumber(os.getenv("MQ_POD_SEED") or "0")) or 0

local FAULT_NAME = "^[A-Za-z0-9._-]+$"
local MAX_FAULT_NAME = 64

-- splitmix64 with Lua 5.3's wrapping 64-bit integers; src/dataplane/haproxy/faults.ts mirrors it.
local GOLDEN = 0x9E3779B97F4A7C15
local function mix64(z)
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end

local function new_die(seed)
  local state = mix64(mix64(seed + GOLDEN) ~ POD_SEED)
  return function()
    state = state + GOLDEN
    -- top 53 bits → a float in [0, 1)
    return (mix64(state) >> 11) * (1.0 / 9007199254740992.0)
  end
end
-- The one die for the other Lua files of this shared state (ewma.lua), loaded after this one.
mq_new_die = new_die

-- Wall-clock epoch ms, from HAProxy's `date` (the clock the access log's dates use) through the
-- sample fetches of a transaction or CLI applet. Not core.now(): in 2.6 that is start_date plus
-- HAProxy's internal monotonic clock, which falls behind the wall clock whenever the poller reads
-- a stall as a time jump (3 s behind after an idle start, more after a `docker pause`), while
-- `since` and `until` are wall-clock times set by the harness.
local function now_ms(fetches)
  return fetches:date(0, "ms")
end

local function decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function encode(s)
  return (s:gsub("[^%w._~*-]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function int_param(params, key, min, max)
  local raw = params[key]
  if raw == nil then error(key .. " is required", 0) end
  local n = math.tointeger(tonumber(raw))
  if n == nil or n < min or n > max then
    error(string.format("%s=%s: expected an integer in %d..%d", key, raw, min, max), 0)
  end
  return n
end

-- How often a held (blackholed) request checks whether its fault is still on. Each held request
-- wakes this often, so the step trades revert latency against CPU under many held requests.
local HOLD_STEP_MS = 100

-- The pod's app speaks gRPC (render.ts sets MQ_PROTOCOL): answers are gRPC statuses.
local GRPC = os.getenv("MQ_PROTOCOL") == "grpc"

-- Answers the request here, naming the fault (x-mq-fault), and ends it: what abort and ratelimit do.
-- A grpc pod answers gRPC: a trailers-only response (one HEADERS frame, :status 200, the status
-- in grpc-status, no body), what a gRPC server sends when it fails a call before any message.
local function answer(txn, f, status, headers, detail, grpc_status)
  headers["x-mq-fault"] = { f.name }
  local text = "meshquake fault " .. f.name .. detail
  if GRPC then
    headers["content-type"] = { "application/grpc" }
    headers["grpc-status"] = { tostring(grpc_status) }
    headers["grpc-message"] = { encode(text) }
    txn:done(txn:reply({ status = 200, headers = headers }))
    return true
  end
  headers["content-type"] = { "text/plain" }
  txn:done(txn:reply({ status = status, headers = headers, body = text .. "\n" }))
  return true
end

-- Fault kinds. A kind declares its own parameters and what it does to a request; apply returns
-- true when it has answered the request itself (nothing after it runs). New kinds slot in here.
local kinds = {
  abort = {
    params = { "status", "grpc" },
    parse = function(f, params)
      f.status = int_param(params, "status", 200, 599)
      -- A grpc pod's abort answers this gRPC status (default UNAVAILABLE).
      f.grpc = params.grpc and int_param(params, "grpc", 1, 16) or 14
    end,
    describe = function(f) return "status=" .. f.status .. (GRPC and (" grpc=" .. f.grpc) or "") end,
    apply = function(txn, f)
      return answer(txn, f, f.status, {}, "", f.grpc)
    end,
  },
  delay = {
    params = { "delay_min", "delay_max" },
    parse = function(f, params)
      f.delay_min = int_param(params, "delay_min", 0, 3600000)
      f.delay_max = int_param(params, "delay_max", f.delay_min, 3600000)
    end,
    describe = function(f) return "delay_min=" .. f.delay_min .. " delay_max=" .. f.delay_max end,
    apply = function(txn, f, die)
      local ms = f.delay_min
      if f.delay_max > f.delay_min then
        ms = ms + math.floor(die() * (f.delay_max - f.delay_min + 1))
      end
      core.msleep(ms) -- yields: other requests keep flowing while this one waits
      return false
    end,
  },
  -- Accept the request and never answer it while the fault is on: the caller's own timeouts
  -- (per try, overall) are what ends its wait. The hold is bounded by the fault itself: when it
  -- ends (its `until`, a del, a clear or a new set of the same name) the connection is closed
  -- without an answer. `timeout client` does not cut a Lua sleep, so nothing else would.
  blackhole = {
    params = {},
    parse = function() end,
    describe = function() return nil end,
    apply = function(txn, f)
      while not f.removed do
        local left = f["until"] - now_ms(txn.f)
        if left <= 0 then break end
        core.msleep(math.min(left, HOLD_STEP_MS))
      end
      txn:done()
      return true
    end,
  },
  -- Answer 429 with a Retry-After, as a rate limit would: to test whether callers back off.
  ratelimit = {
    params = { "retry_after" },
    parse = function(f, params)
      f.retry_after = int_param(params, "retry_after", 0, 3600)
    end,
    describe = function(f) return "retry_after=" .. f.retry_after end,
    apply = function(txn, f)
      -- gRPC: RESOURCE_EXHAUSTED, what a gRPC server or Envoy's rate limit answers.
      return answer(txn, f, 429, { ["retry-after"] = { tostring(f.retry_after) } }, ": rate limited, retry after " .. f.retry_after .. " s", 8)
    end,
  },
  -- Close the caller's connection at once without an answer. HAProxy cannot send a TCP RST from
  -- Lua, so the caller sees the connection end (FIN) before any response: an "empty response" to
  -- HAProxy's retry-on, ECONNRESET "socket hang up" to Node, a reset to Envoy's retry_on.
  reset = {
    params = {},
    parse = function() end,
    describe = function() return nil end,
    apply = function(txn)
      txn:done()
      return true
    end,
  },
}

local COMMON_PARAMS = {
  kind = true, pct = true, since = true, ["until"] = true, seed = true, from = true, header = true, value = true,
}

local faults = {}  -- in the order they were first set
local function find(name)
  for i, f in ipairs(faults) do
    if f.name == name then return i, f end
  end
  return nil, nil
end

local function parse_fault(name, words)
  if #name > MAX_FAULT_NAME or not name:match(FAULT_NAME) then
    error("fault name must match [A-Za-z0-9._-]{1," .. MAX_FAULT_NAME .. "}: " .. name, 0)
  end
  local params = {}
  for _, word in ipairs(words) do
    local key, raw = word:match("^([a-z_]+)=(.*)$")
    if key == nil then error("expected key=value, got: " .. word, 0) end
    if params[key] ~= nil then error("duplicate parameter: " .. key, 0) end
    params[key] = decode(raw)
  end
  local kind = kinds[params.kind or ""]
  if kind == nil then
    local known = {}
    for k in pairs(kinds) do known[#known + 1] = k end
    table.sort(known)
    error("kind=" .. tostring(params.kind) .. ": expected one of " .. table.concat(known, ", "), 0)
  end
  local allowed = {}
  for _, key in ipairs(kind.params) do allowed[key] = true end
  for key in pairs(params) do
    if not COMMON_PARAMS[key] and not allowed[key] then
      error("unknown parameter for kind=" .. params.kind .. ": " .. key, 0)
    end
  end
  local pct = tonumber(params.pct or "")
  if pct == nil or pct ~= pct or pct < 0 or pct > 100 then
    error("pct=" .. tostring(params.pct) .. ": expected a number in 0..100", 0)
  end
  if (params.header == nil) ~= (params.value == nil) then
    error("header and value go together", 0)
  end
  local f = {
    name = name,
    kind = params.kind,
    pct = pct,
    probability = pct / 100,
    since = params.since and int_param(params, "since", 0, math.maxinteger) or 0,
    ["until"] = int_param(params, "until", 0, math.maxinteger),
    seed = params.seed and int_param(params, "seed", 0, math.maxinteger) or 0,
    from = params.from or "*",
    header = params.header and params.header:lower() or nil,
    value = params.value,
    seen = 0,
    hits = 0,
  }
  if f.since >= f["until"] then error("since=" .. f.since .. " is not before until=" .. f["until"], 0) end
  kind.parse(f, params)
  f.die = new_die(f.seed)
  return f
end

local function describe(f, now)
  local parts = { f.name, "kind=" .. f.kind, "pct=" .. f.pct }
  local params = kinds[f.kind].describe(f)
  if params then parts[#parts + 1] = params end
  parts[#parts + 1] = "from=" .. encode(f.from)
  if f.header then parts[#parts + 1] = "header=" .. encode(f.header) .. " value=" .. encode(f.value) end
  if f.since > 0 then parts[#parts + 1] = "since=" .. f.since end
  parts[#parts + 1] = "until=" .. f["until"]
  parts[#parts + 1] = "seed=" .. f.seed
  parts[#parts + 1] = "seen=" .. f.seen
  parts[#parts + 1] = "hits=" .. f.hits
  local state = "active"
  if now >= f["until"] then state = "expired" elseif now < f.since then state = "pending" end
  parts[#parts + 1] = "state=" .. state
  return table.concat(parts, " ")
end

local USAGE = "usage: meshquake fault set <name> kind=<kind> pct=<0..100> until=<epoch ms> [since=<epoch ms>] [params] | "
  .. "meshquake fault del <name> | meshquake fault list | meshquake fault clear"

local function cli(applet, _meshquake, _fault, verb, name, ...)
  local words = { ... }
  local ok, reply = pcall(function()
    if verb == "set" and name then
      local f = parse_fault(name, words)
      local i, old = find(name)
      if i then
        old.removed = true
        faults[i] = f
      else
        faults[#faults + 1] = f
      end
      return "OK set " .. name
    elseif verb == "del" and name then
      local i, old = find(name)
      if i == nil then return "OK absent " .. name end
      old.removed = true -- releases the requests a blackhole holds
      table.remove(faults, i)
      return "OK deleted " .. name
    elseif verb == "list" then
      local now = now_ms(applet.f)
      local lines = { "OK " .. #faults .. " faults on " .. POD }
      for _, f in ipairs(faults) do lines[#lines + 1] = describe(f, now) end
      return table.concat(lines, "\n")
    elseif verb == "clear" then
      local n = #faults
      for _, f in ipairs(faults) do f.removed = true end
      faults = {}
      return "OK cleared " .. n
    end
    error(USAGE, 0)
  end)
  applet:send((ok and reply or ("ERR " .. tostring(reply))) .. "\n")
end

core.register_cli({ "meshquake", "fault" }, "meshquake runtime faults (set|del|list|clear)", cli)

local function first_header(headers, name)
  local values = headers[name]
  return values and values[0] or nil
end

local function has_header_value(headers, name, value)
  local values = headers[name]
  if values == nil then return false end
  for _, v in pairs(values) do
    if v == value then return true end
  end
  return false
end

core.register_action("mq_fault", { "http-req" }, function(txn)
  if #faults == 0 then return end
  local headers = nil
  local applied = {}
  -- Iterate over a snapshot: a CLI command may change the table while a delay sleeps.
  for _, f in ipairs({ table.unpack(faults) }) do
    local now = now_ms(txn.f)
    if not f.removed and now >= f.since and now < f["until"] then
      if f.from ~= "*" or f.header then headers = headers or txn.http:req_get_headers() end
      local matches = (f.from == "*" or first_header(headers, "x-mq-from") == f.from)
        and (f.header == nil or has_header_value(headers, f.header, f.value))
      if matches then
        f.seen = f.seen + 1
        if f.die() < f.probability then
          f.hits = f.hits + 1
          applied[#applied + 1] = f.name
          txn:set_var("txn.mq_fault", table.concat(applied, ","))
          if kinds[f.kind].apply(txn, f, f.die) then return end
        end
      end
    end
  end
end, 0)
