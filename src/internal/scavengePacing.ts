/**
 * Keeps V8's young generation turning over while a transfer hands out fresh buffers, so that the
 * dead ones are freed by scavenges rather than by full mark-compacts.
 *
 * A buffer given away whole (an upload's body chunk: the transport keeps what it is given) is an
 * `ArrayBuffer` outside V8's heap. V8 frees a dead one at its next scavenge, and until then counts
 * its bytes against the old generation's limit. A scavenge comes when the young generation fills,
 * and a transfer of 1 MiB chunks allocates almost nothing there. So, with an old generation above V8's
 * threshold for incremental marking (8 MB; Effect and the platform alone hold more), V8 started a
 * full mark-compact every 20 to 30 MB of chunks, each marking the whole heap on every core: 50 to 60
 * of them per GiB of an upload's second pass, and 1.9 to 2.0 s of CPU on V8's helper threads.
 *
 * Allocating half as many bytes again as short-lived strings makes the scavenges come first,
 * mostly. Measured on 1 GiB uploads to the bench's lean sink: 20 to 22 mark-compacts in the second
 * pass against 51 to 56 in the whole upload without (nearly all in that pass), the pass 2.1 to 2.3 s
 * instead of 2.6 to 3.1, the whole upload 237 to 250 MB/s instead of 201 to 221. As many bytes as
 * the chunks left 16 to 17 mark-compacts and the pass at 2.0 to 2.1 s, but the young generation
 * then grew to its largest: `wa-media upload` of 256 MiB peaked at 145.5 MiB of RSS, against 123.6
 * without strings and 128.1 with half. The strings cost 25 to 45 ms per GiB.
 *
 * @internal
 */

/** Below V8's large-object size (128 KiB), so that each string is allocated young. */
const PIECE = 64 * 1024

/** The bytes each string copies: any will do. */
const source = Buffer.alloc(PIECE)

/** Holds the last string made, so that no compiler drops the allocation as unused. */
const made = { last: "" }

/** Allocates half of `bytes` on V8's young generation, to be collected at once. */
export const paceFor = (bytes: number): void => {
  for (let left = bytes >>> 1; left > 0; left -= PIECE) {
    made.last = source.toString("latin1", 0, Math.min(PIECE, left))
  }
}
