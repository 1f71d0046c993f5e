/**
 * The class `<mjpeg-view>` extends: `HTMLElement` in a browser, an empty
 * class where there is no DOM (a server importing the element's types, the
 * package's own checks), so `./browser` loads anywhere and defines the
 * element only where it can.
 *
 * @module
 */

/**
 * `HTMLElement`, or an empty stand-in without a DOM. Not part of the API, so
 * left out of the docs.
 *
 * @ignore
 */
export const ElementBase: typeof HTMLElement = globalThis.HTMLElement ??
  (class {} as unknown as typeof HTMLElement);
