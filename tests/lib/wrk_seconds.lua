-- wrk script: counts responses per wall-clock second, good (2xx/3xx) and bad (any other status), so that a
-- test can tell when failures happened; wrk itself only reports totals. done() prints one line per second:
-- "second EPOCH good N bad N". Socket errors have no callback and stay in wrk's own totals.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  good = {}
  bad = {}
end

function response(status, headers, body)
  local t = os.time()
  if status >= 200 and status < 400 then
    good[t] = (good[t] or 0) + 1
  else
    bad[t] = (bad[t] or 0) + 1
  end
end

function done(summary, latency, requests)
  local g, b, secs = {}, {}, {}
  for _, thread in ipairs(threads) do
    for t, n in pairs(thread:get("good")) do g[t] = (g[t] or 0) + n end
    for t, n in pairs(thread:get("bad")) do b[t] = (b[t] or 0) + n end
  end
  for t in pairs(g) do secs[t] = true end
  for t in pairs(b) do secs[t] = true end
  local list = {}
  for t in pairs(secs) do table.insert(list, t) end
  table.sort(list)
  for _, t in ipairs(list) do
    io.write(string.format("second %d good %d bad %d\n", t, g[t] or 0, b[t] or 0))
  end
end
