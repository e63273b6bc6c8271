const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 't'))

/** Answer every call of a ready 工作台; `override` replaces some answers: {path: [status, body]}. */
function routeReady(override = {}) {
  const answers = {
    '/api/v1/engineer/me': [200, F.engineerMe()],
    '/api/v1/engineers/3': [200, F.PROFILE],
    '/api/v1/me/points': [200, F.POINTS],
    '/api/v1/ambassador/me': [200, F.AMBASSADOR_ACTIVE],
    '/api/v1/engineer/service-orders/counts': [200, { assigned: 2, scheduled: 0 }],
    '/api/v1/engineer/questions': [200, { items: [F.question(1, '热水器漏水怎么办？'), F.question(2, '滤芯多久换？')], next_cursor: null }],
    '/api/v1/me': [200, F.ME],
    '/api/v1/engineer/reminders/counts': [200, F.CARE_COUNTS],
    '/api/v1/engineer/follow-ups': [200, { items: [F.followUp(1, { overdue: true, due_on: '2026-11-30' }), F.followUp(2)], next_cursor: null }],
    '/api/v1/engineer/health-alerts': [200, { items: [], next_cursor: null }],
    ...override,
  }
  for (const [path, [status, body]] of Object.entries(answers)) mp.route('GET', path, status, body)
}

async function ready(override) {
  routeReady(override)
  const page = load('pages/work/index')
  page.instance.onLoad()
  await flush()
  return page
}

test('who I am, my ranks, points, level and what waits for me', async () => {
  const page = await ready()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.name')).toBe('王建国工程师')
  expect(text(page, '.profile .muted')).toBe('工号 E1001 · 服务 2 个小区')
  expect(text(page, '.points .value')).toBe('320')
  expect(text(page, '.level .value')).toBe('铜牌代言人')
  expect(text(page, '.done .value')).toBe('41')
  expect(text(page, '.rating .value')).toBe('4.8')
  const ranks = page.querySelectorAll('.rank').map((r) => r.dom.textContent.replace(/\s+/g, ' ').trim())
  expect(ranks).toEqual(['翠竹苑综合 87.3第 2 名', '碧水湾暂未上榜'])
  expect(text(page, '.to-schedule .value')).toBe('2')
  expect(text(page, '.to-complete .value')).toBe('0')
  expect(text(page, '.to-answer .value')).toBe('2')
  expect(page.querySelector('.to-schedule .value').dom.className).toContain('hot')
  expect(page.querySelector('.to-complete .value').dom.className).not.toContain('hot')
  expect(mp.requests.find((r) => r.path === '/api/v1/engineer/questions').query.get('limit')).toBe('20')
  expect(text(page, '.web-account')).toBe('电脑端登录账号：E1001（工号）')
  expect(page.querySelector('.welcome')).toBeUndefined()
  expect(getApp().globalData.me).toEqual(F.ME)
})

test('the entries and the counts open the engineer pages', async () => {
  const page = await ready()
  const titles = page.querySelectorAll('.entry .entry-title').map((e) => e.dom.textContent)
  expect(titles).toEqual(['出示绑定码', '我的客户', '我的服务单', '小区问答', '发布上门安排'])
  await tap(page, '.entry-code')
  await tap(page, '.entry-customers')
  await tap(page, '.entry-visit')
  await tap(page, '.to-schedule')
  await tap(page, '.to-complete')
  await tap(page, '.to-answer')
  await tap(page, '.points')
  expect(mp.called('navigateTo').map((c) => c.url)).toEqual([
    '/pages/work/code/index', '/pages/work/customers/index', '/pages/work/visit/index',
    '/pages/work/orders/index?status=assigned', '/pages/work/orders/index?status=scheduled', '/pages/work/questions/index',
    '/pages/points/index'])
  await tap(page, '.rank')
  expect(getApp().globalData.estateId).toBe(12)
  expect(mp.called('switchTab')).toEqual([expect.objectContaining({ url: '/pages/estate/index' })])
})

test("my customers' care: due and overdue care, open follow-ups and alerts, each opening its page", async () => {
  const page = await ready({
    '/api/v1/engineer/health-alerts': [200, { items: Array.from({ length: 20 }, (_, i) => F.healthAlert(i + 1)), next_cursor: 'a2' }],
  })
  expect(text(page, '.care .card-title')).toBe('客户服务')
  expect([text(page, '.care-due .value'), text(page, '.care-overdue .value'), text(page, '.care-follow-ups .value'), text(page, '.care-alerts .value')])
    .toEqual(['2', '1', '2', '20+'])
  expect(page.querySelector('.care-overdue .value').dom.className).toContain('alarm')
  expect(page.querySelector('.care-alerts .value').dom.className).toContain('alarm')
  const query = (path) => Object.fromEntries(mp.requests.find((r) => r.path === path).query)
  expect(query('/api/v1/engineer/follow-ups')).toEqual({ status: 'open', limit: '20' })
  expect(query('/api/v1/engineer/health-alerts')).toEqual({ status: 'open', limit: '20' })
  await tap(page, '.care-due')
  await tap(page, '.care-overdue')
  await tap(page, '.care-follow-ups')
  await tap(page, '.care-alerts')
  expect(mp.called('navigateTo').map((c) => c.url)).toEqual([
    '/pages/work/reminders/index?status=due', '/pages/work/reminders/index?status=overdue',
    '/pages/work/follow-ups/index', '/pages/work/alerts/index'])
})

test("nothing due and no alerts are plain zeros; a failed care call leaves a dash", async () => {
  const page = await ready({
    '/api/v1/engineer/reminders/counts': [200, { due: 0, overdue: 0, snoozed: 0, booked: 0, done: 0 }],
    '/api/v1/engineer/follow-ups': ['network'],
  })
  expect(text(page, '.care-due .value')).toBe('0')
  expect(page.querySelector('.care-overdue .value').dom.className).not.toContain('alarm')
  expect(text(page, '.care-follow-ups .value')).toBe('—')
  expect(text(page, '.care-alerts .value')).toBe('0')
})

test('more questions than counted show as 20+, and an ambassador application under review says so', async () => {
  const many = Array.from({ length: 20 }, (_, i) => F.question(i + 1, `提问${i}`))
  const page = await ready({
    '/api/v1/engineer/questions': [200, { items: many, next_cursor: 'c2' }],
    '/api/v1/ambassador/me': [200, { application: { ...F.AMBASSADOR_ACTIVE.application, status: 'pending', decided_at: null }, ambassador: null }],
  })
  expect(text(page, '.to-answer .value')).toBe('20+')
  expect(text(page, '.level .value')).toBe('申请审核中')
})

test('a failed side call leaves a dash, the rest of the page shows', async () => {
  const page = await ready({
    '/api/v1/me/points': [500, apiError('server_error', '服务器开小差了')],
    '/api/v1/engineer/service-orders/counts': ['network'],
    '/api/v1/engineers/3': [404, apiError('engineer_not_found', '工程师不存在')],
    '/api/v1/ambassador/me': [200, F.AMBASSADOR_NONE],
  })
  expect(page.data.state).toBe('ready')
  expect(text(page, '.points .value')).toBe('—')
  expect(text(page, '.to-schedule .value')).toBe('—')
  expect(text(page, '.level .value')).toBe('未加入')
  expect(text(page, '.done .value')).toBe('—')
  // without the profile the estates still show, unranked
  expect(page.querySelectorAll('.rank .rank-place').map((r) => r.dom.textContent)).toEqual(['暂未上榜', '暂未上榜'])
})

test('coming back reloads the counts', async () => {
  const page = await ready()
  routeReady({ '/api/v1/engineer/service-orders/counts': [200, { assigned: 0, scheduled: 1 }] })
  page.instance.onShow()
  await flush()
  expect(text(page, '.to-schedule .value')).toBe('0')
  expect(text(page, '.to-complete .value')).toBe('1')
})

test('a network failure shows the error and a retry', async () => {
  mp.route('GET', '/api/v1/engineer/me', 'network')
  const page = load('pages/work/index')
  page.instance.onLoad()
  await flush()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('工作台加载失败，请检查网络')
  routeReady()
  await tap(page, '.load-error >>> .action')
  await flush()
  expect(page.data.state).toBe('ready')
})

describe('a user without the engineer role', () => {
  const forbidden = () => mp.route('GET', '/api/v1/engineer/me', 403, apiError('forbidden', '没有权限执行此操作'))

  test('is told what engineer mode is and may claim it with an invite code', async () => {
    forbidden()
    const page = load('pages/work/index')
    page.instance.onLoad()
    await flush()
    expect(page.data.state).toBe('outsider')
    expect(text(page, '.outsider-title')).toBe('我是工程师')
    expect(text(page, '.outsider')).toContain('首次使用请输入管理员发给您的邀请码激活账号')
    expect(text(page, '.outsider')).toContain('设置网页工作台密码')
    expect(page.querySelector('.outsider-message')).toBeUndefined()
    // nothing typed: said, nothing sent
    await tap(page, '.claim')
    expect(text(page, '.claim-error')).toBe('请输入邀请码')
    expect(mp.requests.filter((r) => r.method === 'POST')).toEqual([])

    mp.route('POST', '/api/v1/engineer/claim', (req) => (req.data.invite_code === 'GOOD1234'
      ? [200, F.engineerMe()] : [400, apiError('invite_code_invalid', '邀请码无效或已使用')]))
    page.instance.onInviteCode({ detail: { value: 'WRONG' } })
    await tap(page, '.claim')
    expect(text(page, '.claim-error')).toBe('邀请码无效或已使用')
    expect(page.data.state).toBe('outsider')

    getApp().globalData.me = { roles: ['resident'] }
    routeReady()
    page.instance.onInviteCode({ detail: { value: ' GOOD1234 ' } })
    await tap(page, '.claim')
    await flush()
    expect(mp.requests.filter((r) => r.method === 'POST').map((r) => r.data)).toEqual([{ invite_code: 'WRONG' }, { invite_code: 'GOOD1234' }])
    expect(page.data.state).toBe('ready')
    expect(text(page, '.welcome')).toContain('用工号 E1001 登录电脑端工作台')
    expect(mp.called('showToast').map((t) => t.title)).toContain('已激活')
    expect(getApp().globalData.me).toEqual(F.ME) // reloaded with the new role
  })

  test('an engineer who left is told so', async () => {
    mp.route('GET', '/api/v1/engineer/me', 403, apiError('not_engineer', '仅在职工程师可以使用'))
    const page = load('pages/work/index')
    page.instance.onLoad()
    await flush()
    expect(page.data.state).toBe('outsider')
    expect(text(page, '.outsider-message')).toBe('您的工程师账号已停用，如有疑问请联系管理员。')
  })

  test('an expired invite says what the server says; a network failure is a toast', async () => {
    forbidden()
    const page = load('pages/work/index')
    page.instance.onLoad()
    await flush()
    mp.route('POST', '/api/v1/engineer/claim', 410, apiError('invite_code_expired', '邀请码已过期，请联系管理员重新生成'))
    page.instance.onInviteCode({ detail: { value: 'OLD12345' } })
    await tap(page, '.claim')
    expect(text(page, '.claim-error')).toBe('邀请码已过期，请联系管理员重新生成')
    mp.route('POST', '/api/v1/engineer/claim', 'network')
    await tap(page, '.claim')
    expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  })
})

describe('the web workbench password', () => {
  test('a first password is proven with a fresh wx.login; the server says what a weak one lacks', async () => {
    const page = await ready()
    expect(page.querySelector('.current-password')).toBeUndefined()
    expect(text(page, '.save-password')).toBe('设置密码')
    await tap(page, '.save-password')
    expect(text(page, '.password-error')).toBe('请输入新密码')
    mp.route('PUT', '/api/v1/me/password', (req) => (req.data.password.length < 8
      ? [422, apiError('validation_error', '密码至少 8 位', { fields: { password: ['密码至少 8 位'] } })]
      : [204, null]))
    mp.loginCodes.push('fresh-1', 'fresh-2')
    page.instance.onPassword({ detail: { value: '1234' } })
    await tap(page, '.save-password')
    expect(text(page, '.password-error')).toBe('密码至少 8 位')
    page.instance.onPassword({ detail: { value: 'linli-2026!' } })
    expect(page.querySelector('.password-error')).toBeUndefined()
    await tap(page, '.save-password')
    expect(mp.requests.filter((r) => r.method === 'PUT').map((r) => r.data)).toEqual([
      { password: '1234', wechat_code: 'fresh-1' }, { password: 'linli-2026!', wechat_code: 'fresh-2' }])
    expect(page.data.password).toBe('')
    expect(text(page, '.web .label')).toBe('密码已设置，可再次修改')
    expect(mp.called('showToast').pop().title).toBe('密码已设置')
    expect(page.querySelector('.current-password')).toBeTruthy()  // the next change asks for this one
  })

  test('a set password is changed with the current one', async () => {
    const page = await ready({ '/api/v1/me': [200, { ...F.ME, has_password: true }] })
    expect(text(page, '.save-password')).toBe('修改密码')
    page.instance.onPassword({ detail: { value: 'linli-2027!' } })
    await tap(page, '.save-password')
    expect(text(page, '.password-error')).toBe('请输入当前密码')
    mp.route('PUT', '/api/v1/me/password', (req) => (req.data.current_password === 'linli-2026!'
      ? [204, null]
      : [422, apiError('validation_error', '当前密码不正确', { fields: { current_password: ['当前密码不正确'] } })]))
    page.instance.onCurrentPassword({ detail: { value: 'guess' } })
    await tap(page, '.save-password')
    expect(text(page, '.password-error')).toBe('当前密码不正确')
    page.instance.onCurrentPassword({ detail: { value: 'linli-2026!' } })
    await tap(page, '.save-password')
    expect(mp.requests.filter((r) => r.method === 'PUT').map((r) => r.data)).toEqual([
      { password: 'linli-2027!', current_password: 'guess' }, { password: 'linli-2027!', current_password: 'linli-2026!' }])
    expect(mp.loginCount).toBe(0)  // no wx.login: the current password is the proof
    expect(page.data.currentPassword).toBe('')
  })
})
