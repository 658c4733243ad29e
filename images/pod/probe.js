// Readiness probe run inside a pod: GET the URL, exit 0 on a 2xx answer, else say why and exit 1.
const http = require("http");
const url = process.argv[2];
const req = http.get(url, { timeout: 2000 }, (res) => {
  res.resume();
  if (res.statusCode >= 200 && res.statusCode < 300) process.exit(0);
  console.error(`GET ${url} answered ${res.statusCode}`);
  process.exit(1);
});
req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after 2000 ms`)));
req.on("error", (err) => {
  console.error(`GET ${url}: ${err.message}`);
  process.exit(1);
});
