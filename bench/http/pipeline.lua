-- wrk script: 16 pipelined GET / requests per write.
-- wrk parses the string returned by request() at thread start to learn how many requests
-- it holds, then counts every response and sends the next batch only once all 16 are in.
-- Its latency histogram records one sample per batch (first write to 16th response).
local depth = tonumber(os.getenv("PIPELINE_DEPTH") or "16")
local batch

init = function(args)
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format("GET", "/")
   end
   batch = table.concat(r)
end

request = function()
   return batch
end
