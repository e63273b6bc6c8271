/**
 * utils/form: a write sent with an Idempotency-Key the page keeps for a retry, and a refusal's
 * field errors.
 */
const simulate = require('miniprogram-simulate')
const { apiError } = require('../helpers')

/** A fresh form module with its own api module, and a page to keep the keys in. */
function setup() {
  let form
  let api
  jest.isolateModules(() => {
    api = require('../../src/utils/api')
    form = require('../../src/utils/form')
  })
  const id = simulate.load({ template: '<view></view>', data: { key: '', keys: {} } })
  const page = simulate.render(id)
  page.attach(document.createElement('parent-wrapper'))
  mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
  return { form, api, page: page.instance }
}

const sentKeys = (path) => mp.requests.filter((r) => r.method === 'POST' && r.path === path).map((r) => r.header['Idempotency-Key'])

test('the key goes in the header with the page\'s own headers; after the answer it is dropped', async () => {
  const { form, page } = setup()
  mp.route('POST', '/api/v1/things', (req) => [201, { id: 1, got: req.data }])
  const made = await form.sendWithKey(page, 'key', '/api/v1/things', { method: 'POST', data: { a: 1 }, header: { 'X-Trace': 'z' } })
  expect(made).toEqual({ id: 1, got: { a: 1 } })
  const [sent] = mp.requests.filter((r) => r.path === '/api/v1/things')
  expect(sent.header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
  expect(sent.header['X-Trace']).toBe('z')
  expect(page.data.key).toBe('')
  await form.sendWithKey(page, 'key', '/api/v1/things', { method: 'POST', data: { a: 1 } })
  const keys = sentKeys('/api/v1/things')
  expect(keys[1]).not.toBe(keys[0]) // a new write, a new key
})

test('no answer or a server failure: the key is kept, so the retry sends the same one', async () => {
  const { form, page } = setup()
  const answers = [['network'], [502, {}], [201, { id: 1 }]]
  mp.route('POST', '/api/v1/things', () => answers.shift())
  await expect(form.sendWithKey(page, 'key', '/api/v1/things', { method: 'POST' })).rejects.toMatchObject({ status: 0 })
  expect(page.data.key).not.toBe('')
  await expect(form.sendWithKey(page, 'key', '/api/v1/things', { method: 'POST' })).rejects.toMatchObject({ status: 502 })
  await form.sendWithKey(page, 'key', '/api/v1/things', { method: 'POST' })
  const keys = sentKeys('/api/v1/things')
  expect(new Set(keys).size).toBe(1)
  expect(page.data.key).toBe('')
})

test('a refusal drops the key: the corrected form is a new write', async () => {
  const { form, page } = setup()
  const answers = [[422, apiError('validation_error', '提交的数据有误', { fields: { a: ['必填'] } })], [201, { id: 1 }]]
  mp.route('POST', '/api/v1/things', () => answers.shift())
  await expect(form.sendWithKey(page, 'key', '/api/v1/things', { method: 'POST' })).rejects.toMatchObject({ status: 422 })
  expect(page.data.key).toBe('')
  await form.sendWithKey(page, 'key', '/api/v1/things', { method: 'POST' })
  const keys = sentKeys('/api/v1/things')
  expect(keys[1]).not.toBe(keys[0])
})

test('one key a row: a data path keeps each row\'s key apart', async () => {
  const { form, page } = setup()
  const answers = { 3: [['network'], [201, { id: 3 }]], 4: [[201, { id: 4 }]] }
  mp.route('POST', '/api/v1/redemptions', (req) => answers[req.data.reward_id].shift())
  await expect(form.sendWithKey(page, 'keys.3', '/api/v1/redemptions', { method: 'POST', data: { reward_id: 3 } })).rejects.toBeTruthy()
  const kept = page.data.keys[3]
  expect(kept).toBeTruthy()
  await form.sendWithKey(page, 'keys.4', '/api/v1/redemptions', { method: 'POST', data: { reward_id: 4 } })
  expect(page.data.keys[3]).toBe(kept)
  await form.sendWithKey(page, 'keys.3', '/api/v1/redemptions', { method: 'POST', data: { reward_id: 3 } })
  const keys = sentKeys('/api/v1/redemptions')
  expect(keys[2]).toBe(keys[0])
  expect(keys[1]).not.toBe(keys[0])
  expect(page.data.keys).toEqual({ 3: '', 4: '' })
})

test('unanswered: no answer, a server failure or not the server\'s error; an answer is not', () => {
  const { form, api } = setup()
  expect(form.unanswered(new api.ApiError(0, 'timeout', '网络连接失败'))).toBe(true)
  expect(form.unanswered(new api.ApiError(500, 'server_error', '服务器开小差了'))).toBe(true)
  expect(form.unanswered(new TypeError('x'))).toBe(true)
  expect(form.unanswered(new api.ApiError(409, 'conflict', '冲突'))).toBe(false)
  expect(form.unanswered(new api.ApiError(422, 'validation_error', '提交的数据有误'))).toBe(false)
})

test('fieldErrors: the first message of each field, or the page\'s own text for it', () => {
  const { form, api } = setup()
  const err = new api.ApiError(422, 'validation_error', '提交的数据有误', { fields: { phone: ['手机号格式不对', '太短'], building: ['必填'] } })
  expect(form.fieldErrors(err)).toEqual({ phone: '手机号格式不对', building: '必填' })
  expect(form.fieldErrors(err, (field) => (field === 'phone' ? '请填写 11 位手机号' : err.message)))
    .toEqual({ phone: '请填写 11 位手机号', building: '提交的数据有误' })
  expect(form.fieldErrors(new api.ApiError(409, 'conflict', '冲突'))).toEqual({})
  expect(form.fieldErrors(new Error('x'))).toEqual({})
})
