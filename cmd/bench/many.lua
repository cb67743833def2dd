-- Many logged-in users (scenarios m0 and m1 of cmd/bench): each request is
-- made by one of the users listed in the file given as the first argument
-- (one "cookie<TAB>csrf token" a line), chosen at random. With the second
-- argument's probability (0.01 for 1 %) it creates an article; otherwise it
-- asks for the index, page 2 one time in ten.
--
--   wrk -s many.lua URL -- users.txt 0.01
--
-- cmd/bench adds the summary it reads (wrkSummary) at the end.

local users = {}
local writeShare = 0

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  for line in io.lines(args[1]) do
    local cookie, csrf = line:match("^(.-)\t(.*)$")
    users[#users + 1] = { cookie = cookie, csrf = csrf }
  end
  writeShare = tonumber(args[2] or "0")
  math.randomseed(os.time() * 100 + (seed or 0))
end

local created = 0
function request()
  local u = users[math.random(#users)]
  local headers = { ["Cookie"] = u.cookie }
  if math.random() < writeShare then
    created = created + 1
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local body = "csrfmiddlewaretoken=" .. u.csrf .. "&title=Written+under+load+" .. created .. "&content=Many+users+are+reading."
    return wrk.format("POST", "/articles/create/", headers, body)
  end
  if math.random(10) == 1 then
    return wrk.format("GET", "/articles/?page=2", headers)
  end
  return wrk.format("GET", "/articles/", headers)
end

