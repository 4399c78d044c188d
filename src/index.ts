/**
 * The main entry re-exports every module that needs only `effect` and `@effect/platform`. The
 * loopback CDN emulator needs `@effect/platform-node`: import it from `effect-wa-media/CdnEmulator`,
 * and the fake CDN for tests from `effect-wa-media/testing/FakeCdn`.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as CdnControl from "./CdnControl.js"

/**
 * @since 0.1.0
 */
export * as MediaConn from "./MediaConn.js"

/**
 * @since 0.1.0
 */
export * as MediaCrypto from "./MediaCrypto.js"

/**
 * @since 0.1.0
 */
export * as MediaDecryptor from "./MediaDecryptor.js"

/**
 * @since 0.1.0
 */
export * as MediaDownload from "./MediaDownload.js"

/**
 * @since 0.1.0
 */
export * as MediaEncryptor from "./MediaEncryptor.js"

/**
 * @since 0.1.0
 */
export * as MediaError from "./MediaError.js"

/**
 * @since 0.1.0
 */
export * as MediaFile from "./MediaFile.js"

/**
 * @since 0.1.0
 */
export * as MediaKeys from "./MediaKeys.js"

/**
 * @since 0.1.0
 */
export * as MediaMessage from "./MediaMessage.js"

/**
 * @since 0.1.0
 */
export * as MediaRetry from "./MediaRetry.js"

/**
 * @since 0.1.0
 */
export * as MediaType from "./MediaType.js"

/**
 * @since 0.1.0
 */
export * as MediaUpload from "./MediaUpload.js"

/**
 * @since 0.1.0
 */
export * as Sidecar from "./Sidecar.js"
