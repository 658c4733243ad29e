-- meshquake runtime faults for HAProxy 2.6 (Lua 5.3).
--
-- Loaded with `lua-load` (one shared Lua state; the sidecar runs `nbthread 1`), so the fault
-- table below is the single source of truth for the whole proxy. The harness drives it through
-- the stats socket; nothing ever reloads the proxy:
--
--   meshquake fault set <name> kind=<kind> pct=<0..100> until=<epoch ms> [seed=<n>]
--                       [from=<service>|*] [header=<name> value=<value>] <kind params>
--       abort params: status=<200..599>
--       delay params: delay_min=<ms> delay_max=<ms>
--   meshquake fault del <name>          idempotent: "OK deleted" or "OK absent"
--   meshquake fault list                one line per fault, with seen/hit counters
--   meshquake fault clear
--
-- Every value is percent-encoded by the harness (only [A-Za-z0-9._~*-] and %XX reach the CLI,
-- whose tokenizer gives ';' and '\' a meaning). Replies start with "OK" or "ERR".
--
-- `http-request lua.mq_fault` evaluates the active faults in the order they were set. A fault
-- applies only while now < until: the proxy drops a fault by itself at its end time, so a
-- harness that died mid-run cannot leave it behind (dead-man switch). Each fault rolls its own
-- die (splitmix64 seeded from the fault's seed and this pod's seed), so two faults never share a
-- draw and a replay with the same seeds and request order draws the same sequence.

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

local function now_ms()
  local t = core.now()
  return t.sec * 1000 + t.usec // 1000
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

-- Fault kinds. A kind declares its own parameters and what it does to a request; apply returns
-- true when it has answered the request itself (nothing after it runs). New kinds slot in here.
local kinds = {
  abort = {
    params = { "status" },
    parse = function(f, params)
      f.status = int_param(params, "status", 200, 599)
    end,
    describe = function(f) return "status=" .. f.status end,
    apply = function(txn, f)
      local reply = txn:reply({
        status = f.status,
        headers = { ["x-mq-fault"] = { f.name }, ["content-type"] = { "text/plain" } },
        body = "meshquake fault " .. f.name .. "\n",
      })
      txn:done(reply)
      return true
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
}

local COMMON_PARAMS = { kind = true, pct = true, ["until"] = true, seed = true, from = true, header = true, value = true }

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
    ["until"] = int_param(params, "until", 0, math.maxinteger),
    seed = params.seed and int_param(params, "seed", 0, math.maxinteger) or 0,
    from = params.from or "*",
    header = params.header and params.header:lower() or nil,
    value = params.value,
    seen = 0,
    hits = 0,
  }
  kind.parse(f, params)
  f.die = new_die(f.seed)
  return f
end

local function describe(f, now)
  local parts = {
    f.name, "kind=" .. f.kind, "pct=" .. f.pct, kinds[f.kind].describe(f), "from=" .. encode(f.from),
  }
  if f.header then parts[#parts + 1] = "header=" .. encode(f.header) .. " value=" .. encode(f.value) end
  parts[#parts + 1] = "until=" .. f["until"]
  parts[#parts + 1] = "seed=" .. f.seed
  parts[#parts + 1] = "seen=" .. f.seen
  parts[#parts + 1] = "hits=" .. f.hits
  parts[#parts + 1] = "state=" .. (now < f["until"] and "active" or "expired")
  return table.concat(parts, " ")
end

local USAGE = "usage: meshquake fault set <name> kind=<kind> pct=<0..100> until=<epoch ms> [params] | "
  .. "meshquake fault del <name> | meshquake fault list | meshquake fault clear"

local function cli(applet, _meshquake, _fault, verb, name, ...)
  local words = { ... }
  local ok, reply = pcall(function()
    if verb == "set" and name then
      local f = parse_fault(name, words)
      local i = find(name)
      if i then faults[i] = f else faults[#faults + 1] = f end
      return "OK set " .. name
    elseif verb == "del" and name then
      local i = find(name)
      if i == nil then return "OK absent " .. name end
      table.remove(faults, i)
      return "OK deleted " .. name
    elseif verb == "list" then
      local now = now_ms()
      local lines = { "OK " .. #faults .. " faults on " .. POD }
      for _, f in ipairs(faults) do lines[#lines + 1] = describe(f, now) end
      return table.concat(lines, "\n")
    elseif verb == "clear" then
      local n = #faults
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
    if now_ms() < f["until"] then
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
