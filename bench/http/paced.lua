-- wrk script: keep-alive at a pace. Each connection waits PACE_MS (default 1) ms after
-- each response before its next request, so every server is offered about the same load,
-- below what saturates wrk's one thread: the latency is then the server's, not the time a
-- response waits in wrk's queue, which is what a closed loop at full speed measures too.
local pace = tonumber(os.getenv("PACE_MS") or "1")

delay = function()
   return pace
end
