// A plain loopback HTTP server for the download bench, in its own process so that the client's
// peak RSS is the client's alone: every GET answers the file given on the command line, with
// `Range: bytes=a-` support. Prints its port on stdout.
//
//   node bench/blobServer.mjs <file>
import { createReadStream, statSync } from "node:fs"
import { createServer } from "node:http"

const file = process.argv[2]
const size = statSync(file).size

const server = createServer((request, response) => {
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
