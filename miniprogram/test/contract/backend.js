/**
 * What the contract tests do around the mini-program, straight against the live server: staff
 * set up estates and engineers, an engineer logs in with their own WeChat account.
 */
const http = require('http')

function call(method, path, body, token) {
  const url = new URL(path, process.env.LINLI_API)
  const data = body === undefined ? undefined : JSON.stringify(body)
  const headers = { 'Content-Type': 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  if (data) headers['Content-Length'] = Buffer.byteLength(data)
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => {
        const json = text ? JSON.parse(text) : null
        if (res.statusCode >= 400) reject(new Error(`${method} ${path} → ${res.statusCode} ${text}`))
        else resolve(json)
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}

function wechat(path, body) {
  const url = new URL(path, process.env.LINLI_WECHAT)
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body || {})
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve(JSON.parse(text || '{}')))
    })
    req.on('error', reject)
    req.end(data)
  })
}

let counter = 0
const unique = () => `${process.pid}${Date.now() % 100000}${(counter += 1)}`

async function adminToken() {
  const { username, password } = JSON.parse(process.env.LINLI_ADMIN)
  return (await call('POST', '/api/v1/auth/password-login', { username, password })).token
}

/** A resident or engineer logged in through WeChat with `openid`: their token. */
async function wechatLogin(openid) {
  const { code } = await wechat('_fake/codes', { openid })
  return (await call('POST', '/api/v1/auth/wechat-login', { code })).token
}

/** An estate, and an engineer covering it who claimed their profile: {estate, engineer, token}. */
async function estateWithEngineer(name = '王建国') {
  const admin = await adminToken()
  const n = unique()
  const estate = await call('POST', '/api/v1/admin/estates', {
    name: `契约小区${n}`, province: '广东省', city: '深圳市', district: '南山区', households: 800 }, admin)
  const created = await call('POST', '/api/v1/admin/engineers', {
    name, phone: '13800138000', employee_no: `C${n}`, estate_ids: [estate.id] }, admin)
  const token = await wechatLogin(`o_engineer_${n}`)
  await call('POST', '/api/v1/engineer/claim', { invite_code: created.invite_code }, token)
  return { estate, engineer: created, token, admin }
}

module.exports = { call, wechat, adminToken, wechatLogin, estateWithEngineer, unique }
