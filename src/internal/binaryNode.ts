/**
 * Reading binary nodes as Baileys-style sockets hand them over. Nodes come from the wire: attrs may
 * be missing or hold non-strings, content may be anything; every reader treats those as absent.
 *
 * @internal
 */

import type { BinaryNode } from "../MediaConn.js"

/** @internal */
export const isNode = (u: unknown): u is BinaryNode =>
  typeof u === "object" && u !== null && typeof (u as BinaryNode).tag === "string"

/** @internal */
export const childrenOf = (node: BinaryNode): ReadonlyArray<BinaryNode> =>
  Array.isArray(node.content) ? (node.content as ReadonlyArray<unknown>).filter(isNode) : []

/** The first child with a tag. @internal */
export const childOf = (node: BinaryNode, tag: string): BinaryNode | undefined =>
  childrenOf(node).find((child) => child.tag === tag)

/** @internal */
export const attrOf = (node: BinaryNode, name: string): string | undefined => {
  const attrs: unknown = node.attrs
  if (typeof attrs !== "object" || attrs === null || !Object.hasOwn(attrs, name)) return undefined
  const value = (attrs as Record<string, unknown>)[name]
  return typeof value === "string" ? value : undefined
}

/** The content of a node as bytes (a `Uint8Array` or a `Buffer`), if it holds bytes. @internal */
export const bytesOf = (node: BinaryNode): Uint8Array | undefined =>
  node.content instanceof Uint8Array ? node.content : undefined
