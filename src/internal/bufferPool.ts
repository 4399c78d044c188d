/**
 * A process-wide free list of fixed-size byte buffers for the transfers' I/O (the write-behind of a
 * download to a file, the buffers of file to file): a transfer takes its buffers when it starts and
 * gives them back when it ends, so a burst of transfers reuses the memory of the previous one
 * instead of leaving it to the garbage collector. At most `RETAINED` bytes are kept free per size.
 *
 * @internal
 */

/** The most bytes kept free, per buffer size. */
export const RETAINED = 8 * 1024 * 1024

const free = new Map<number, Array<Uint8Array>>()

/** A buffer of `size` bytes: a free one (old contents and all), or a new one. */
export const take = (size: number): Uint8Array => free.get(size)?.pop() ?? new Uint8Array(size)

/** Gives `buffer` back; the caller must not touch it afterwards. */
export const give = (buffer: Uint8Array): void => {
  const size = buffer.byteLength
  // Only whole buffers of their own memory: a view of something else stays with its owner.
  if (buffer.byteOffset !== 0 || buffer.buffer.byteLength !== size) return
  let list = free.get(size)
  if (list === undefined) {
    list = []
    free.set(size, list)
  }
  if ((list.length + 1) * size <= RETAINED) list.push(buffer)
}
