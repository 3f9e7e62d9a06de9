-- wrk: the staff workbench, its four inbox views in turn; pace each connection with `delay` (ms).
local views = { "to_claim", "due_soon", "overdue", "mine" }
local i = 0
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")
local token = os.getenv("WRK_TOKEN")
request = function()
  i = i + 1
  return wrk.format("GET", "/work?view=" .. views[(i % 4) + 1], { ["Authorization"] = "Bearer " .. token })
end
if pause > 0 then delay = function() return pause end end
