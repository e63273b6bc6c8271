// @ts-check
/**
 * The one place the mini-program learns where its server is. DevTools and the demo use the demo
 * server on this machine (`make demo` serves http://127.0.0.1:5000); a release build points at the
 * production domain, which must be listed as a request domain in the mini-program console.
 */
module.exports = {
  /** Base URL of the Linli API, without a trailing slash. */
  apiBase: 'http://127.0.0.1:5000',
  /** Storage key of the bearer token. */
  tokenKey: 'linli.token',
  /** Seconds a request may take before the user is told the network failed. */
  timeoutMs: 15000,
}
