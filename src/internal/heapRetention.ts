/**
 * Keeps the memory that transfers free inside the process, for their next chunks, instead of
 * handing it back to the kernel and faulting it in again page by page.
 *
 * A transfer's buffers outside V8's heap (fresh cipher outputs, socket reads) are freed in
 * batches, tens of MB at each garbage collection. glibc's malloc returns the top of its heap to the
 * kernel whenever more than its trim threshold is free there, 128 KiB by default, so each batch
 * went back and the next was faulted in afresh: 15,000 to 50,000 page faults per 256 MiB upload.
 * glibc raises the threshold by itself: when it unmaps a block larger than its mmap threshold (and
 * of at most 32 MiB), the mmap threshold becomes that block's size and the trim threshold twice
 * that (`mallopt(3)`, M_MMAP_THRESHOLD). Freeing one block of just under 32 MiB thus sets the trim
 * threshold to about 64 MiB for the process, and blocks below 32 MiB then come from the heap
 * instead of mappings of their own. Measured on 256 MiB uploads to the bench's lean sink, one
 * process uploading five times, 15 uploads per side: median 191 MB/s against 134, and a few
 * hundred page faults per upload instead of thousands.
 *
 * The cost is memory kept: up to that threshold of freed memory per malloc arena stays with the
 * process. Other allocators (musl, macOS, Windows) have no such threshold; for them the block is
 * only address space, never touched, and freed again.
 *
 * @internal
 */

/** Just under glibc's largest dynamic threshold (`DEFAULT_MMAP_THRESHOLD_MAX`, 32 MiB on 64-bit). */
const BLOCK_SIZE = 32 * 1024 * 1024 - 64 * 1024

let raised = false

/** Raises glibc's trim threshold for the process, once: V8 frees the block at its next collection. */
export const retainFreedMemory = (): void => {
  if (raised) return
  raised = true
  // Uninitialized, so no page of it is ever touched; dropped at once.
  void Buffer.allocUnsafeSlow(BLOCK_SIZE)
}
