// A plain loopback HTTP server for the download and upload benches, in its own process so that the
// client's peak RSS is the client's alone: every GET answers the file given on the command line, with
// `Range: bytes=a-` support; `GET /media_conn` names this server as the one upload host; a POST is a
// lean upload sink that drops the body unread beyond counting it (no hashing, no storing, unlike the
// emulator) and answers the CDN's JSON. Prints its port on stdout.
//
//   node bench/blobServer.mjs <file>
import { createReadStream, statSync } from "node:fs"
import { createServer } from "node:http"

const file = process.argv[2]
const size = statSync(file).size

const json = (response, body) => {
  const text = JSON.stringify(body)
  response.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) })
  response.end(text)
}

const server = createServer((request, response) => {
  const host = `127.0.0.1:${server.address().port}`
  if (request.method === "GET" && request.url === "/media_conn") {
    return json(response, { auth: "bench-auth", ttl: 3600, auth_ttl: 3600, hosts: [{ hostname: host }] })
  }
  if (request.method === "POST") {
    let received = 0
    request.on("data", (chunk) => (received += chunk.length))
    request.on("end", () => {
      const path = new URL(request.url, `http://${host}`).pathname
      json(response, { url: `http://${host}${path}`, direct_path: `${path}?received=${received}` })
    })
    return
  }
  const match = /^bytes=(\d+)-$/.exec(request.headers.range ?? "")
  const start = match === null ? 0 : Number(match[1])
  response.writeHead(match === null ? 200 : 206, {
    "content-type": "application/octet-stream",
    "content-length": String(size - start),
    ...(match === null ? {} : { "content-range": `bytes ${start}-${size - 1}/${size}` })
  })
  createReadStream(file, { start, highWaterMark: 256 * 1024 }).pipe(response)
})
server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`))
process.on("SIGTERM", () => process.exit(0))
