-- wrk script of the fault drill (tests/bench/faults.py): each wrk thread has one connection
-- and posts the diary's log form as one patient, every post with a key of its own, and
-- writes what became of each key to a file of its own, so the drill can check the database
-- against every answer:
--   S <key> <time sent>
--   R <key> <time sent> <time answered> <status> <calm 503 page: 1/0> <Retry-After> <Location>
--   N <key> <time sent>                  (no answer: the connection failed, wrk reconnected)
-- With one connection per thread and no pipelining, answers come back in the order the
-- requests went out: the answer wrk hands to response() is that of the last request made.
-- Arguments (after --): the drill's folder, holding portals.tsv (one patient a line: cookie,
-- then the form's body with @KEY@ and @SHARP@ to fill in) and the key prefix.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_usec; } drill_timeval;
int gettimeofday(drill_timeval *tv, void *tz);
]]
local clock = ffi.new("drill_timeval")

local function now()
  ffi.C.gettimeofday(clock, nil)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_usec) / 1e6
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

local out, cookie, template, prefix
local sent, pending, pending_at = 0, nil, 0

function init(args)
  local folder = args[1]
  prefix = args[2]
  local portals = {}
  for line in io.lines(folder .. "/portals.tsv") do
    table.insert(portals, line)
  end
  local mine = portals[((id - 1) % #portals) + 1]
  cookie, template = mine:match("^([^\t]*)\t(.*)$")
  out = io.open(string.format("%s/outcomes-%d.txt", folder, id), "w")
  out:setvbuf("line")
end

-- wrk calls request() once on the first thread's state, right after init(), only to count
-- the requests it returns (script_verify_request): that one is never sent, so not recorded.
local verifying

function request()
  if verifying == nil then
    verifying = (id == 1)
  end
  if verifying then
    verifying = false
    return wrk.format("POST", "/diary/log", {}, "")
  end
  if pending ~= nil then
    out:write(string.format("N %s %.3f\n", pending, pending_at))
  end
  sent = sent + 1
  -- The patient's index comes first after the prefix: the drill sends a key again as
  -- the patient who first sent it.
  pending = string.format("%s-%d-%d", prefix, id, sent)
  pending_at = now()
  local sharp = (sent % 5 == 0) and "yes" or "no"
  local body = template:gsub("@KEY@", pending)
  body = body:gsub("@SHARP@", sharp)
  out:write(string.format("S %s %.3f\n", pending, pending_at))
  return wrk.format("POST", "/diary/log", {
    ["Cookie"] = cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function response(status, headers, body)
  if pending == nil then
    return
  end
  local calm = 0
  if string.find(body, "We could not save this", 1, true)
      and string.find(body, "Error code 503", 1, true)
      and not string.find(body, "Traceback", 1, true) then
    calm = 1
  end
  out:write(string.format("R %s %.3f %.3f %d %d %s %s\n", pending, pending_at, now(), status,
    calm, headers["Retry-After"] or "-", headers["Location"] or "-"))
  pending = nil
end
