const { load, flush, text, tap, apiError } = require('../helpers')

beforeEach(() => wx.setStorageSync('linli.token', 'tok'))

const residency = (id, name, district = '南山区') => ({ estate: { id, name, city: '深圳市', district }, source: 'binding', joined_at: '2026-11-01T02:00:00+00:00' })
const ME = { id: 5, display_name: '小李', avatar_url: null, phone: '13912345678', phone_confirmed: true, username: null, roles: ['resident'], created_at: '2026-11-01T02:00:00+00:00' }
const APPLICATION = { id: 31, status: 'pending', reason: null, channel: 'member', created_at: '2026-12-04T02:00:00+00:00', decided_at: null, reapply_after: null }

function routeForm({ status = { application: null, ambassador: null }, estates = [residency(12, '翠竹苑'), residency(13, '桃源居', '宝安区')], me = ME } = {}) {
  mp.route('GET', '/api/v1/ambassador/me', 200, status)
  mp.route('GET', '/api/v1/me/estates', 200, { items: estates })
  mp.route('GET', '/api/v1/me', 200, me)
}

async function open(options = {}) {
  const page = load('pages/apply/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

function type(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } })
}

const posts = () => mp.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/ambassador/applications')

test('the form: channels for a resident, my phone filled in, my estates to choose from', async () => {
  routeForm()
  const page = await open()
  expect(page.data.state).toBe('form')
  expect(page.querySelectorAll('.channel').map((c) => c.dom.textContent.trim())).toEqual(['会员', '代言人推荐'])
  expect(page.data.channel).toBe('member')
  expect(text(page, '.channel.active')).toBe('会员')
  expect(page.querySelector('.invite-code')).toBeUndefined()
  expect(page.data.phone).toBe('13912345678')
  expect(page.querySelectorAll('.estate')).toHaveLength(2)
  page.querySelectorAll('.channel')[1].dispatchEvent('tap')
  await flush()
  expect(page.data.channel).toBe('referral')
  expect(page.querySelector('.invite-code')).toBeTruthy()
})

test('an engineer may choose the engineer channel, and it comes first', async () => {
  routeForm({ me: { ...ME, roles: ['engineer'] } })
  const page = await open()
  expect(page.querySelectorAll('.channel').map((c) => c.dom.textContent.trim())).toEqual(['工程师', '会员', '代言人推荐'])
  expect(page.data.channel).toBe('engineer')
})

test('submitting sends the fields with an Idempotency-Key, estates in the order chosen, then shows the pending status', async () => {
  routeForm()
  mp.route('POST', '/api/v1/ambassador/applications', 201, APPLICATION)
  const page = await open({ invite_code: 'k7qx2m9p' })
  expect(page.data.channel).toBe('referral')
  expect(page.data.inviteCode).toBe('K7QX2M9P')
  type(page, '.real-name', ' 李小明 ')
  type(page, '.statement', '热心邻里事务')
  const estates = page.querySelectorAll('.estate')
  estates[1].dispatchEvent('tap')
  estates[0].dispatchEvent('tap')
  await flush()
  expect(page.querySelectorAll('.estate.checked')).toHaveLength(2)
  expect(text(page, '.card-title .small')).toBe('已选 2/5')
  await tap(page, '.submit')
  expect(posts()).toHaveLength(1)
  expect(posts()[0].data).toEqual({ channel: 'referral', real_name: '李小明', phone: '13912345678', estate_ids: [13, 12],
    statement: '热心邻里事务', invite_code: 'K7QX2M9P' })
  expect(posts()[0].header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
  expect(page.data.state).toBe('submitted')
  expect(text(page, '.done-title')).toBe('申请已提交')
  expect(text(page, '.done-text')).toContain('12月4日 10:00 提交')
  await tap(page, '.go-centre')
  expect(mp.called('redirectTo')[0].url).toBe('/pages/ambassador/index')
})

test('a 422 shows under the fields it names, in Chinese; typing clears the field error', async () => {
  routeForm()
  mp.route('POST', '/api/v1/ambassador/applications', 422, apiError('validation_error', '申请信息有误',
    { fields: { real_name: ['2 to 32 characters'], phone: ['a mainland China mobile number (11 digits starting with 13–19)'] } }))
  const page = await open()
  await tap(page, '.submit')
  expect(text(page, '.error-real_name')).toBe('请填写 2–32 个字的真实姓名')
  expect(text(page, '.error-phone')).toBe('请填写正确的 11 位手机号')
  expect(page.querySelector('.error-estate_ids')).toBeUndefined()
  expect(mp.called('showToast').pop().title).toBe('请检查标红的内容')
  type(page, '.real-name', '李小明')
  await flush()
  expect(page.querySelector('.error-real_name')).toBeUndefined()
  expect(text(page, '.error-phone')).toBe('请填写正确的 11 位手机号')
  // a refusal frees the key: the corrected form is a new request
  mp.route('POST', '/api/v1/ambassador/applications', 201, APPLICATION)
  await tap(page, '.submit')
  expect(posts()[1].header['Idempotency-Key']).not.toBe(posts()[0].header['Idempotency-Key'])
})

test('an unknown invite code and an unqualified channel are told where they belong', async () => {
  routeForm()
  mp.route('POST', '/api/v1/ambassador/applications', 422, apiError('invalid_invite_code', '邀请码无效或邀请人暂不能推荐新代言人',
    { fields: { invite_code: ['unknown, or its ambassador may not recruit'] } }))
  const page = await open({ invite_code: 'NOPE' })
  await tap(page, '.submit')
  expect(text(page, '.error-invite_code')).toBe('邀请码无效或邀请人暂不能推荐新代言人')
  await tap(page, '.channel')
  mp.route('POST', '/api/v1/ambassador/applications', 403, apiError('not_qualified', '您的会员等级暂不满足申请条件', { channel: 'member' }))
  await tap(page, '.submit')
  expect(text(page, '.error-channel')).toBe('您的会员等级暂不满足申请条件')
})

test('a lost answer is retried with the same key; a double tap sends once', async () => {
  routeForm()
  let answer = ['network']
  mp.route('POST', '/api/v1/ambassador/applications', () => answer)
  const page = await open()
  const submit = page.querySelector('.submit')
  submit.dispatchEvent('tap')
  submit.dispatchEvent('tap')
  await flush()
  expect(posts()).toHaveLength(1)
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  answer = [201, APPLICATION]
  await tap(page, '.submit')
  expect(posts()[1].header['Idempotency-Key']).toBe(posts()[0].header['Idempotency-Key'])
  expect(page.data.state).toBe('submitted')
})

test('an open application shows its status instead of the form; an ambassador is sent to the centre', async () => {
  routeForm({ status: { application: APPLICATION, ambassador: null } })
  let page = await open()
  expect(page.data.state).toBe('submitted')
  expect(page.querySelector('.submit')).toBeUndefined()
  routeForm({ status: { application: { ...APPLICATION, status: 'approved' }, ambassador: { status: 'active' } } })
  page = await open()
  expect(text(page, '.done-title')).toBe('您已经是服务代言人')
})

test('no estate yet: the form says to join one first', async () => {
  routeForm({ estates: [] })
  const page = await open()
  expect(text(page, '.no-estates .muted')).toContain('请先加入您居住的小区')
  await tap(page, '.join-estate')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/estates/index')
})

test('at most five estates', async () => {
  routeForm({ estates: [1, 2, 3, 4, 5, 6].map((i) => residency(i, `小区${i}`)) })
  const page = await open()
  const estates = page.querySelectorAll('.estate')
  for (const e of estates) e.dispatchEvent('tap')
  await flush()
  expect(page.data.chosen).toEqual([1, 2, 3, 4, 5])
  expect(mp.called('showToast').pop().title).toBe('最多选择 5 个小区')
  estates[0].dispatchEvent('tap')
  await flush()
  expect(page.data.chosen).toEqual([2, 3, 4, 5])
})

test('a failed load offers a retry', async () => {
  let fail = true
  mp.route('GET', '/api/v1/ambassador/me', () => (fail ? ['network'] : [200, { application: null, ambassador: null }]))
  mp.route('GET', '/api/v1/me/estates', 200, { items: [] })
  mp.route('GET', '/api/v1/me', 200, ME)
  const page = await open()
  expect(page.data.state).toBe('error')
  fail = false
  await tap(page, '.load-error >>> .action')
  expect(page.data.state).toBe('form')
})
