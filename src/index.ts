/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as MediaCrypto from "./MediaCrypto.js"

/**
 * @since 0.1.0
 */
export * as MediaError from "./MediaError.js"

/**
 * @since 0.1.0
 */
export * as MediaKeys from "./MediaKeys.js"

/**
 * @since 0.1.0
 */
export * as MediaType from "./MediaType.js"

/**
 * @since 0.1.0
 */
export * as MediaMessage from "./MediaMessage.js"
