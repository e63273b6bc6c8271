// @ts-check
/**
 * What the forms that write share: a write sent with an Idempotency-Key the page keeps for a retry
 * (`sendWithKey`), and a refusal's field errors shown under their fields (`fieldErrors`).
 */
const api = require('./api')

/**
 * Whether a failed write may still have been done: no answer came (the network), the server
 * failed, or something other than the server's answer went wrong. Its retry sends the same
 * Idempotency-Key, so the server answers the first one again instead of doing it twice.
 * @param {unknown} err
 */
function unanswered(err) {
  return !(err instanceof api.ApiError) || err.status === 0 || err.status >= 500
}

/**
 * Send a write with the Idempotency-Key kept in the page's data at `keyPath` ('key', or
 * `keys.${id}` for one key a row), made when there is none. After an answer — done, or refused
 * (a refusal is final for that body) — the key is dropped and the next send makes a new one;
 * after no answer (`unanswered`) it is kept, so the retry does the thing once.
 * @param {WechatMiniprogram.Component.TrivialInstance} page
 * @param {string} keyPath a data path: 'key' or 'keys.3'
 * @param {string} path
 * @param {import('./api').RequestOptions} options method and data (the key goes in the header)
 * @returns {Promise<any>} the answer's body; rejects with the error
 */
async function sendWithKey(page, keyPath, path, options) {
  const key = keyPath.split('.').reduce((at, name) => (at ? at[name] : undefined), /** @type {any} */ (page.data)) || api.newKey()
  page.setData({ [keyPath]: key })
  try {
    const body = await api.request(path, { ...options, header: { ...(options.header || {}), 'Idempotency-Key': key } })
    page.setData({ [keyPath]: '' })
    return body
  } catch (err) {
    if (!unanswered(err)) page.setData({ [keyPath]: '' })
    throw err
  }
}

/**
 * The field errors of a refused write (a 422's `err.fields`), one message a field, for the form's
 * `errors` (shown under each field).
 * @param {unknown} err what the write threw
 * @param {(field: string, messages: string[]) => string} [message] the text for a field (default: the server's first message)
 * @returns {Record<string, string>} empty when the error names no field, or is not the server's
 */
function fieldErrors(err, message = (field, messages) => messages[0]) {
  /** @type {Record<string, string>} */
  const errors = {}
  if (!(err instanceof api.ApiError)) return errors
  for (const [field, messages] of Object.entries(err.fields)) errors[field] = message(field, messages)
  return errors
}

module.exports = { sendWithKey, fieldErrors, unanswered }
