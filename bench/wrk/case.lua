-- wrk: the staff case page of a random stored case; pace each connection with `delay` (ms) from the environment.
local cases = {}
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")
local token = os.getenv("WRK_TOKEN")
for line in io.lines(os.getenv("WRK_CASES")) do cases[#cases + 1] = line end
math.randomseed(os.time())
request = function()
  local no = cases[math.random(#cases)]
  return wrk.format("GET", "/work/cases/" .. no, { ["Authorization"] = "Bearer " .. token })
end
if pause > 0 then delay = function() return pause end end
