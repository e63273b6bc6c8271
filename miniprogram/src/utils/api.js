// @ts-check
/**
 * The one API module: every call to the Linli server goes through `request` (a wrapper over
 * wx.request). It keeps the bearer token in storage, logs in with one shared `wx.login` →
 * `POST /api/v1/auth/wechat-login` when there is no token, and on a 401 logs in again once and
 * replays the call. Every error becomes an `ApiError` with the server's Chinese message, which
 * `showError` puts in a toast. The client holds no secret: only the token WeChat's code bought.
 */
const config = require('../config')

/**
 * @typedef {'GET' | 'POST' | 'PUT' | 'DELETE'} Method  (wx.request has no PATCH)
 * @typedef {{ method?: Method, data?: any, auth?: boolean, header?: Record<string, string> }} RequestOptions
 * @typedef {{ statusCode: number, data: any, header?: Record<string, string> }} RawResponse
 */

/** An error the server answered (its one shape: {error: {code, message, details}}) or the network's. */
class ApiError extends Error {
  /**
   * @param {number} status HTTP status; 0 when the request never reached the server
   * @param {string} code the server's snake_case code (network_error, timeout, ...)
   * @param {string} message Chinese, for the user
   * @param {Record<string, any>} [details]
   */
  constructor(status, code, message, details) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details || {}
  }

  /** Field errors of a 422, by field name: {phone: ['手机号格式不对']}. */
  get fields() {
    return /** @type {Record<string, string[]>} */ (this.details.fields || {})
  }
}

const NETWORK_MESSAGE = '网络连接失败，请检查网络后重试'
const SERVER_MESSAGE = '服务器开小差了，请稍后再试'

/** @type {Promise<string> | null} the login in flight, shared by every caller that needs a token */
let loggingIn = null

function token() {
  return /** @type {string} */ (wx.getStorageSync(config.tokenKey)) || ''
}

/** @param {string} value */
function setToken(value) {
  if (value) wx.setStorageSync(config.tokenKey, value)
  else wx.removeStorageSync(config.tokenKey)
}

/**
 * wx.request as a promise of the raw response; a network failure rejects with an ApiError.
 * @param {string} path
 * @param {RequestOptions} options
 * @param {string} [bearer]
 * @returns {Promise<RawResponse>}
 */
function send(path, options, bearer) {
  /** @type {Record<string, string>} */
  const header = { 'Content-Type': 'application/json', ...(options.header || {}) }
  if (bearer) header.Authorization = `Bearer ${bearer}`
  return new Promise((resolve, reject) => {
    wx.request({
      url: config.apiBase + path,
      method: options.method || 'GET',
      data: options.data,
      header,
      timeout: config.timeoutMs,
      success: (res) => resolve({ statusCode: res.statusCode, data: res.data, header: /** @type {any} */ (res.header) }),
      fail: (err) => {
        const timedOut = /timeout/i.test((err && err.errMsg) || '')
        reject(new ApiError(0, timedOut ? 'timeout' : 'network_error', NETWORK_MESSAGE))
      },
    })
  })
}

/**
 * The error a response carries.
 * @param {RawResponse} res
 */
function errorOf(res) {
  const body = res.data && typeof res.data === 'object' ? res.data.error : null
  if (body && body.message) return new ApiError(res.statusCode, body.code || 'error', body.message, body.details)
  return new ApiError(res.statusCode, 'server_error', SERVER_MESSAGE)
}

/** A fresh one-shot code from wx.login. @returns {Promise<string>} */
function wxCode() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res.code ? resolve(res.code) : reject(new ApiError(0, 'login_failed', '微信登录失败，请重试'))),
      fail: () => reject(new ApiError(0, 'login_failed', '微信登录失败，请重试')),
    })
  })
}

/**
 * Log in (once for every concurrent caller): wx.login, then our server exchanges the code.
 * @returns {Promise<string>} the new token
 */
function login() {
  if (!loggingIn) {
    loggingIn = (async () => {
      const res = await send('/api/v1/auth/wechat-login', { method: 'POST', data: { code: await wxCode() } })
      if (res.statusCode !== 200) throw errorOf(res)
      setToken(res.data.token)
      return /** @type {string} */ (res.data.token)
    })()
    const done = () => { loggingIn = null }
    loggingIn.then(done, done)
  }
  return loggingIn
}

/**
 * Call the API: `await request('/api/v1/me/estates')`, `await request('/api/v1/me/estates', {method: 'POST', data})`.
 * Resolves with the response body (null for a 204); rejects with an ApiError.
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
async function request(path, options = {}) {
  const auth = options.auth !== false
  let bearer = ''
  if (auth) bearer = loggingIn ? await loggingIn : (token() || await login())
  let res = await send(path, options, bearer)
  if (res.statusCode === 401 && auth) {
    // Another call may have logged in meanwhile: use its token; else log in again, once.
    const current = token()
    bearer = current && current !== bearer ? current : (setToken(''), await login())
    res = await send(path, options, bearer)
  }
  if (res.statusCode >= 400) throw errorOf(res)
  return res.statusCode === 204 ? null : res.data
}

/**
 * The binding call after a scan: a fresh wx.login code and the scene in one request, which logs
 * the resident in and binds them (two round trips after the scan, no typing).
 * @param {string} scene the decoded `scene` of the binding code
 * @param {{ rating?: number, comment?: string }} [extra]
 */
async function bind(scene, extra = {}) {
  const res = await send('/api/v1/bindings', { method: 'POST', data: { code: await wxCode(), scene, ...extra } })
  if (res.statusCode >= 400) throw errorOf(res)
  setToken(res.data.token)
  return res.data
}

/**
 * Upload a local image (from wx.chooseMedia or chooseAvatar) and get its id (what the API takes in `photos`) and url.
 * @param {string} filePath
 * @returns {Promise<{ id: string, url: string }>}
 */
async function upload(filePath) {
  const attempt = (/** @type {string} */ bearer) => new Promise((resolve, reject) => {
    wx.uploadFile({
      url: `${config.apiBase}/api/v1/uploads`,
      filePath,
      name: 'file',
      header: { Authorization: `Bearer ${bearer}` },
      success: (res) => {
        let data = res.data
        try { data = JSON.parse(/** @type {string} */ (res.data)) } catch (e) { /* not JSON: an error page */ }
        resolve({ statusCode: res.statusCode, data })
      },
      fail: () => reject(new ApiError(0, 'network_error', NETWORK_MESSAGE)),
    })
  })
  let bearer = loggingIn ? await loggingIn : (token() || await login())
  let res = /** @type {RawResponse} */ (await attempt(bearer))
  if (res.statusCode === 401) {
    setToken('')
    bearer = await login()
    res = /** @type {RawResponse} */ (await attempt(bearer))
  }
  if (res.statusCode >= 400) throw errorOf(res)
  return res.data
}

/**
 * Show an error to the user: the server's Chinese message in a toast.
 * @param {unknown} err
 */
function showError(err) {
  const message = err instanceof ApiError ? err.message : SERVER_MESSAGE
  wx.showToast({ title: message, icon: 'none', duration: 2500 })
}

/**
 * The address of a file the API names by path (an upload: "/api/v1/uploads/<name>").
 * @param {string | null | undefined} path
 */
function mediaUrl(path) {
  if (!path) return ''
  return path.startsWith('/') ? config.apiBase + path : path
}

/**
 * A fresh Idempotency-Key: make one per form (or per tap that writes) and send it with every
 * attempt of that write (`header: {'Idempotency-Key': key}`), so a double tap or a retry after a
 * lost answer does the thing once; make a new one when the form changes.
 */
function newKey() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`
}

/** Forget the token (logout, or tests). */
function reset() {
  setToken('')
  loggingIn = null
}

module.exports = { ApiError, request, login, bind, upload, mediaUrl, showError, reset, token, newKey, wxCode }
