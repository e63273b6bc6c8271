const { apiError, flush } = require('../helpers')

function freshApi() {
  let api
  jest.isolateModules(() => { api = require('../../src/utils/api') })
  return api
}

test('no token: one login, then the call with the bearer token', async () => {
  const api = freshApi()
  mp.route('POST', '/api/v1/auth/wechat-login', (req) => [200, { token: `t-${req.data.code}`, user: { id: 1 } }])
  mp.route('GET', '/api/v1/me', (req) => [200, { id: 1, auth: req.header.Authorization }])
  const me = await api.request('/api/v1/me')
  expect(me.auth).toBe('Bearer t-code-1')
  expect(wx.getStorageSync('linli.token')).toBe('t-code-1')
  expect(mp.loginCount).toBe(1)
})

test('concurrent callers share one login', async () => {
  const api = freshApi()
  mp.route('POST', '/api/v1/auth/wechat-login', (req) => [200, { token: `t-${req.data.code}` }])
  mp.route('GET', /^\/api\/v1\/me\//, (req) => [200, { path: req.path, auth: req.header.Authorization }])
  const results = await Promise.all(['estates', 'stewards', 'points'].map((p) => api.request(`/api/v1/me/${p}`)))
  expect(mp.loginCount).toBe(1)
  expect(results.map((r) => r.auth)).toEqual(['Bearer t-code-1', 'Bearer t-code-1', 'Bearer t-code-1'])
})

test('a 401 logs in again once and replays the queued calls', async () => {
  const api = freshApi()
  wx.setStorageSync('linli.token', 'expired')
  mp.route('POST', '/api/v1/auth/wechat-login', (req) => [200, { token: `fresh-${req.data.code}` }])
  mp.route('GET', /^\/api\/v1\//, (req) => req.header.Authorization === 'Bearer expired'
    ? [401, apiError('invalid_token', '登录已失效，请重新登录')] : [200, { ok: req.path }])
  const results = await Promise.all([api.request('/api/v1/a'), api.request('/api/v1/b')])
  expect(results).toEqual([{ ok: '/api/v1/a' }, { ok: '/api/v1/b' }])
  expect(mp.loginCount).toBe(1)
  expect(wx.getStorageSync('linli.token')).toBe('fresh-code-1')
})

test('a second 401 after the new login is an error, not a loop', async () => {
  const api = freshApi()
  mp.route('POST', '/api/v1/auth/wechat-login', () => [200, { token: 'always-refused' }])
  mp.route('GET', '/api/v1/me', () => [401, apiError('invalid_token', '登录已失效，请重新登录')])
  wx.setStorageSync('linli.token', 'old')
  await expect(api.request('/api/v1/me')).rejects.toMatchObject({ status: 401, code: 'invalid_token' })
  expect(mp.loginCount).toBe(1)
})

test('errors keep the server message and fields; the network and 5xx become Chinese messages', async () => {
  const api = freshApi()
  wx.setStorageSync('linli.token', 't')
  mp.route('POST', '/api/v1/me/addresses', () => [422, apiError('validation_error', '提交的数据有误', { fields: { contact_phone: ['手机号格式不对'] } })])
  mp.route('GET', '/api/v1/boom', () => [500, '<html>oops</html>'])
  mp.route('GET', '/api/v1/offline', () => ['network'])
  const refused = await api.request('/api/v1/me/addresses', { method: 'POST', data: {} }).catch((e) => e)
  expect(refused).toBeInstanceOf(api.ApiError)
  expect(refused.fields).toEqual({ contact_phone: ['手机号格式不对'] })
  const broken = await api.request('/api/v1/boom').catch((e) => e)
  expect([broken.status, broken.message]).toEqual([500, '服务器开小差了，请稍后再试'])
  const offline = await api.request('/api/v1/offline').catch((e) => e)
  expect([offline.status, offline.code, offline.message]).toEqual([0, 'network_error', '网络连接失败，请检查网络后重试'])
  api.showError(refused)
  expect(mp.called('showToast')[0]).toMatchObject({ title: '提交的数据有误', icon: 'none' })
})

test('bind sends a fresh wx.login code with the scene and keeps the token', async () => {
  const api = freshApi()
  mp.loginCodes = ['scan-code']
  mp.route('POST', '/api/v1/bindings', (req) => [200, { token: 'bound', echo: req.data }])
  const result = await api.bind('SCENE28')
  expect(result.echo).toEqual({ code: 'scan-code', scene: 'SCENE28' })
  expect(wx.getStorageSync('linli.token')).toBe('bound')
  await flush()
})

test('the client holds no secret', () => {
  const fs = require('fs')
  const path = require('path')
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => d.isDirectory()
    ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)])
  const sources = walk(path.resolve(__dirname, '../../src')).filter((f) => /\.(js|json|wxml)$/.test(f))
  for (const file of sources) {
    const content = fs.readFileSync(file, 'utf8')
    // an app secret, a session key, or a key-like hex string assigned anywhere
    expect([file, /appsecret|session_?key|secret['"]?\s*=|['"]secret['"]\s*:|[0-9a-f]{32}/i.test(content)]).toEqual([file, false])
  }
})
