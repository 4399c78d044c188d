/**
 * Layer-time defaults for the transfer services: the options given when the layer was built, with
 * each call's own options laid over them (an option a call leaves `undefined` keeps the default).
 *
 * @internal
 */

/** `defaults` with every field `options` sets (to anything but `undefined`) taken from `options`. */
export const withDefaults = <O extends object>(defaults: Partial<O>, options: O): O => {
  const merged: Record<string, unknown> = { ...defaults }
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) merged[name] = value
  }
  return merged as O
}
