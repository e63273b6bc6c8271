const { load, flush, text, tap, apiError } = require('../helpers')

const STEWARD = { binding_id: 7, engineer: { id: 3, name: '王建国', photo_url: '/api/v1/uploads/p.jpg', status: 'active' },
  estate: { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }, since: '2026-12-04T10:00:00+08:00', rank: 2 }
const BOUND = { token: 'tok', user: { id: 5 }, result: 'created', steward: STEWARD, estate: STEWARD.estate,
  visit: { id: 1, rating: null }, points: { granted: 0, refused: null } }

function answerBinding(status, body) {
  mp.route('POST', '/api/v1/bindings', (req) => [status, typeof body === 'function' ? body(req) : body])
}

test('the scene is decoded, wx.login and one call bind the resident, and the steward card shows', async () => {
  answerBinding(200, BOUND)
  const page = load('pages/bind/index')
  expect(page.data.state).toBe('binding')
  page.instance.onLoad({ scene: encodeURIComponent('AbC-_9xyz') })
  await flush()
  expect(mp.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/v1/bindings'])
  expect(mp.requests[0].data).toEqual({ code: 'code-1', scene: 'AbC-_9xyz' })
  expect(mp.loginCount).toBe(1)
  expect(page.data.state).toBe('bound')
  expect(text(page, '.result-title')).toBe('绑定成功')
  expect(text(page, '.steward-card >>> .name')).toContain('王建国')
  expect(text(page, '.steward-card >>> .rank')).toBe('本小区工程师排名第 2 位')
  expect(page.querySelector('.steward-card').instance.data.photo).toBe('http://127.0.0.1:5000/api/v1/uploads/p.jpg')
  expect(wx.getStorageSync('linli.token')).toBe('tok')
  expect(getApp().globalData.estateId).toBe(12)
})

test.each([
  ['binding_code_expired', 410, '二维码已过期，请让工程师刷新后再扫', '刷新后再扫'],
  ['binding_code_invalid', 400, '二维码无效，请让工程师重新出示', '重新出示绑定码'],
  ['binding_code_used_up', 410, '该二维码使用次数已满，请让工程师刷新', '一户家庭'],
])('a refused code (%s) says what to do next, without a pointless retry', async (code, status, message, hint) => {
  answerBinding(status, apiError(code, message))
  const page = load('pages/bind/index')
  page.instance.onLoad({ scene: 'SCENE' })
  await flush()
  expect(page.data.state).toBe('error')
  expect(text(page, '.problem-title')).toBe(message)
  expect(text(page, '.problem .muted')).toContain(hint)
  expect(page.querySelector('.retry')).toBeUndefined()
})

test('a network failure offers a retry that binds with a fresh code', async () => {
  let calls = 0
  answerBinding(200, (req) => { calls += 1; return calls === 1 ? 'x' : { ...BOUND, echo: req.data.code } })
  mp.route('POST', '/api/v1/bindings', () => (calls++ === 0 ? ['network'] : [200, BOUND]))
  const page = load('pages/bind/index')
  page.instance.onLoad({ scene: 'SCENE' })
  await flush()
  expect(text(page, '.problem-title')).toBe('网络连接失败，请检查网络后重试')
  await tap(page, '.retry')
  expect(page.data.state).toBe('bound')
  expect(mp.requests.map((r) => r.data.code)).toEqual(['code-1', 'code-2'])
})

test('no scene: tells the resident to scan the code', async () => {
  const page = load('pages/bind/index')
  page.instance.onLoad({})
  await flush()
  expect(text(page, '.problem-title')).toBe('没有读到绑定码')
  expect(mp.requests).toEqual([])
})

test('rating sends the same binding call with the stars and says the points are pending', async () => {
  answerBinding(200, (req) => (req.data.rating ? { ...BOUND, result: 'unchanged', visit: { id: 1, rating: req.data.rating },
    points: { granted: 20, refused: null, pending: true } } : BOUND))
  const page = load('pages/bind/index')
  page.instance.onLoad({ scene: 'SCENE' })
  await flush()
  expect(page.querySelector('.comment')).toBeTruthy()
  page.querySelectorAll('.rating >>> .star')[3].dispatchEvent('tap')
  await flush()
  expect(page.data.rating).toBe(4)
  page.instance.onComment({ detail: { value: ' 准时 ' } })
  await tap(page, '.submit-rating')
  expect(mp.requests[1].data).toEqual({ code: 'code-2', scene: 'SCENE', rating: 4, comment: '准时' })
  expect(text(page, '.thanks')).toBe('感谢您的评价，20 积分待到账（完成一次服务、登记家电或改天再来看看后发放）')
})

test('points already released (a household known to be real) read as earned', async () => {
  answerBinding(200, (req) => (req.data.rating ? { ...BOUND, result: 'unchanged', visit: { id: 1, rating: req.data.rating },
    points: { granted: 20, refused: null, pending: false } } : BOUND))
  const page = load('pages/bind/index')
  page.instance.onLoad({ scene: 'SCENE' })
  await flush()
  page.querySelectorAll('.rating >>> .star')[4].dispatchEvent('tap')
  await flush()
  await tap(page, '.submit-rating')
  expect(text(page, '.thanks')).toBe('感谢您的评价，获得 20 积分')
})

test('the subscribe prompt opens only on a tap, for the visit, order and maintenance templates, and the acceptances reach the server', async () => {
  answerBinding(200, BOUND)
  mp.route('GET', '/api/v1/subscriptions/templates', 200, { templates: { visit: 'T_VISIT', order: 'T_ORDER', activity: 'T_ACT',
    redemption: 'T_REDEEM', maintenance: 'T_CARE' } })
  mp.route('POST', '/api/v1/me/subscriptions', (req) => [200, { quotas: { T_VISIT: 1, T_CARE: 1 }, got: req.data }])
  mp.subscribeAnswers = { T_VISIT: 'accept', T_ORDER: 'reject', T_CARE: 'accept' }
  const page = load('pages/bind/index')
  page.instance.onLoad({ scene: 'SCENE' })
  await flush()
  expect(mp.called('requestSubscribeMessage')).toEqual([])
  await tap(page, '.subscribe')
  await flush()
  expect(mp.called('requestSubscribeMessage')[0].tmplIds).toEqual(['T_VISIT', 'T_ORDER', 'T_CARE'])
  expect(mp.requests.find((r) => r.path === '/api/v1/me/subscriptions').data).toEqual({ template_ids: ['T_VISIT', 'T_CARE'] })
  expect(mp.called('showToast').pop().title).toBe('已开启 2 项提醒')
})

test('a resident whose steward is protected is told they joined the estate, with their steward', async () => {
  answerBinding(200, { ...BOUND, result: 'kept' })
  const page = load('pages/bind/index')
  page.instance.onLoad({ scene: 'SCENE' })
  await flush()
  expect(text(page, '.result-title')).toBe('已加入小区')
  await tap(page, '.go-estate')
  expect(mp.called('switchTab')).toEqual([expect.objectContaining({ url: '/pages/estate/index' })])
})
