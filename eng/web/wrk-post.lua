-- wrk script of eng/web.sh bench and soak: POSTs the files named in WEB_BODIES, in turn.
-- WEB_BODIES: "path|content-type|file" entries separated by ";", e.g.
-- "/api/predict|image/png|digit.png;/api/predict/batch|application/octet-stream|rows.bin".
local requests = {}


local function read(file)
  local handle = assert(io.open(file, "rb"))
  local bytes = handle:read("*all")
  handle:close()
  return bytes
end

-- Made in init, once a thread's connection settings (its Host header) are known.
init = function()
  for entry in string.gmatch(os.getenv("WEB_BODIES"), "[^;]+") do
    local path, type, file = string.match(entry, "([^|]+)|([^|]+)|([^|]+)")
    table.insert(requests, wrk.format("POST", path, { ["Content-Type"] = type }, read(file)))
  end
end

local next = 0

request = function()
  next = next % #requests + 1
  return requests[next]
end
