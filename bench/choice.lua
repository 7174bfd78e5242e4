-- wrk script: every request is a consent choice as the banner posts it.
wrk.method = "POST"
wrk.body = '{"purposes":{"analytics":true,"marketing":false},"layer":"second","control":"save"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Sec-Fetch-Site"] = "same-origin"
