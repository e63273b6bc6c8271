/**
 * Runs before every test file (jest `setupFiles`), in jsdom. miniprogram-simulate defines
 * `Component` and a `wx` whose async calls all "succeed" with canned data; we replace the parts
 * the mini-program relies on with ones a test controls (the `mp` global):
 *
 * - storage in memory (the real one persists; simulate's forgets everything);
 * - `wx.login` codes: in unit tests `mp.loginCodes` (a queue, else "code-N"); in contract tests
 *   a real one-shot code from the fake WeChat for `mp.openid`;
 * - `wx.request` / `wx.uploadFile`: in unit tests answered by `mp.route(...)` (anything not routed
 *   fails the test); in contract tests forwarded to the live server started by globalSetup;
 * - `wx.requestSubscribeMessage`: answers per template from `mp.subscribeAnswers`;
 * - `wx.scanCode`: answers with `mp.scanResult` (null: cancelled);
 * - the UI calls (toast, modal, navigation, phone, clipboard...) are recorded in `mp.calls`.
 */
require('miniprogram-simulate')
const http = require('http')
const fs = require('fs')
const path = require('path')

// The contract project (jest.config.js) talks to the server its globalSetup started.
const CONTRACT = Boolean(global.LINLI_CONTRACT)

const store = new Map()
const routes = []

/** @type {any} */
const mp = {
  calls: [],
  unexpected: [],
  requests: [],
  loginCodes: [],
  loginCount: 0,
  openid: `o_test_${process.pid}_${Date.now()}`,
  subscribeAnswers: {},
  modalConfirm: true,
  chosenMedia: [],
  /** wx.getLocation's answer ({latitude, longitude}); null = the user refused */
  location: null,
  /** wx.showActionSheet's tapped index; null = cancelled */
  actionSheetIndex: null,
  /** wx.scanCode's result (the code's text); null = the user cancelled the scan */
  scanResult: null,
  /** Answer `method path` (path without the query; a RegExp matches the path) with a status and body, or a function (req) => [status, body]. Status 'network' fails the request, 'never' leaves it pending. */
  route(method, pathOrRe, status, body) {
    routes.unshift({ method, pathOrRe, answer: typeof status === 'function' ? status : () => [status, body] })
  },
  /** The recorded calls of one wx API (e.g. 'showToast'). */
  called(api) {
    return this.calls.filter((c) => c.api === api).map((c) => c.args)
  },
  reset() {
    store.clear()
    routes.length = 0
    this.calls = []
    this.unexpected = []
    this.requests = []
    this.loginCodes = []
    this.loginCount = 0
    this.subscribeAnswers = {}
    this.modalConfirm = true
    this.chosenMedia = []
    this.location = null
    this.actionSheetIndex = null
    this.scanResult = null
  },
}
global.mp = mp

function record(api) {
  return (args = {}) => {
    mp.calls.push({ api, args })
    if (args.success) setTimeout(() => args.success({ errMsg: `${api}:ok` }), 0)
    if (args.complete) setTimeout(() => args.complete({ errMsg: `${api}:ok` }), 0)
  }
}

// -- storage ------------------------------------------------------------------------------------

Object.assign(global.wx, {
  getStorageSync: (key) => (store.has(key) ? store.get(key) : ''),
  setStorageSync: (key, value) => { store.set(key, value) },
  removeStorageSync: (key) => { store.delete(key) },
  clearStorageSync: () => { store.clear() },
})

// -- the UI: recorded ----------------------------------------------------------------------------

for (const api of ['showToast', 'hideToast', 'showLoading', 'hideLoading', 'navigateTo', 'redirectTo',
  'switchTab', 'reLaunch', 'navigateBack', 'makePhoneCall', 'setClipboardData', 'previewImage',
  'setNavigationBarTitle', 'stopPullDownRefresh', 'startPullDownRefresh', 'vibrateShort', 'showShareMenu',
  'saveImageToPhotosAlbum', 'pageScrollTo', 'openSetting', 'setScreenBrightness', 'setKeepScreenOn']) {
  global.wx[api] = record(api)
}
global.wx.showModal = (args = {}) => {
  mp.calls.push({ api: 'showModal', args })
  setTimeout(() => args.success && args.success({ confirm: mp.modalConfirm, cancel: !mp.modalConfirm }), 0)
}
global.wx.chooseMedia = (args = {}) => {
  mp.calls.push({ api: 'chooseMedia', args })
  const files = mp.chosenMedia.slice(0, args.count || 9)
  setTimeout(() => {
    if (files.length) args.success && args.success({ tempFiles: files.map((f) => ({ tempFilePath: f, size: 1000, fileType: 'image' })), type: 'image' })
    else args.fail && args.fail({ errMsg: 'chooseMedia:fail cancel' })
  }, 0)
}
global.wx.getLocation = (args = {}) => {
  mp.calls.push({ api: 'getLocation', args })
  setTimeout(() => {
    if (mp.location) args.success && args.success({ ...mp.location, errMsg: 'getLocation:ok' })
    else args.fail && args.fail({ errMsg: 'getLocation:fail auth deny' })
  }, 0)
}
global.wx.showActionSheet = (args = {}) => {
  mp.calls.push({ api: 'showActionSheet', args })
  setTimeout(() => {
    if (mp.actionSheetIndex === null) args.fail && args.fail({ errMsg: 'showActionSheet:fail cancel' })
    else args.success && args.success({ tapIndex: mp.actionSheetIndex, errMsg: 'showActionSheet:ok' })
  }, 0)
}
global.wx.scanCode = (args = {}) => {
  mp.calls.push({ api: 'scanCode', args })
  setTimeout(() => {
    if (mp.scanResult === null) args.fail && args.fail({ errMsg: 'scanCode:fail cancel' })
    else args.success && args.success({ result: mp.scanResult, scanType: 'CODE_128', charSet: 'utf-8', errMsg: 'scanCode:ok' })
  }, 0)
}
global.wx.requestSubscribeMessage = (args = {}) => {
  mp.calls.push({ api: 'requestSubscribeMessage', args })
  const result = { errMsg: 'requestSubscribeMessage:ok' }
  for (const id of args.tmplIds || []) result[id] = mp.subscribeAnswers[id] || 'reject'
  setTimeout(() => { args.success && args.success(result); args.complete && args.complete(result) }, 0)
}
global.getApp = () => global.__linliApp || { globalData: {} }
global.App = (definition) => { global.__linliApp = definition }
global.getCurrentPages = () => []

// -- wx.login -------------------------------------------------------------------------------------

function postJson(url, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body)
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve(JSON.parse(text || '{}')))
    })
    req.on('error', reject)
    req.end(data)
  })
}

global.wx.login = (args = {}) => {
  mp.loginCount += 1
  const done = (code) => { args.success && args.success({ code, errMsg: 'login:ok' }); args.complete && args.complete({}) }
  if (CONTRACT) {
    postJson(`${process.env.LINLI_WECHAT}_fake/codes`, { openid: mp.openid }).then((res) => done(res.code),
      () => args.fail && args.fail({ errMsg: 'login:fail' }))
  } else {
    setTimeout(() => done(mp.loginCodes.length ? mp.loginCodes.shift() : `code-${mp.loginCount}`), 0)
  }
}

// -- wx.request and wx.uploadFile ------------------------------------------------------------------

function answerLocally(method, url, data, header) {
  const { pathname, search } = new URL(url)
  const req = { method, path: pathname, query: new URLSearchParams(search), data, header }
  mp.requests.push(req)
  for (const r of routes) {
    const matches = r.pathOrRe instanceof RegExp ? r.pathOrRe.test(pathname) : r.pathOrRe === pathname
    if (r.method === method && matches) return r.answer(req)
  }
  mp.unexpected.push(`${method} ${pathname}`)
  return [404, { error: { code: 'not_routed', message: `测试未设置 ${method} ${pathname}`, details: {} } }]
}

function forward(method, url, body, header) {
  const target = new URL(url)
  const live = new URL(process.env.LINLI_API)
  target.protocol = live.protocol
  target.host = live.host
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method, headers: header, agent: false }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let data = text
        if (text && (res.headers['content-type'] || '').includes('json')) data = JSON.parse(text)
        resolve({ statusCode: res.statusCode, data, header: res.headers })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

global.wx.request = (args = {}) => {
  const method = (args.method || 'GET').toUpperCase()
  let url = args.url
  let body
  if (args.data !== undefined && args.data !== null) {
    if (method === 'GET') {
      const query = new URLSearchParams()
      for (const [k, v] of Object.entries(args.data)) if (v !== undefined && v !== null && v !== '') query.append(k, String(v))
      const q = query.toString()
      if (q) url += (url.includes('?') ? '&' : '?') + q
    } else {
      body = JSON.stringify(args.data)
    }
  }
  const finish = (res) => { args.success && args.success({ ...res, errMsg: 'request:ok' }); args.complete && args.complete(res) }
  const fail = (err) => { args.fail && args.fail({ errMsg: `request:fail ${err && err.message}` }); args.complete && args.complete({}) }
  if (CONTRACT) {
    const { pathname, search } = new URL(url)
    mp.requests.push({ method, path: pathname, query: new URLSearchParams(search), data: body ? JSON.parse(body) : args.data, header: args.header || {} })
    forward(method, url, body, args.header || {}).then(finish, fail)
  } else {
    setTimeout(() => {
      const [statusCode, data] = answerLocally(method, url, body ? JSON.parse(body) : args.data, args.header || {})
      if (statusCode === 'network') fail(new Error('network down'))
      else if (statusCode !== 'never') finish({ statusCode, data, header: {} }) // 'never': still loading
    }, 0)
  }
  return { abort() {} }
}

global.wx.uploadFile = (args = {}) => {
  const finish = (res) => args.success && args.success({ ...res, errMsg: 'uploadFile:ok' })
  const fail = () => args.fail && args.fail({ errMsg: 'uploadFile:fail' })
  if (!CONTRACT) {
    setTimeout(() => {
      const [statusCode, data] = answerLocally('POST', args.url, { file: args.filePath }, args.header || {})
      finish({ statusCode, data: JSON.stringify(data) })
    }, 0)
    return
  }
  const boundary = `----linli${Date.now()}`
  const file = fs.readFileSync(args.filePath)
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${args.name}"; filename="${path.basename(args.filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const body = Buffer.concat([head, file, tail])
  forward('POST', args.url, body, { ...(args.header || {}), 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': body.length })
    .then((res) => finish({ statusCode: res.statusCode, data: typeof res.data === 'string' ? res.data : JSON.stringify(res.data) }), fail)
}

beforeEach(() => mp.reset())
afterEach(() => {
  if (!CONTRACT && mp.unexpected.length) {
    const unexpected = mp.unexpected.slice()
    mp.unexpected = []
    throw new Error(`requests the test did not route: ${unexpected.join(', ')}`)
  }
})
