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

/** An active estate at a place (lat, lng: GCJ-02, as wx.getLocation gives them), created by staff: the admin API's answer. */
async function estateAt(lat, lng, name) {
  const admin = await adminToken()
  const n = unique()
  return call('POST', '/api/v1/admin/estates', {
    name: name || `附近小区${n}`, province: '广东省', city: '深圳市', district: '南山区', address: `科技园路${n}号`,
    households: 500, lat, lng }, admin)
}

/**
 * A real image file for wx.chooseMedia to pick (mp.chosenMedia): a small PNG, written to a temp
 * dir, that the server's upload check decodes and re-encodes. Returns its path.
 * @param {number[]} rgb its colour
 */
function imageFile(rgb = [11, 122, 117]) {
  const fs = require('fs')
  const os = require('os')
  const path = require('path')
  const zlib = require('zlib')
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc32 = (buf) => {
    let c = 0xffffffff
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type, data) => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(data.length, 0)
    head.write(type, 4, 'ascii')
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
    return Buffer.concat([head, data, crc])
  }
  const width = 48
  const height = 32
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 2, 0, 0, 0], 8) // 8-bit RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())])
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(Array.from({ length: height }, () => row)))), chunk('IEND', Buffer.alloc(0))])
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'linli-photo-')), `photo-${unique()}.png`)
  fs.writeFileSync(file, png)
  return file
}

/** Run one scheduled job of the server now (serve.py's /_contract/jobs): its result. */
async function runJob(name) {
  return (await call('POST', `/_contract/jobs/${name}`)).result
}

/** Admin: a claimable coupon template (10 yuan off, 30 days from the claim, one a resident unless changed): its answer. */
async function couponTemplate(changes = {}) {
  return call('POST', '/api/v1/admin/coupon-templates', { name: '维修立减券', kind: 'amount', amount_fen: 1000, valid_days: 30,
    per_user_limit: 1, claimable: true, ...changes }, await adminToken())
}

/** Admin: a published activity for these estates, starting in 3 days (2 hours long, 30 seats unless changed): its answer. */
async function activity(estateIds, changes = {}) {
  const starts = new Date(Date.now() + 3 * 86400000)
  return call('POST', '/api/v1/admin/activities', { title: '社区义诊', place: '小区会所', starts_at: starts.toISOString(),
    ends_at: new Date(starts.getTime() + 2 * 3600000).toISOString(), capacity: 30, estate_ids: estateIds, ...changes }, await adminToken())
}

/** Admin: an offer of `kind` (coupon, activity, reward, ...) for the estates `rule` matches, live from now for a week, published: its answer. */
async function liveOffer(kind, refId, rule = {}, changes = {}) {
  const admin = await adminToken()
  const offer = await call('POST', '/api/v1/admin/offers', { kind, ref_id: refId, rule, starts_at: new Date(Date.now() - 60000).toISOString(),
    ends_at: new Date(Date.now() + 7 * 86400000).toISOString(), ...changes }, admin)
  return call('POST', `/api/v1/admin/offers/${offer.id}/publish`, undefined, admin)
}

module.exports = { call, wechat, adminToken, wechatLogin, estateWithEngineer, unique, estateAt, imageFile, runJob, couponTemplate, activity,
  liveOffer }
