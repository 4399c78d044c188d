// The shared test vectors (a copy of ../shared/vectors.json, hex strings), read once for every test file.
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const path = fileURLToPath(new URL("./fixtures/vectors.json", import.meta.url))

export interface HkdfVector {
  readonly info: string
  readonly iv: string
  readonly cipher_key: string
  readonly mac_key: string
  readonly ref_key: string
}

export interface EncryptionVector {
  readonly type: string
  readonly expanded: string
  readonly iv: string
  readonly cipher_key: string
  readonly mac_key: string
  readonly ciphertext: string
  readonly mac10: string
  readonly enc_file: string
  readonly enc_len: number
  readonly file_sha256: string
  readonly file_enc_sha256: string
  readonly token_b64url: string
  readonly file_length: number
  readonly plaintext_hex: string
}

export interface Vectors {
  readonly media_key: string
  readonly hkdf: Readonly<Record<string, HkdfVector>>
  readonly vectors: ReadonlyArray<EncryptionVector>
  readonly media_retry: Readonly<Record<string, string>>
}

export const vectors: Vectors = JSON.parse(readFileSync(path, "utf8"))

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"))
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")

/** Vector type names ("Image", "AppState", "StickerPackThumbnail") as library names. */
export const libraryName = (vectorName: string): string => vectorName.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()
