-- wrk script: posts the sample "pull request opened" webhook with the secret.
-- Run from the repository root, against a herald whose hub.secret is "bench-secret":
--   wrk -t1 -c32 -d5s -s benches/wrk-post.lua http://127.0.0.1:8080/webhooks/hf
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Webhook-Secret"] = "bench-secret"
local f = assert(io.open("templates/samples/discussion.json", "r"))
wrk.body = f:read("*a")
f:close()
